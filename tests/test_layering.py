"""The package in layers: the import graph read from the source (function-local imports included) has no
circle, no arrow from a lower layer to a higher one, no package import inside a function but the CLI's
lazy sub-command loaders, and no module over 400 lines."""
from __future__ import annotations

from typing import Optional

import pytest

from tests.import_graph import PACKAGE, build_graph

#: The layers, lowest first. A module may import its own subpackage and the layers below its own, never a
#: unit of its own layer or above.
LAYERS = (
    ("core",),
    ("arch",),
    ("metrics",),
    ("data",),
    ("deploy", "train"),
    ("evaluate", "prune", "quantize", "timing"),
    ("figures",),
    ("factsheet",),
    ("field",),
    ("official",),
    ("notebook", "workbook"),
    ("cli",),
)
#: Entry points (``python -m ...``) sit on top of everything.
ENTRY_POINTS: tuple = ()
LIMIT_LINES = 400
GRAPH = build_graph()


def unit_of(module: str) -> Optional[str]:
    """The layer unit of a module: its subpackage or top-level module; None for the root face and entry points."""
    if module == PACKAGE or module in ENTRY_POINTS or module.endswith(".__main__"):
        return None
    return module.split(".")[1]


LAYER_OF = {unit: depth for depth, units in enumerate(LAYERS) for unit in units}


def test_every_module_has_a_layer():
    units = {unit_of(m) for m in GRAPH.files} - {None}
    assert units <= set(LAYER_OF), f"modules outside every layer: {sorted(units - set(LAYER_OF))}"
    assert len(GRAPH.files) > 50, "the graph read the package"


def test_no_import_circle():
    assert GRAPH.circles() == []


def upward_arrows(graph) -> list:
    """Every arrow into an entry point, into a unit of the same layer, or from a lower layer to a higher one."""
    upward = []
    for source, target in sorted(graph.arrows()):
        a, b = unit_of(source), unit_of(target)
        if a is None or target == PACKAGE:
            continue
        if b is None:
            upward.append(f"{source} -> {target} (an entry point)")
        elif a != b and LAYER_OF[b] >= LAYER_OF[a]:
            upward.append(f"{source} -> {target} ({a} is layer {LAYER_OF[a]}, {b} layer {LAYER_OF[b]})")
    return upward


def test_arrows_point_down():
    assert upward_arrows(GRAPH) == []


def test_package_imports_inside_functions_only_in_the_cli_loaders():
    local = [f"{module}:{line}" for module, line in GRAPH.local_statements() if module != "slimrlfn.cli"]
    assert local == []


def test_modules_stay_small():
    big = {module: lines for module, lines in GRAPH.lines.items() if lines > LIMIT_LINES}
    assert big == {}


@pytest.mark.parametrize("source, expected", [
    ("from slimrlfn.evaluate import command", {"slimrlfn.evaluate.command"}),
    ("from slimrlfn.core.errors import UserError", {"slimrlfn.core.errors"}),
])
def test_the_graph_resolves_imports(source, expected, tmp_path):
    package = tmp_path / PACKAGE
    for name in ("core", "evaluate"):
        (package / name).mkdir(parents=True)
        (package / name / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    (package / "core" / "errors.py").write_text("class UserError(Exception):\n    pass\n")
    (package / "evaluate" / "command.py").write_text("")
    (package / "cli.py").write_text(f"def load():\n    {source}\n")
    graph = build_graph(package)
    direct = {i.target for i in graph.imports if i.source == "slimrlfn.cli" and not i.implicit}
    assert direct == expected and all(i.in_function for i in graph.imports)
    faces = {i.target for i in graph.imports if i.implicit}
    assert faces == {target.rsplit(".", 1)[0] for target in expected}, "the package's face runs first"
    assert graph.circles() == []


def _package(tmp_path, files: dict):
    package = tmp_path / PACKAGE
    for relative, text in {"__init__.py": "", **files}.items():
        path = package / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if not (path.parent / "__init__.py").exists():
            (path.parent / "__init__.py").write_text("")
        path.write_text(text)
    return build_graph(package)


def test_a_circle_and_an_upward_arrow_are_found(tmp_path):
    graph = _package(tmp_path, {
        "data/images.py": "def read():\n    from slimrlfn.evaluate.ntire import evaluate\n",  # up, inside a function
        "evaluate/ntire.py": "from slimrlfn.data import images\n",
        "core/errors.py": "from slimrlfn.cli import main\n",
        "cli.py": "from slimrlfn.core.errors import UserError\n",
    })
    assert ["slimrlfn.cli", "slimrlfn.core.errors"] in graph.circles()
    assert ["slimrlfn.data.images", "slimrlfn.evaluate.ntire"] in graph.circles()
    upward = upward_arrows(graph)
    assert any(line.startswith("slimrlfn.data.images -> slimrlfn.evaluate.ntire") for line in upward)
    assert any(line.startswith("slimrlfn.core.errors -> slimrlfn.cli") for line in upward)
    assert graph.local_statements() == [("slimrlfn.data.images", 2)]
