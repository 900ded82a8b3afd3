"""Where each input's output goes, decided for the whole batch before anything is read.

Two rules keep a batch from destroying anything: no output lands on an input, and no two inputs
share an output. With ``-o FOLDER`` an output is named after its input (``statement.pdf`` ->
``statement.json``); inputs whose names would collide keep their path relative to the folder
they share (``a/statement.pdf`` -> ``a/statement.json``), and inputs that still collide (the same
name with another extension, in one folder) keep their extension (``statement.pdf.json``).
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path


class OutputPlanError(ValueError):
    """An ``-o`` that would overwrite an input: a usage error, refused before anything is read."""


@dataclass
class OutputPlan:
    """Each input's output file (None: stdout), and the inputs whose names had to change."""

    targets: dict[Path, Path | None]
    renamed: list[tuple[Path, Path]] = field(default_factory=list)


def plan_outputs(
    sources: Sequence[Path], output: str | None, suffix: str, *, folder: bool = False
) -> OutputPlan:
    """``output`` is a file, a folder (several inputs, an existing folder, a trailing ``/``, or
    ``folder``: a cluster batch writes one file per input whatever the name says), or
    None/``-`` for stdout."""
    if output in (None, "-"):
        return OutputPlan({source: None for source in sources})
    target = Path(output)
    as_file = not (folder or target.is_dir() or output.endswith(("/", os.sep)))
    if len(sources) == 1 and as_file:
        plan = OutputPlan({sources[0]: target})
    else:
        plan = _into_folder(sources, target, suffix)
    _refuse_overwriting_inputs(plan, sources, output)
    return plan


def _into_folder(sources: Sequence[Path], folder: Path, suffix: str) -> OutputPlan:
    by_name: dict[str, list[Path]] = defaultdict(list)
    for source in dict.fromkeys(sources):  # a file given twice is read once, written once
        by_name[source.stem + suffix].append(source)
    plan = OutputPlan({})
    for name, group in by_name.items():
        if len(group) == 1:
            plan.targets[group[0]] = folder / name
            continue
        common = Path(os.path.commonpath([s.resolve().parent for s in group]))
        relative = {s: s.resolve().parent.relative_to(common) / (s.stem + suffix) for s in group}
        for source in group:
            name_taken = list(relative.values()).count(relative[source]) > 1
            kept = relative[source].with_name(source.name + suffix) if name_taken else None
            destination = folder / (kept or relative[source])
            plan.targets[source] = destination
            plan.renamed.append((source, destination))
    return plan


def _refuse_overwriting_inputs(plan: OutputPlan, sources: Sequence[Path], output: str) -> None:
    inputs = {source.resolve(): source for source in sources}
    for target in plan.targets.values():
        if target is None:
            continue
        # The output itself, or a folder it would go into that is an input file (``-o
        # statement.pdf`` read as a folder).
        resolved = target.resolve()
        for path in (resolved, *resolved.parents):
            if path in inputs and (path == resolved or not path.is_dir()):
                raise OutputPlanError(
                    f"-o {output} would overwrite the input {inputs[path]}; choose another output"
                )
