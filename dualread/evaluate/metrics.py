"""Accuracy metrics: a predicted statement against the truth.

Rows match on exact date and amount plus description similarity at or above the consensus
threshold (the same notion of "the same description" that consensus uses to call two readers in
agreement). Matching is one-to-one and order-free: a reader that prints the rows of a
newest-first statement oldest-first still gets every row it read right, while a duplicated row
counts once as correct and once as a false positive.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from dualread.arithmetic import check
from dualread.consensus.compare import DESCRIPTION_THRESHOLD
from dualread.consensus.normalize import field_key
from dualread.parsing import description_similarity, normalize_description, normalize_iban
from dualread.statement import Statement, Transaction

# Free-text header fields: a reader that writes "Thamesbridge Bank" for "Thamesbridge Bank plc"
# has read the field; identifiers, dates, money and currency must be exact.
FUZZY_FIELDS = frozenset({"bank_name", "account_holder"})
FUZZY_FIELD_THRESHOLD = 0.85


@dataclass(frozen=True)
class RowScore:
    matched: int
    predicted: int
    expected: int

    @property
    def precision(self) -> float:
        return self.matched / self.predicted if self.predicted else float(self.expected == 0)

    @property
    def recall(self) -> float:
        return self.matched / self.expected if self.expected else float(self.predicted == 0)

    @property
    def f1(self) -> float:
        total = self.predicted + self.expected
        return 2 * self.matched / total if total else 1.0

    def __add__(self, other: RowScore) -> RowScore:
        return RowScore(
            self.matched + other.matched,
            self.predicted + other.predicted,
            self.expected + other.expected,
        )


def _similarity(truth: str, predicted: str, first_line: bool) -> float:
    """Description similarity; where the truth holds only a description's first printed line,
    a prediction that goes on with the further lines is compared on its start."""
    similarity = description_similarity(truth, predicted)
    if first_line:
        start = normalize_description(predicted)[: len(normalize_description(truth))]
        similarity = max(similarity, description_similarity(truth, start))
    return similarity


def match_rows(
    truth: Sequence[Transaction],
    predicted: Sequence[Transaction],
    threshold: float = DESCRIPTION_THRESHOLD,
    *,
    first_line: bool = False,
) -> list[tuple[int, int]]:
    """One-to-one (truth index, predicted index) pairs that match.

    ``first_line``: the truth's descriptions are each description's first printed line.

    Within each (date, amount) group the most similar descriptions pair first, so two same-day
    coffees of the same price pair with the right partners when their texts differ.
    """
    predicted_by_key: dict[tuple[object, object], list[int]] = defaultdict(list)
    for j, row in enumerate(predicted):
        predicted_by_key[row.date, row.amount].append(j)
    options: list[tuple[float, int, int]] = []
    for i, row in enumerate(truth):
        for j in predicted_by_key.get((row.date, row.amount), []):
            similarity = _similarity(row.description, predicted[j].description, first_line)
            if similarity >= threshold:
                options.append((-similarity, i, j))
    pairs: list[tuple[int, int]] = []
    used_truth: set[int] = set()
    used_predicted: set[int] = set()
    for _, i, j in sorted(options):
        if i not in used_truth and j not in used_predicted:
            used_truth.add(i)
            used_predicted.add(j)
            pairs.append((i, j))
    return sorted(pairs)


def score_rows(truth: Statement, predicted: Statement, *, first_line: bool = False) -> RowScore:
    pairs = match_rows(truth.transactions, predicted.transactions, first_line=first_line)
    return RowScore(len(pairs), len(predicted.transactions), len(truth.transactions))


def _field_value(statement: Statement, name: str) -> object:
    value = getattr(statement, name)
    if name == "iban" and isinstance(value, str):
        return normalize_iban(value) or field_key(name, value)
    return field_key(name, value)


def header_matches(
    truth: Statement, predicted: Statement, fields: Sequence[str]
) -> dict[str, bool]:
    """Per header field: does the prediction equal the truth after normalisation?

    A null truth field means the statement does not show it, so a prediction must be null too.
    """
    result: dict[str, bool] = {}
    for name in fields:
        expected, got = _field_value(truth, name), _field_value(predicted, name)
        if name in FUZZY_FIELDS and isinstance(expected, str) and isinstance(got, str):
            result[name] = description_similarity(expected, got) >= FUZZY_FIELD_THRESHOLD
        else:
            result[name] = expected == got
    return result


def arithmetic_ok(predicted: Statement) -> bool:
    """Does the predicted statement's own arithmetic hold (nothing checkable counts as no)?"""
    return check(predicted).ok is True
