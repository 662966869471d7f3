"""Every notebook committed clean (no outputs, H1 first, one typed and commented parameters cell that papermill
reads), and unchanged by the git filter of ``make hooks``."""
from __future__ import annotations

import nbformat
import pytest

from tests.notebooks.harness import (
    MODEL_PARAMETERS,
    NOTEBOOKS,
    REPO,
    WORKBOOK_PARAMETERS,
    parameter_names,
    parameters_cell,
)

PARAMETER_NAMES = WORKBOOK_PARAMETERS


def all_notebooks():
    return sorted(NOTEBOOKS.glob("*.ipynb"))


@pytest.mark.parametrize("path", all_notebooks(), ids=lambda p: p.name)
def test_notebook_is_committed_clean(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    first = nb.cells[0]
    assert first.cell_type == "markdown" and first.source.lstrip().startswith("# "), "first cell must be an H1"
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    for cell in code:
        assert cell.outputs == [], f"{path.name}: a code cell has outputs (strip them)"
        assert cell.execution_count is None, f"{path.name}: a code cell has an execution count"
    tagged = [cell for cell in nb.cells if "parameters" in cell.metadata.get("tags", [])]
    assert len(tagged) == 1, f"{path.name}: expected exactly one cell tagged 'parameters', found {len(tagged)}"
    assert tagged[0].cell_type == "code"


@pytest.mark.parametrize("path", all_notebooks(), ids=lambda p: p.name)
def test_the_parameters_are_the_workbook_ones_first_typed_and_commented(path):
    from papermill.translators import PythonTranslator

    cell = parameters_cell(path.name)
    lines = [line for line in cell.source.splitlines() if line.strip()]
    names = [line.split(":")[0].strip() for line in lines]
    assert names[:5] == PARAMETER_NAMES
    assert all("#" in line for line in lines), "every parameter has a comment"
    assert all(": " in line.split("=")[0] for line in lines), "every parameter has a type"
    parsed = PythonTranslator.inspect(cell)  # papermill skips (with a warning) lines it cannot parse
    assert [p.name for p in parsed] == names and all(p.help for p in parsed)


@pytest.mark.parametrize("name", ["01b_reparameterization.ipynb", "05_factsheet.ipynb"])
def test_these_take_only_the_workbook_parameters(name):
    assert parameter_names(name) == PARAMETER_NAMES


@pytest.mark.parametrize("name", ["01_model_definition.ipynb", "03_evaluation.ipynb", "04_warmup_timing_study.ipynb",
                                  "04b_deployment_backends.ipynb", "06_challenge_field.ipynb"])
def test_these_take_the_models_next(name):
    names = parameter_names(name)
    assert names[:8] == PARAMETER_NAMES + MODEL_PARAMETERS
    if name.startswith(("01_", "03_")):
        assert names == PARAMETER_NAMES + MODEL_PARAMETERS


def test_the_clean_check_covers_every_workbook_notebook():
    from slimrlfn.workbook import list_notebooks

    workbook = [p.name for p in list_notebooks(NOTEBOOKS)]
    assert set(workbook) <= {p.name for p in all_notebooks()}
    gathered = [name for name in workbook if name[:2] in ("01", "02", "03", "04")]
    assert workbook.index("05_factsheet.ipynb") > max(map(workbook.index, gathered)), \
        "the factsheet comes after the notebooks it gathers"
    assert workbook[-1] == "06_challenge_field.ipynb", "the field study writes its own factsheet table, last"


@pytest.mark.parametrize("path", all_notebooks(), ids=lambda p: p.name)
def test_papermill_lists_the_parameters(path):
    """What ``papermill --help-notebook`` prints: the workbook parameters first, each with its type and help."""
    import papermill

    params = papermill.inspect_notebook(str(path))
    assert list(params)[:5] == PARAMETER_NAMES
    assert all(p["help"] and p["inferred_type_name"] != "None" for p in params.values()), params


def test_papermill_help_notebook_command_lists_notebook_05():
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "papermill", "--help-notebook", str(NOTEBOOKS / "05_factsheet.ipynb")],
                         capture_output=True, text=True, timeout=120, check=True).stdout
    for name in PARAMETER_NAMES:
        assert f"  {name}: " in out, out


def _git_filter_flags() -> list:
    """The nbstripout flags of the git filter that ``make hooks`` installs (``NBSTRIPOUT_FLAGS`` in the Makefile)."""
    import re
    import shlex

    text = (REPO / "Makefile").read_text().replace("\\\n", " ")
    match = re.search(r"^NBSTRIPOUT_FLAGS\s*:?=(.*)$", text, re.MULTILINE)
    assert match, "the Makefile defines NBSTRIPOUT_FLAGS for make hooks"
    return shlex.split(match.group(1))


@pytest.mark.parametrize("path", all_notebooks(), ids=lambda p: p.name)
def test_notebook_is_unchanged_by_the_git_filter(path):
    """``nbstripout --verify`` with the flags of ``make hooks``: committed notebooks are the filter's fixed points."""
    import subprocess
    import sys

    pytest.importorskip("nbstripout")
    flags = _git_filter_flags()
    assert "--keep-id" in flags, "without it nbstripout renumbers the cell ids of every notebook"
    result = subprocess.run([sys.executable, "-m", "nbstripout", "--verify", *flags, str(path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"{path.name}: nbstripout would change it: {result.stdout}{result.stderr}"
