"""The layout of DESIGN §7, kept by a test: dependencies point down, and the import graph of
bot/, handlers/ and models/ has no cycle.

handlers → services → domain / views → models; nothing in bot/ imports handlers/; the domain is
pure (no database, no Telegram); services know nothing of Telegram; views read no database.
Every import counts, including those under ``if TYPE_CHECKING:`` and inside functions.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers", "models")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "versions" in path.parts:  # generated migrations
                continue
            found[module_name(path)] = path
    return found


MODULES = modules()


def imports_of(name: str, path: Path) -> Iterator[str]:
    """Every module ``name`` imports: ``from a.b import c`` names ``a.b.c`` when that is a
    module of ours, else ``a.b``."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                yield candidate if candidate in MODULES else base


GRAPH = {name: set(imports_of(name, path)) for name, path in MODULES.items()}


def ours(name: str) -> str | None:
    """The module of ours that an imported name is, or lies in."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), and self-imports."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph[node]:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def internal_graph() -> dict[str, set[str]]:
    return {name: {m for m in map(ours, targets) if m is not None and m != name}
            for name, targets in GRAPH.items()}


def offenders(layer: str, forbidden: tuple[str, ...]) -> list[str]:
    return sorted(f"{name} imports {target}" for name, targets in GRAPH.items()
                  if name == layer or name.startswith(layer + ".")
                  for target in targets
                  if any(target == f or target.startswith(f + ".") for f in forbidden))


def test_the_graph_is_read_from_every_module() -> None:
    assert {"bot.runtime", "bot.domain.access", "bot.views.alerts", "bot.outbox.sender",
            "bot.services.escalation", "handlers", "models.case"} <= set(MODULES)
    assert "bot.domain.tiers" in GRAPH["models.responder"]


def test_the_import_graph_has_no_cycle() -> None:
    assert cycles(internal_graph()) == []


def test_nothing_in_bot_imports_the_handlers() -> None:
    assert offenders("bot", ("handlers",)) == []


def dynamic_imports(path: Path) -> list[str]:
    """Calls that import a module by a name known only when they run."""
    return [ast.unparse(node) for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.Call)
            and ast.unparse(node.func).split(".")[-1] in ("import_module", "__import__")]


def test_nor_by_a_name_in_a_string() -> None:
    assert [call for name, path in MODULES.items() if name.startswith("bot")
            for call in dynamic_imports(path)] == []


def test_the_running_bot_finds_the_handlers_by_their_entry_point() -> None:
    """``ppa-bot run``, the webhook, the harness and the bench hand ``build_application`` what
    the ``ppa_bot.handlers`` entry point of pyproject.toml names: the ``handlers`` package."""
    import handlers
    from bot.app import installed_handlers

    assert installed_handlers() is handlers


def test_the_domain_is_pure() -> None:
    assert offenders("bot.domain", ("sqlalchemy", "telegram", "models", "bot.db",
                                    "bot.services", "bot.views", "bot.outbox")) == []


def test_services_know_nothing_of_telegram() -> None:
    assert offenders("bot.services", ("telegram", "bot.views", "bot.context")) == []


def test_views_read_no_database() -> None:
    assert offenders("bot.views", ("sqlalchemy", "bot.db", "bot.outbox")) == []


# Still open: the case card's views read the services' read models (``Card``, ``CaseList``,
# ``History``, ``Actor``, the relay's reasons; the case's ``Services``; "Lengkapi data"'s
# ``Record`` of victims and perpetrators), which carry database rows and so cannot move to the
# row-free domain. No other view may lean on a service.
VIEWS_ON_SERVICE_TYPES = {"bot.views.cases", "bot.views.services", "bot.views.record"}


def test_views_take_their_types_from_the_domain_not_from_services() -> None:
    leaning = {line.split(" imports ")[0] for line in offenders("bot.views", ("bot.services",))}
    assert leaning == VIEWS_ON_SERVICE_TYPES


@pytest.mark.parametrize("graph, expected", [
    ({"a": {"b"}, "b": {"a"}, "c": set()}, [["a", "b"]]),
    ({"a": {"b"}, "b": {"c"}, "c": set()}, []),
    ({"a": {"a"}}, [["a"]]),
])
def test_the_cycle_finder_finds_cycles(graph: dict[str, set[str]],
                                       expected: list[list[str]]) -> None:
    assert cycles(graph) == expected
