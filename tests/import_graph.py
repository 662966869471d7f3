"""The package's import graph, read from the source (AST), with imports inside functions included.

``python tests/import_graph.py`` prints the figures of the package's structure: modules, lines, import
arrows between the package's own modules, import circles (strongly connected components), imports
inside functions (of the package's own modules, and of third-party packages), and modules over 400
lines. ``tests/test_layering.py`` checks the same graph against the layer order.

An import of ``slimrlfn.a.b`` also runs ``slimrlfn/a/__init__.py`` when the importing module is not
inside ``slimrlfn.a`` already: that implicit arrow to the package's face is part of the graph too.
"""
from __future__ import annotations

import ast
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Set, Tuple

PACKAGE = "slimrlfn"
PACKAGE_DIR = Path(__file__).resolve().parents[1] / PACKAGE


@dataclass(frozen=True)
class Import:
    """One import statement's target in the package: ``source`` imports ``target`` at ``line``."""

    source: str
    target: str
    line: int
    in_function: bool
    implicit: bool = False  # the face (``__init__``) of a package that the import runs on the way


@dataclass
class Graph:
    """Modules (dotted names -> file), their line counts, and every import of a package module."""

    files: Dict[str, Path] = field(default_factory=dict)
    lines: Dict[str, int] = field(default_factory=dict)
    imports: List[Import] = field(default_factory=list)
    local_third_party: List[Tuple[str, str, int]] = field(default_factory=list)

    def arrows(self, faces: bool = True) -> Set[Tuple[str, str]]:
        """Distinct (importer, imported) pairs between two different package modules.

        ``faces``: include the implicit arrows to the ``__init__`` of a package that an import runs.
        """
        return {(i.source, i.target) for i in self.imports if i.source != i.target and (faces or not i.implicit)}

    def circles(self) -> List[List[str]]:
        """Strongly connected components with more than one module (Tarjan), each sorted."""
        adjacency: Dict[str, List[str]] = {m: [] for m in self.files}
        for a, b in self.arrows():
            adjacency[a].append(b)
        index: Dict[str, int] = {}
        low: Dict[str, int] = {}
        stack: List[str] = []
        on_stack: Set[str] = set()
        found: List[List[str]] = []
        counter = [0]

        def visit(node: str) -> None:
            index[node] = low[node] = counter[0]
            counter[0] += 1
            stack.append(node)
            on_stack.add(node)
            for nxt in adjacency[node]:
                if nxt not in index:
                    visit(nxt)
                    low[node] = min(low[node], low[nxt])
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if low[node] == index[node]:
                component = []
                while True:
                    item = stack.pop()
                    on_stack.discard(item)
                    component.append(item)
                    if item == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))

        sys.setrecursionlimit(max(10_000, sys.getrecursionlimit()))
        for module in sorted(self.files):
            if module not in index:
                visit(module)
        return sorted(found, key=lambda c: (-len(c), c))

    def local_package_imports(self) -> List[Import]:
        """Imports of the package's own modules made inside a function or method (one per statement and module)."""
        return [i for i in self.imports if i.in_function and not i.implicit]

    def local_statements(self) -> List[Tuple[str, int]]:
        """The (module, line) of every import statement of a package module inside a function."""
        return sorted({(i.source, i.line) for i in self.local_package_imports()})


def module_name(path: Path, root: Path = PACKAGE_DIR) -> str:
    """``slimrlfn/a/b.py`` -> ``slimrlfn.a.b``; ``slimrlfn/a/__init__.py`` -> ``slimrlfn.a``."""
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _is_package(name: str, files: Dict[str, Path]) -> bool:
    return name in files and files[name].name == "__init__.py"


def _resolve(importer: str, files: Dict[str, Path], level: int, module: Optional[str],
             names: List[str]) -> Tuple[List[str], List[str]]:
    """The package modules an ``import`` / ``from ... import`` statement loads: (modules, faces run on the way).

    ``from pkg import sub`` loads the submodule ``pkg.sub``; ``pkg``'s ``__init__`` runs first (a face).
    """
    if level:
        base = importer.split(".")
        if not _is_package(importer, files):
            base = base[:-1]
        base = base[: len(base) - (level - 1)]
        prefix = ".".join(base + ([module] if module else []))
    else:
        prefix = module or ""
    if prefix != PACKAGE and not prefix.startswith(PACKAGE + "."):
        return [], []
    submodules = [f"{prefix}.{name}" for name in names if f"{prefix}.{name}" in files]
    if submodules:
        return submodules, [prefix] if prefix in files else []
    return ([prefix] if prefix in files else []), []


def _parents(name: str) -> List[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


class _Visitor(ast.NodeVisitor):
    def __init__(self, importer: str, files: Dict[str, Path], graph: Graph) -> None:
        self.importer, self.files, self.graph = importer, files, graph
        self.depth = 0

    def _function(self, node: ast.AST) -> None:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _function

    def _add(self, resolved: Tuple[List[str], List[str]], line: int, third_party: Optional[str]) -> None:
        targets, faces = resolved
        in_function = self.depth > 0
        if not targets and third_party and in_function:
            self.graph.local_third_party.append((self.importer, third_party, line))
        own_parents = set(_parents(self.importer)) | {self.importer}
        implicit = set(faces)
        for target in targets:
            implicit.update(_parents(target))  # the faces of the packages the importer is not in
        for target in targets:
            self.graph.imports.append(Import(self.importer, target, line, in_function))
        for face in sorted(implicit - own_parents - {PACKAGE}):
            if face in self.files:
                self.graph.imports.append(Import(self.importer, face, line, in_function, implicit=True))

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(_resolve(self.importer, self.files, 0, alias.name, []), node.lineno, alias.name.split(".")[0])

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        names = [a.name for a in node.names]
        self._add(_resolve(self.importer, self.files, node.level, node.module, names), node.lineno,
                  None if node.level else (node.module or "").split(".")[0])


def build_graph(root: Path = PACKAGE_DIR) -> Graph:
    """The graph of every ``.py`` file under ``root`` (the package folder)."""
    graph = Graph()
    for path in sorted(root.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        name = module_name(path, root)
        graph.files[name] = path
        graph.lines[name] = len(path.read_text().splitlines())
    for name, path in graph.files.items():
        _Visitor(name, graph.files, graph).visit(ast.parse(path.read_text(), filename=str(path)))
    return graph


def report(graph: Graph, limit: int = 400) -> str:
    """The figures as text (see the module docstring)."""
    circles = graph.circles()
    lines = [
        f"modules: {len(graph.files)} ({sum(graph.lines.values())} lines)",
        f"import arrows between package modules: {len(graph.arrows(faces=False))} "
        f"({len(graph.arrows())} with the package faces that the imports run)",
        f"circles: {len(circles)}" + "".join(f"\n  {len(c)} modules: {', '.join(c)}" for c in circles),
        f"import statements of package modules inside functions: {len(graph.local_statements())} "
        f"(in {', '.join(sorted({m for m, _ in graph.local_statements()})) or 'no module'})",
        f"imports of other packages inside functions: {len(graph.local_third_party)} "
        f"({', '.join(sorted({t for _, t, _ in graph.local_third_party}))})",
        f"modules over {limit} lines: "
        + (", ".join(f"{m} ({n})" for m, n in sorted(graph.lines.items()) if n > limit) or "none"),
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(report(build_graph(Path(sys.argv[1]) if len(sys.argv) > 1 else PACKAGE_DIR)))
