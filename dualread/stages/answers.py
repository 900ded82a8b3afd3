"""Statement-shaped model answers: the check that decides on a repair re-ask, and the conversion.

The check is stricter than the JSON schema alone: an answer must also load into the pydantic
:class:`Statement` (a real calendar date, not just ``\\d{4}-\\d{2}-\\d{2}``), and its
transactions may only name pages the model was shown.
"""

from __future__ import annotations

from collections.abc import Collection
from functools import cache
from typing import Any

import jsonschema
import pydantic

from dualread.backends.base import ChatReply
from dualread.backends.jsonreply import InvalidAnswer, JsonAnswer
from dualread.stages.candidate import RawOutput
from dualread.statement import Statement, model_output_schema


@cache
def _output_validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(model_output_schema())


def check_statement_answer(data: dict[str, Any], pages: Collection[int] | None = None) -> None:
    """Raise :class:`InvalidAnswer` unless ``data`` is a usable statement answer.

    ``pages``: the page numbers a transaction's ``page`` may take (null is always allowed).
    """
    error = jsonschema.exceptions.best_match(_output_validator().iter_errors(data))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(root)"
        raise InvalidAnswer(f"at {where}: {error.message}", f"schema violation at {where}")
    try:
        statement = Statement.model_validate(data)
    except pydantic.ValidationError as invalid:
        first = invalid.errors()[0]
        where = "/".join(str(p) for p in first["loc"])
        raise InvalidAnswer(f"at {where}: {first['msg']}", f"invalid value at {where}") from None
    if pages is not None:
        for index, row in enumerate(statement.transactions):
            if row.page is not None and row.page not in pages:
                shown = ", ".join(str(p) for p in sorted(pages))
                raise InvalidAnswer(
                    f"at transactions/{index}/page: page {row.page} was not given (pages: {shown})",
                    f"unknown page at transactions/{index}/page",
                )


def raw_outputs(
    stage: str, pages: tuple[int, ...], replies: tuple[ChatReply, ...]
) -> list[RawOutput]:
    return [
        RawOutput(stage, pages, reply.text, reply.model, reply.elapsed_s, reply.server_s)
        for reply in replies
    ]


def answer_statement(answer: JsonAnswer) -> Statement:
    """The statement in an answer that passed :func:`check_statement_answer`."""
    return Statement.model_validate(answer.data)
