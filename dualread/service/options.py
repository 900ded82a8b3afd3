"""A job's options: the ``dualread extract`` options that make sense for one upload."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from dualread.api import ExtractOptions
from dualread.choices import Engine, OcrEngine, OnDispute, Route
from dualread.config import Settings


class JobOptions(BaseModel):
    """As the CLI flags of the same names; None means the server's setting."""

    model_config = ConfigDict(extra="forbid")

    engine: Engine = "auto"
    route: Route | None = None
    pages: str | None = None
    password: str | None = None
    dpi: int | None = Field(default=None, ge=50, le=600)
    max_passes: int | None = Field(default=None, ge=2)
    on_dispute: OnDispute | None = None
    third_voter: bool | None = None
    ocr: OcrEngine = "rapidocr"

    def public(self) -> dict[str, Any]:
        """What the API shows back: everything but the password."""
        return self.model_dump(exclude={"password"}) | {"password": self.password is not None}

    def for_library(self, settings: Settings) -> tuple[Settings, ExtractOptions]:
        """The library's settings and options for this job, as ``dualread extract`` builds them."""
        chosen = settings.replace(
            dpi=self.dpi, max_passes=self.max_passes, on_dispute=self.on_dispute
        )
        options = ExtractOptions(
            engine=self.engine,
            route=self.route,
            password=self.password,
            pages=self.pages,
            third_voter=True if self.third_voter is None else self.third_voter,
            ocr=self.ocr,
        )
        return chosen, options
