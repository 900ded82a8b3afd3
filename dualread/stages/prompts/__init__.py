"""Prompt files, versioned by name: ``<name>.v<N>.txt``.

A changed prompt is a new file with a new version, never an edit in place, so cached answers keyed
on :func:`prompt_key` are never reused for a prompt they were not asked with. Placeholders are
``{name}``, filled in one pass by :meth:`Prompt.fill` (JSON braces elsewhere are left alone).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


@dataclass(frozen=True)
class Prompt:
    name: str
    version: int
    text: str

    @property
    def id(self) -> str:
        return f"{self.name}.v{self.version}"

    def fill(self, **values: str) -> str:
        """The text with each ``{key}`` replaced by ``values[key]``; every value must be used."""
        missing = set(values) - set(_PLACEHOLDER.findall(self.text))
        if missing:
            raise KeyError(f"prompt {self.id} has no placeholder {sorted(missing)}")
        return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), self.text)


@cache
def load_prompt(name: str, version: int) -> Prompt:
    text = resources.files(__name__).joinpath(f"{name}.v{version}.txt").read_text(encoding="utf-8")
    return Prompt(name, version, text.strip())


def prompt_key(*prompts: Prompt) -> str:
    """A cache-key part naming the prompts a stage uses, with a digest of their exact text."""
    digest = hashlib.sha256("\0".join(p.text for p in prompts).encode()).hexdigest()[:12]
    return "+".join(p.id for p in prompts) + "@" + digest
