"""Stages: each reads a document (or some of its pages) one way and returns a Candidate.

``visual_json.read_visual`` is route A; ``ocr_markdown.transcribe`` then
``markdown_json.markdown_to_candidate`` is route B;
``embedded`` is the CPU engine.
"""
