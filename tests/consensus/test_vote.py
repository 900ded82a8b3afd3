from __future__ import annotations

import pytest

from dualread.consensus.vote import Option, break_ties, overrule, tally

pytestmark = pytest.mark.unit

PAGE = frozenset({1})
# Each voter its own route unless a test is about repeated passes of one route.
ROUTES = ("visual", "ocr", "embedded")


def test_majority_wins() -> None:
    point = tally(
        "iban",
        None,
        PAGE,
        [(0, "A", "A"), (1, "B", "B"), (2, "A", "A")],
        routes=ROUTES,
        arithmetic=False,
    )
    assert point.chosen.value == "A"
    assert point.how == "majority"
    assert point.share == pytest.approx(2 / 3)


def test_unanimous_point() -> None:
    point = tally(
        "iban", None, PAGE, [(0, "A", "a"), (1, "A", "A ")], routes=ROUTES, arithmetic=False
    )
    assert point.how == "unanimous"
    assert point.chosen.value == "a"  # the first voter's spelling of the shared key


def test_tie_is_disputed_and_the_best_guess_prefers_a_present_value() -> None:
    point = tally(
        "bank_name", None, PAGE, [(0, None, None), (1, "x", "X")], routes=ROUTES, arithmetic=False
    )
    assert point.how == "disputed"
    assert point.chosen.value == "X"
    point = tally(
        "bank_name", None, PAGE, [(0, "y", "Y"), (1, "x", "X")], routes=ROUTES, arithmetic=False
    )
    assert point.chosen.value == "Y"  # the earliest candidate


def test_arithmetic_settles_a_tie_when_one_option_makes_it_hold() -> None:
    point = tally("amount", 0, PAGE, [(0, 1, 1), (1, 2, 2)], routes=ROUTES, arithmetic=True)
    break_ties([point], lambda over: (0 if over[0].value == 2 else 1,))
    assert point.how == "arithmetic"
    assert point.chosen.value == 2


def test_arithmetic_that_stays_broken_settles_nothing() -> None:
    point = tally("amount", 0, PAGE, [(0, 1, 1), (1, 2, 2)], routes=ROUTES, arithmetic=True)
    break_ties([point], lambda over: (1 if over[0].value == 2 else 2,))
    assert point.how == "disputed"


def test_equal_scores_stay_disputed() -> None:
    point = tally("amount", 0, PAGE, [(0, 1, 1), (1, 2, 2)], routes=ROUTES, arithmetic=True)
    break_ties([point], lambda over: (0,))
    assert point.how == "disputed"


def test_non_arithmetic_ties_are_left_alone() -> None:
    point = tally(
        "bank_name", None, PAGE, [(0, "a", "a"), (1, "b", "b")], routes=ROUTES, arithmetic=False
    )
    break_ties([point], lambda over: (0 if 0 in over else 1,))
    assert point.how == "disputed"


def test_ties_are_settled_in_combination() -> None:
    """Two ties that only hold together: tried one at a time neither would settle."""
    first = tally("amount", 0, PAGE, [(0, 1, 1), (1, 2, 2)], routes=ROUTES, arithmetic=True)
    second = tally("amount", 1, PAGE, [(0, 3, 3), (1, 4, 4)], routes=ROUTES, arithmetic=True)

    def score(over: dict[int, Option]) -> tuple[int, ...]:
        return (0 if (over[0].value, over[1].value) == (2, 3) else 1,)

    break_ties([first, second], score)
    assert (first.chosen.value, second.chosen.value) == (2, 3)
    assert first.how == second.how == "arithmetic"


def test_secondary_score_breaks_ties_between_consistent_combinations() -> None:
    point = tally(
        "row", 0, PAGE, [(0, True, True), (1, False, None)], routes=ROUTES, arithmetic=True
    )
    break_ties([point], lambda over: (0, 0 if over[0].value else 1))
    assert point.chosen.value is True
    assert point.how == "arithmetic"


def test_arithmetic_overrules_a_majority_that_breaks_it() -> None:
    point = tally(
        "amount", 0, PAGE, [(0, 1, 1), (1, 1, 1), (2, 2, 2)], routes=ROUTES, arithmetic=True
    )
    overrule([point], [0], lambda over: (0 if over.get(0, point.chosen).value == 2 else 1,))
    assert point.chosen.value == 2
    assert point.how == "arithmetic"


def test_a_majority_stands_when_no_alternative_makes_the_arithmetic_hold() -> None:
    point = tally(
        "amount", 0, PAGE, [(0, 1, 1), (1, 1, 1), (2, 2, 2)], routes=ROUTES, arithmetic=True
    )
    overrule([point], [0], lambda over: (1,))
    assert point.chosen.value == 1
    assert point.how == "majority"


