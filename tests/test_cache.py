from __future__ import annotations

import os
from pathlib import Path

import pytest

from dualread.cache import AnswerCache, candidate_from_dict, candidate_to_dict
from dualread.stages.candidate import Candidate, PassParams, RawOutput
from dualread.statement import Statement, Transaction

pytestmark = pytest.mark.unit


def test_candidates_round_trip_through_a_private_cache(tmp_path: Path) -> None:
    candidate = Candidate(
        route="visual",
        statement=Statement(transactions=[Transaction(date="2024-01-02", amount="-1.10", page=2)]),
        pages=(2,),
        params=PassParams(temperature=0.3, seed=3, dpi=300),
        raw=[RawOutput("visual_json", (2,), "{...}", "m", 1.5, 1.2)],
        timings={"visual_json": 1.5},
        other_accounts=(Statement(iban="DE89370400440532013000", transactions=[]),),
    )
    cache = AnswerCache(tmp_path / "cache")
    key = cache.key(
        file="abc", stage="visual_json", model="m", prompt="v1", params=candidate.params
    )
    assert cache.get(key) is None
    cache.put(key, candidate_to_dict(candidate))
    cached = cache.get(key)
    assert cached is not None
    loaded = candidate_from_dict(cached)
    assert loaded == candidate
    assert os.stat(tmp_path / "cache").st_mode & 0o777 == 0o700
    entry = next((tmp_path / "cache").rglob("*.json"))
    assert os.stat(entry).st_mode & 0o777 == 0o600


def test_keys_change_with_every_part_and_disabled_cache_never_hits(tmp_path: Path) -> None:
    assert AnswerCache.key(a=1, b=2) == AnswerCache.key(b=2, a=1)
    assert AnswerCache.key(a=1, b=2) != AnswerCache.key(a=1, b=3)
    cache = AnswerCache(tmp_path, enabled=False)
    cache.put("k" * 64, {"x": 1})
    assert cache.get("k" * 64) is None
