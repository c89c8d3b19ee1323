"""The stage graph: order, selection of a stage and its upstream, and drawings of it."""

from __future__ import annotations

from collections.abc import Iterable

from keel.core.errors import NotFound
from keel.pipeline.spec import Pipeline


def select(pipeline: Pipeline, targets: Iterable[str] | None) -> list[str]:
    """The named stages and everything upstream of them (all stages when none are named),
    in an order where every stage comes after its upstream."""
    names = list(targets or [])
    wanted: set[str] = set()
    stack = []
    for name in names:
        matches = [s for s in pipeline.stages if s == name or s.startswith(name + "@")]
        if not matches:
            known = ", ".join(pipeline.stages) or "none (add stages to keel.yaml)"
            raise NotFound(f"No stage named {name!r}; stages: {known}.")
        stack.extend(matches)
    if not names:
        stack = list(pipeline.stages)
    while stack:
        name = stack.pop()
        if name in wanted:
            continue
        wanted.add(name)
        stack.extend(pipeline.upstream[name])
    return [name for name in topological(pipeline) if name in wanted]


def topological(pipeline: Pipeline) -> list[str]:
    """Stages in dependency order (declaration order among equals)."""
    order: list[str] = []
    done: set[str] = set()

    def visit(name: str) -> None:
        if name in done:
            return
        done.add(name)
        for parent in sorted(pipeline.upstream[name], key=list(pipeline.stages).index):
            visit(parent)
        order.append(name)

    for name in pipeline.stages:
        visit(name)
    return order


def _node_id(name: str) -> str:
    return "s_" + "".join(c if c.isalnum() else "_" for c in name)


def mermaid(pipeline: Pipeline) -> str:
    lines = ["flowchart TD"]
    for name in topological(pipeline):
        lines.append(f'    {_node_id(name)}["{name}"]')
    for name in topological(pipeline):
        for parent in sorted(pipeline.upstream[name]):
            lines.append(f"    {_node_id(parent)} --> {_node_id(name)}")
    return "\n".join(lines) + "\n"


def dot(pipeline: Pipeline) -> str:
    lines = ["digraph pipeline {", "    rankdir=TB;", "    node [shape=box];"]
    for name in topological(pipeline):
        lines.append(f'    "{name}";')
    for name in topological(pipeline):
        for parent in sorted(pipeline.upstream[name]):
            lines.append(f'    "{parent}" -> "{name}";')
    lines.append("}")
    return "\n".join(lines) + "\n"


def ascii_tree(pipeline: Pipeline) -> str:
    """A plain listing: each stage with the stages it waits for."""
    lines = []
    for name in topological(pipeline):
        parents = sorted(pipeline.upstream[name])
        lines.append(f"{name}" + (f"  ← {', '.join(parents)}" if parents else ""))
    return "\n".join(lines) + "\n"
