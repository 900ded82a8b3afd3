"""Accuracy evaluation: extraction results against ground truth.

``find_cases`` locates documents with truth, ``evaluate`` runs the extractor over them and
scores each one, ``summarize`` pools the scores, and ``report`` renders them.
"""

from dualread.evaluate.metrics import (
    RowScore,
    arithmetic_ok,
    header_matches,
    match_rows,
    score_rows,
)
from dualread.evaluate.runner import evaluate, evaluate_case
from dualread.evaluate.scores import DocumentScore, Summary, score_document, summarize
from dualread.evaluate.truth import Case, Truth, TruthError, find_cases, load_truth

__all__ = [
    "Case",
    "DocumentScore",
    "RowScore",
    "Summary",
    "Truth",
    "TruthError",
    "arithmetic_ok",
    "evaluate",
    "evaluate_case",
    "find_cases",
    "header_matches",
    "load_truth",
    "match_rows",
    "score_document",
    "score_rows",
    "summarize",
]
