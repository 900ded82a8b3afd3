"""JSON output: the statement schema, with dualread's own record under ``extraction``.

A file that holds one account gives one statement (a JSON object); a file that holds several
gives an array of them, one per account (schema revision 1.2, ``$defs/statements``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from dualread.statement import validate_output


def json_value(documents: Sequence[dict[str, Any]]) -> Any:
    """The JSON value of one file's output: its statement, or the array of its accounts'."""
    return documents[0] if len(documents) == 1 else list(documents)


def statements_of(value: Any) -> list[dict[str, Any]]:
    """The statements of a value :func:`json_value` gives (or that a JSON output holds)."""
    return list(value) if isinstance(value, list) else [value]


def render_json(documents: Sequence[dict[str, Any]], *, compact: bool = False) -> str:
    """Validate against the schema, then serialise; an invalid result is never written."""
    validate_output(documents)
    value = json_value(documents)
    if compact:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n"
    return json.dumps(value, ensure_ascii=False, indent=2) + "\n"
