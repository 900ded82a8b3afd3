"""Issue 16, section 1: readers that agree on nonsense settle nothing, a route that fails or a
server that hangs is never invisible, no reading however malformed crashes the consensus, and a
damaged cache entry is a miss.

The hostile answers come from the stand-in servers (the ``HOSTILE`` profiles of
:mod:`dualread.testing.errors`, the transport faults of its ``faults``), read by the real
command line and pipeline. Only what no server can deliver is built by hand: 10,000 rows for one
page (any server cuts the answer at the request's token limit) and readings fuzzed at random.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dualread.cache import AnswerCache, candidate_from_dict
from dualread.consensus import decide
from dualread.consensus.plausibility import ROWS_PER_PAGE_LIMIT
from dualread.pipeline import SILENT_DOCUMENTS
from dualread.stages.candidate import Candidate
from dualread.statement import Statement, Transaction
from dualread.testing.errors import HOSTILE
from dualread.testing.fixtures import StandinRoutes, StartRoutes
from tests.consensus.factories import candidate, chained, statement, with_rows
from tests.safety.cli import SAMPLE, Outcome, extract

PAGES = (1, 2)
TRUTH: dict[str, Any] = json.loads(SAMPLE.with_suffix(".truth.json").read_text())
DPIS = (200, 300, 250)  # the first pass and the extra passes' DPIs, so the oracle knows them


def _statement_part(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k not in ("extraction", "schema_version")}


def _read(
    tmp_path: Path, routes: StandinRoutes, *flags: str, copies: int = 1, **env: str
) -> tuple[Outcome, list[dict[str, Any] | None]]:
    """``dualread extract`` of ``copies`` copies of the sample through the stand-ins, into a
    folder; each copy's written document (None: not written)."""
    sources = []
    for number in range(copies):
        folder = tmp_path / "in" / str(number)
        folder.mkdir(parents=True)
        sources.append(Path(shutil.copy(SAMPLE, folder / SAMPLE.name)))
    out = tmp_path / "out"
    outcome = extract(
        tmp_path,
        *map(str, sources),
        *("--engine", "vlm", "--no-cache", "-o", f"{out}/"),
        *("--ollama-url", routes.ollama.api_url, "--vllm-url", routes.openai.api_url),
        *flags,
        **env,
    )
    written = []
    for number in range(copies):
        path = out / (f"{number}/statement.json" if copies > 1 else "statement.json")
        written.append(json.loads(path.read_text()) if path.exists() else None)
    return outcome, written


def _reasons(document: dict[str, Any]) -> list[str]:
    return [d.get("reason", "") for d in document["extraction"]["disputes"]]


# --- hostile answers, through the stand-ins ---------------------------------------------------


@pytest.mark.contract
@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("closing_cent", "arithmetic does not hold"),
        ("excess_decimals", "more decimals"),
        ("negative_zero", "negative zero"),
        ("forty_digits", "digits before"),
        ("date_decades_off", "far outside the period"),
        ("empty_answer", "no transactions were read"),
        ("invent_rows", "more than a page holds"),
    ],
)
def test_routes_agreeing_on_an_impossible_answer_leave_it_unresolved(
    tmp_path: Path, standin_routes: StartRoutes, kind: str, reason: str
) -> None:
    routes = standin_routes([SAMPLE], dpi=DPIS, ollama={"statement_errors": kind})
    outcome, [document] = _read(tmp_path, routes, "--no-third-voter")
    assert outcome.exit_code == 3, outcome.stderr
    assert document is not None
    assert document["extraction"]["status"] == "unresolved"
    assert any(reason in text for text in _reasons(document)), _reasons(document)


@pytest.mark.contract
def test_every_iban_reading_failing_its_checksum_is_a_dispute_not_a_crash(
    tmp_path: Path, standin_routes: StartRoutes
) -> None:
    routes = standin_routes([SAMPLE], dpi=DPIS, ollama={"statement_errors": "bad_iban"})
    outcome, [document] = _read(tmp_path, routes, "--no-third-voter")
    assert outcome.exit_code == 3, outcome.stderr
    assert document is not None
    assert document["iban"] is None
    assert [d["field"] for d in document["extraction"]["disputes"]] == ["iban"]


@pytest.mark.contract
@pytest.mark.parametrize("kind", HOSTILE)
def test_a_hostile_answer_is_never_written_as_settled(
    tmp_path: Path, standin_routes: StartRoutes, kind: str
) -> None:
    """The default run (the embedded engine votes beside both routes): the result is the truth,
    or it says it needs review."""
    routes = standin_routes([SAMPLE], dpi=DPIS, ollama={"statement_errors": kind})
    outcome, [document] = _read(tmp_path, routes)
    assert document is not None, outcome.stderr
    if outcome.exit_code == 0:
        assert _statement_part(document) == _statement_part(TRUTH)
    else:
        assert outcome.exit_code == 3, outcome.stderr
        assert document["extraction"]["status"] == "unresolved"


