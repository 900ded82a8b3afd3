"""Stand-in Ollama and vLLM (OpenAI-compatible) servers for contract tests. Never a product default.

Real HTTP servers built on the standard library alone, each in its own process: they check every
request strictly against the documented shapes, answer as a model would, and inject seeded,
model-like errors on request.

Two answer modes. **Oracle** (``--oracle INDEX``): a page image is found by its sha256 in an index
of fixture ground truth (built by :mod:`dualread.testing.oracle`), so the answer is exactly right
and a test controls every error on top of it; an unknown page gets an empty answer. **Reader**
(``--reader``, alone or beside an oracle): a page the oracle does not hold is read by dualread's
embedded CPU engine (OCR of the image, rule-based statement reader), once per distinct image, and
turned into the same entry an oracle holds (a page statement plus a Nanonets-style markdown
transcription), so any document gets a real, imperfect reading. Either way the vision role
answers the page's statement JSON, the OCR role its markdown, and the markdown->JSON role the
statement in the markdown it is sent (in reader mode read back from the markdown, as the OCR
half ran on the other server); transport faults and statement error profiles apply on top.
Reader mode imports dualread and its dependencies when it starts; oracle mode needs nothing but
the standard library.

Run one with ``python3 -m dualread.testing.standins ollama|openai --help``; from Python, use
:func:`dualread.testing.standins.launch.start_standin`.
"""
