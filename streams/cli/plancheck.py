"""``quotaflow plan check``: every error of a plan file, with field path and line."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

from domain.plan import Plan


def _line_of(root: yaml.Node | None, path: tuple[int | str, ...]) -> int | None:
    """The 1-based line ``path`` points at in the YAML document, as far as it goes."""
    node, line = root, None
    for part in path:
        if node is None:
            break
        line = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if k.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            node = node.value[part] if part < len(node.value) else None
        else:
            node = None
    return node.start_mark.line + 1 if node is not None else line


def check_plan(path: Path) -> list[str]:
    """Problems of the plan file, one message each; empty when the plan is valid."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        return [f"{path}: cannot read: {exc.strerror}"]
    try:
        document = yaml.safe_load(text)
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        return [f"{path}: not valid YAML: {exc}"]
    try:
        Plan.model_validate(document)
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False):
            where = ".".join(str(p) for p in error["loc"]) or "plan"
            line = _line_of(root, tuple(error["loc"]))
            at = f"{path}:{line}" if line else str(path)
            problems.append(f"{at}: {where}: {error['msg']}")
        return problems
    return []