@pytest.mark.contract
def test_empty_answers_do_not_outvote_the_engine_that_read_the_rows(
    tmp_path: Path, standin_routes: StartRoutes
) -> None:
    """Both routes answer an empty statement; the embedded engine reads the sample's 16 rows."""
    routes = standin_routes([SAMPLE], dpi=DPIS, ollama={"statement_errors": "empty_answer"})
    outcome, [document] = _read(tmp_path, routes)
    assert outcome.exit_code == 3, outcome.stderr
    assert document is not None
    assert document["extraction"]["status"] == "unresolved"  # one reader left: nothing confirms it
    assert document["transactions"] == TRUTH["transactions"]
    reasons = _reasons(document)
    for route in ("visual", "ocr"):
        assert any(route in r and "read no rows" in r for r in reasons), reasons


@pytest.mark.contract
def test_a_route_failing_on_every_page_is_never_agreed(
    tmp_path: Path, standin_routes: StartRoutes
) -> None:
    routes = standin_routes([SAMPLE], dpi=DPIS, ollama={"errors": "visual.http500=99"})
    outcome, [document] = _read(tmp_path, routes, "--no-third-voter")
    assert outcome.exit_code == 3, outcome.stderr
    assert document is not None
    record = document["extraction"]
    assert record["status"] == "unresolved"
    assert any(f.startswith("visual:") and "HTTP 500" in f for f in record["failures"])


@pytest.mark.contract
def test_a_hung_server_is_given_up_after_a_few_documents_and_the_read_ones_are_kept(
    tmp_path: Path, standin_routes: StartRoutes
) -> None:
    """Route B's server takes every request and never answers. The batch stops asking it once
    SILENT_DOCUMENTS documents in a row went unanswered: each further document would cost
    another timeout. What route A read is still written; the batch exits 4."""
    routes = standin_routes([SAMPLE], dpi=DPIS, openai={"errors": "ocr.slow=60"})
    outcome, documents = _read(
        # 5 s: route A's stand-in must still answer in time on a loaded CI machine.
        tmp_path,
        routes,
        "--no-third-voter",
        copies=4,
        DUALREAD_TIMEOUT_S="5",
    )
    assert outcome.exit_code == 4, outcome.stderr
    asked = routes.openai.stats()["roles"].get("ocr", 0)
    assert asked == SILENT_DOCUMENTS  # one page each, and no document after the last silence
    assert all(d is not None and d["extraction"]["status"] == "unresolved" for d in documents)
    given_up = [line for line in outcome.errors if "documents in a row" in line]
    assert len(given_up) == 4 - SILENT_DOCUMENTS + 1, outcome.errors


# --- what no server can deliver, by hand -------------------------------------------------------


def _truth() -> Statement:
    return statement(chained(["-10.00", "250.00", "-3.20", "-47.80"], pages=[1, 1, 2, 2]))


def _agreeing(content: Statement) -> list[Candidate]:
    """Both routes and the embedded engine read exactly ``content``: full agreement."""
    return [
        candidate("visual", content, PAGES),
        candidate("ocr", content, PAGES),
        candidate("embedded", content, PAGES),
    ]


@pytest.mark.unit
@pytest.mark.parametrize(
    "rows",
    [
        ROWS_PER_PAGE_LIMIT + 1,
        # At scale too (a few seconds of alignment): the full suite only.
        pytest.param(10_000, marks=pytest.mark.slow),
    ],
)
def test_more_rows_on_one_page_than_it_holds_are_unresolved(rows: int) -> None:
    invented = [
        Transaction(date=dt.date(2024, 3, 5), amount=Decimal("1.00"), description="x", page=1)
        for _ in range(rows)
    ]
    decision = decide(_agreeing(with_rows(_truth(), invented)))
    assert decision.status == "unresolved"
    assert any("more than a page holds" in (d.reason or "") for d in decision.disputes)


