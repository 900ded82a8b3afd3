"""dualread's benchmarks: ``python -m bench`` runs them all (see ``bench/__main__.py``).

Each ``bench/<name>.py`` is a runnable module that writes ``bench/results/<name>.json`` with the
machine description, medians over repeated runs and same-run ratios (``bench/common.py``).
"""
