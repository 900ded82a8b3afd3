"""JSON output: the statement schema, with dualread's own record under ``extraction``."""

from __future__ import annotations

import json
from typing import Any

from dualread.statement import validate_document


def render_json(document: dict[str, Any], *, compact: bool = False) -> str:
    """Validate against the schema, then serialise; an invalid result is never written."""
    validate_document(document)
    if compact:
        return json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n"
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
