"""Test tooling: stand-in model servers, their oracle, and pytest fixtures. Never a product default.

Nothing in the product imports this package. ``standins`` runs on the standard library alone, so
it also runs as fake ``ollama`` / ``vllm`` executables inside minimal test images.
"""
