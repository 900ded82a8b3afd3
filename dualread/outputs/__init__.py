"""Writers for the three output formats; each validates against the schema before rendering.

Each renders one file's output: the statement of every account the file holds (one, or several
under schema revision 1.2), in print order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from dualread.choices import OutputFormat
from dualread.outputs.atomic import write_atomic
from dualread.outputs.csv_writer import render_csv
from dualread.outputs.json_writer import json_value, render_json, statements_of
from dualread.outputs.ofx_writer import render_ofx

RENDERERS: dict[str, Callable[[Sequence[dict[str, Any]]], str]] = {
    "json": render_json,
    "csv": render_csv,
    "ofx": render_ofx,
}
SUFFIXES = {"json": ".json", "csv": ".csv", "ofx": ".ofx"}

__all__ = [
    "RENDERERS",
    "SUFFIXES",
    "OutputFormat",
    "json_value",
    "render_csv",
    "render_json",
    "render_ofx",
    "statements_of",
    "write_atomic",
]
