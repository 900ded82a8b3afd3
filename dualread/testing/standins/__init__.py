"""Stand-in Ollama and vLLM (OpenAI-compatible) servers for contract tests. Never a product default.

Real HTTP servers built on the standard library alone, each in its own process: they check every
request strictly against the documented shapes, answer from fixture ground truth found by the
page image's hash (the oracle), and inject seeded, model-like errors on request.

Run one with ``python3 -m dualread.testing.standins ollama|openai --help``; from Python, use
:func:`dualread.testing.standins.launch.start_standin`.
"""
