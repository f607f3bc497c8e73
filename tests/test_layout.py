"""The shape of the package: no import cycle (lazy imports counted), no oversized module, no
path to the repository's shared benchmark data, no history in the product's text."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "rag"


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, modules: set[str]) -> set[str]:
    """The package's own modules that ``path`` imports anywhere (top level, in functions, under
    TYPE_CHECKING): ``from rag.x import y`` counts as ``rag.x.y`` when that is a module."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name in modules)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module in modules:
                out.add(node.module)
            out.update(f"{node.module}.{a.name}" for a in node.names if f"{node.module}.{a.name}" in modules)
    return out


def import_graph() -> dict[str, set[str]]:
    files = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    modules = set(files)
    return {name: _imports(path, modules) - {name} for name, path in files.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a list of nodes (first repeated last), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_find_cycle_finds_a_hand_made_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def _is_package_reexport(edge_from: str, edge_to: str) -> bool:
    # a package's __init__ importing its own submodules, and those importing siblings by their
    # full name, is not a cycle of behaviour: only cycles between different modules' code count
    return edge_to.startswith(edge_from + ".")


def test_no_import_cycle_counting_lazy_imports() -> None:
    graph = import_graph()
    graph = {a: {b for b in bs if not _is_package_reexport(a, b)} for a, bs in graph.items()}
    assert find_cycle(graph) is None


def test_no_module_is_oversized() -> None:
    long = {
        p.relative_to(ROOT).as_posix(): n for p in PACKAGE.rglob("*.py") if (n := len(p.read_text().splitlines())) > 500
    }
    assert long == {}


def test_the_product_never_names_the_shared_data_folder() -> None:
    pattern = re.compile(r"\.\./shared|[\"']shared[\"']\s*/")
    hits = [
        f"{p.relative_to(ROOT)}:{i}"
        for p in PACKAGE.rglob("*.py")
        for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert hits == []


#: What history looks like in text: a commit id (hex with letters and digits), "step 3", "the
#: fifth step", "previous default".
HISTORY = re.compile(
    r"\b(?=[0-9a-f]*[a-f])(?=[0-9a-f]*[0-9])[0-9a-f]{7,40}\b"
    r"|\bstep \d+\b|\b(?:first|second|third|fourth|fifth|sixth|seventh) step\b|\bprevious default\b",
    re.IGNORECASE,
)


def test_history_pattern() -> None:
    assert HISTORY.search("from a fresh clone (commit ff9d657)")
    assert HISTORY.search("the fifth step's answer") and HISTORY.search("see step 3")
    assert not HISTORY.search("an earlier statement, 1898, deadbeef, sha256")


def test_no_history_in_the_readme_or_the_package() -> None:
    files = [ROOT / "README.md", *PACKAGE.rglob("*.py")]
    hits = [
        f"{f.relative_to(ROOT)}:{i}: {m.group(0)}"
        for f in files
        for i, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1)
        if (m := HISTORY.search(line))
    ]
    assert hits == []


def test_readme_is_a_product_page() -> None:
    assert len((ROOT / "README.md").read_text(encoding="utf-8").splitlines()) <= 250