def test_a_majority_that_holds_is_never_overruled() -> None:
    point = tally(
        "amount", 0, PAGE, [(0, 1, 1), (1, 1, 1), (2, 2, 2)], routes=ROUTES, arithmetic=True
    )
    overrule([point], [0], lambda over: (0,))
    assert point.chosen.value == 1


# Repeated passes of route A (candidates 0 and 2) against route B (candidate 1).
PASSES = ("visual", "ocr", "visual", "visual")


def test_repeated_passes_of_one_route_tie_with_the_other_route() -> None:
    point = tally(
        "amount", 0, PAGE, [(0, 1, 1), (1, 2, 2), (2, 1, 1)], routes=PASSES, arithmetic=True
    )
    assert point.how == "disputed"
    assert [o.value for o in point.tied] == [1, 2]
    assert point.chosen.value == 1  # the best guess: more ballots


def test_a_repeated_route_majority_stands_only_when_the_arithmetic_confirms_it() -> None:
    ballots = [(0, 1, 1), (1, 2, 2), (2, 1, 1), (3, 1, 1)]
    point = tally("amount", 0, PAGE, ballots, routes=PASSES, arithmetic=True)
    break_ties([point], lambda over: (1,))  # neither value makes the equations hold
    assert point.how == "disputed"
    break_ties([point], lambda over: (0 if over[0].value == 1 else 1,))
    assert (point.chosen.value, point.how) == (1, "arithmetic")


def test_the_arithmetic_can_side_with_the_outnumbered_route() -> None:
    point = tally(
        "amount", 0, PAGE, [(0, 1, 1), (1, 2, 2), (2, 1, 1)], routes=PASSES, arithmetic=True
    )
    break_ties([point], lambda over: (0 if over[0].value == 2 else 1,))
    assert (point.chosen.value, point.how) == (2, "arithmetic")


def test_a_value_both_routes_read_beats_more_passes_of_one() -> None:
    ballots = [(0, 1, 1), (1, 2, 2), (2, 1, 1), (3, 2, 2)]
    point = tally(
        "amount", 0, PAGE, ballots, routes=("visual", "ocr", "visual", "visual"), arithmetic=True
    )
    assert (point.chosen.value, point.how) == (2, "majority")
    ballots = [(0, 1, 1), (1, 2, 2), (2, 1, 1), (3, 1, 1), (4, 2, 2)]
    routes = ("visual", "ocr", "visual", "visual", "visual")
    assert tally("amount", 0, PAGE, ballots, routes=routes, arithmetic=True).chosen.value == 2


def test_the_embedded_engine_is_an_independent_route() -> None:
    ballots = [(0, 1, 1), (1, 2, 2), (2, 2, 2), (3, 1, 1)]
    routes = ("visual", "ocr", "embedded", "visual")
    point = tally("amount", 0, PAGE, ballots, routes=routes, arithmetic=True)
    assert (point.chosen.value, point.how) == (2, "majority")
    assert point.chosen.routes == {"ocr", "embedded"}


def test_a_single_route_voting_alone_is_decided_by_its_ballots() -> None:
    ballots = [(0, 1, 1), (1, 2, 2), (2, 1, 1)]
    point = tally("amount", 0, PAGE, ballots, routes=("visual",) * 3, arithmetic=True)
    assert (point.chosen.value, point.how) == (1, "majority")


def test_a_disputed_row_keeps_its_best_guess_present() -> None:
    """A row two passes of route A dropped and route B read: tied, and kept rather than lost."""
    ballots = [(0, False, None), (1, True, True), (2, False, None)]
    point = tally("row", 0, PAGE, ballots, routes=PASSES, arithmetic=True)
    assert point.how == "disputed"
    assert point.chosen.value is True


def test_overrule_settles_a_tie_whose_best_guess_it_confirms_and_says_what_changed() -> None:
    majority = tally(
        "row",
        0,
        PAGE,
        [(0, False, None), (1, False, None), (2, True, True)],
        routes=ROUTES,
        arithmetic=True,
    )
    tie = tally("amount", 1, PAGE, [(0, 1, 1), (1, 2, 2)], routes=ROUTES, arithmetic=True)
    assert (majority.chosen.value, tie.chosen.value, tie.how) == (None, 1, "disputed")

    def score(over: dict[int, Option]) -> tuple[int, ...]:
        row, amount = over.get(0, majority.chosen).value, over.get(1, tie.chosen).value
        return (0 if (row, amount) == (True, 1) else 1,)

    assert overrule([majority, tie], [0, 1], score) is True
    assert (majority.chosen.value, majority.how) == (True, "arithmetic")
    assert (tie.chosen.value, tie.how) == (1, "arithmetic")
    assert overrule([majority, tie], [0, 1], score) is False  # nothing left to change