_money = st.one_of(
    st.decimals(
        allow_nan=False, allow_infinity=False, places=2, min_value=-(10**6), max_value=10**6
    ),
    st.sampled_from([Decimal("-0.00"), Decimal("1" * 40), Decimal("0.00001"), Decimal(0)]),
)
_dates = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31))
_ibans = st.one_of(
    st.none(),
    st.sampled_from(["DE89370400440532013000", "DE00370400440532013000", "GB82WEST12345698765432"]),
    st.text(alphabet="ABCDEFGHIJ0123456789 ", max_size=34),
)
_rows = st.builds(
    Transaction,
    date=_dates,
    amount=_money,
    balance=st.one_of(st.none(), _money),
    description=st.text(max_size=20),
    page=st.one_of(st.none(), st.integers(1, 3)),
)
_statements = st.builds(
    Statement,
    iban=_ibans,
    currency=st.sampled_from([None, "EUR", "JPY", "BHD", "XXX"]),
    period_start=st.one_of(st.none(), _dates),
    period_end=st.one_of(st.none(), _dates),
    opening_balance=st.one_of(st.none(), _money),
    closing_balance=st.one_of(st.none(), _money),
    transactions=st.lists(_rows, max_size=8),
)
_candidates = st.lists(
    st.builds(
        Candidate,
        route=st.sampled_from(["visual", "ocr", "embedded"]),
        statement=_statements,
        pages=st.sampled_from([(1,), (1, 2), (1, 2, 3), (3,)]),
    ),
    min_size=1,
    max_size=4,
)


@pytest.mark.unit
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_candidates, st.sampled_from(["null", "best"]))
def test_the_consensus_never_raises_on_random_and_hostile_readings(
    candidates: list[Candidate], on_dispute: str
) -> None:
    decision = decide(candidates, on_dispute="best" if on_dispute == "best" else "null")
    assert decision.status in ("agreed", "resolved", "unresolved", "single", "unverified")
    json.dumps(decision.to_dict(), default=str)


@pytest.mark.unit
def test_a_damaged_cache_entry_that_is_still_json_is_a_miss(tmp_path: Path) -> None:
    cache = AnswerCache(tmp_path / "cache")
    key = cache.key(file="abc", stage="visual_json")
    cache.put(key, {"route": "visual", "statement": {"transactions": "not a list"}})
    assert cache.load(key, candidate_from_dict) is None
    cache.put(key, ["valid", "json", "wrong", "shape"])
    assert cache.load(key, candidate_from_dict) is None


def _damage_everywhere(value: Any, damage: Any) -> Any:
    """Every value in ``value`` (a cached entry) replaced by ``damage``, keeping the keys."""
    if isinstance(value, dict):
        return {key: _damage_everywhere(item, damage) for key, item in value.items()}
    if isinstance(value, list) and value:
        return [_damage_everywhere(item, damage) for item in value]
    return damage


def _model_calls(routes: StandinRoutes) -> int:
    return sum(sum(server.stats()["roles"].values()) for server in (routes.ollama, routes.openai))


@pytest.mark.contract
@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda entry: {key: "x" for key in entry}, id="every-field-a-string"),
        pytest.param(lambda entry: _damage_everywhere(entry, None), id="every-value-null"),
        pytest.param(lambda entry: _damage_everywhere(entry, "abc"), id="every-value-abc"),
        pytest.param(lambda entry: [entry], id="wrapped-in-a-list"),
    ],
)
def test_damaged_cache_entries_through_the_command_line_are_asked_again(
    tmp_path: Path, standin_routes: StartRoutes, damage: Any
) -> None:
    """A re-run is answered from the cache; every entry rewritten as valid JSON of the wrong
    shape, the next run asks the servers again and writes what the first run wrote."""
    routes = standin_routes([SAMPLE], dpi=DPIS)
    source = Path(shutil.copy(SAMPLE, tmp_path / SAMPLE.name))
    urls = ("--ollama-url", routes.ollama.api_url, "--vllm-url", routes.openai.api_url)

    def run(name: str) -> tuple[Outcome, str]:
        out = tmp_path / name
        args = (str(source), "--engine", "vlm", "--no-third-voter", "-o", str(out), *urls)
        return extract(tmp_path, *args), out.read_text()

    first, written = run("first.json")
    assert first.exit_code == 0, first.stderr
    asked = _model_calls(routes)
    assert run("again.json")[0].exit_code == 0 and _model_calls(routes) == asked  # all cached
    entries = list((tmp_path / "cache").rglob("*.json"))
    assert len(entries) == 3  # visual, ocr markdown, markdown -> json
    for entry in entries:
        entry.write_text(json.dumps(damage(json.loads(entry.read_text()))))

    second, rewritten = run("second.json")
    assert second.exit_code == 0, second.stderr
    assert _model_calls(routes) == 2 * asked
    assert _statement_part(json.loads(rewritten)) == _statement_part(json.loads(written))


@pytest.mark.unit
def test_an_empty_statement_whose_balances_confirm_it_may_be_agreed() -> None:
    """The counterpart of ``empty_answer``: an empty table is agreed only when the printed
    balances confirm it (no stand-in fixture prints such a statement)."""
    quiet = statement([], opening_balance=Decimal("100.00"), closing_balance=Decimal("100.00"))
    decision = decide(_agreeing(quiet))
    assert (decision.status, decision.disputes) == ("agreed", [])
