"""The notebooks: committed clean (no outputs, H1 first, one parameters cell), and run through papermill in
quick mode, checking the results files and figures they write."""
from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from slimrlfn.errors import UserError

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
PARAMETER_NAMES = ["quick", "data_dir", "figures_dir", "results_dir", "device"]


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


@pytest.mark.parametrize("name", ["01_model_definition.ipynb", "03_evaluation.ipynb", "05_factsheet.ipynb"])
def test_notebook_takes_the_workbook_parameters(name):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    (cell,) = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assigned = [line.split(":")[0].strip() for line in cell.source.splitlines()
                if line.strip() and not line.lstrip().startswith("#")]
    assert assigned == PARAMETER_NAMES
    assert all("#" in line for line in cell.source.splitlines() if line.strip()), "every parameter has a comment"


def test_the_clean_check_covers_every_workbook_notebook():
    from slimrlfn.workbook import list_notebooks

    workbook = [p.name for p in list_notebooks(NOTEBOOKS)]
    assert set(workbook) <= {p.name for p in all_notebooks()}
    assert workbook[-1] == "05_factsheet.ipynb", "the factsheet comes last, after the notebooks it gathers"


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


# --------------------------------------------------------------------------- papermill runs


@pytest.fixture(scope="module")
def zoo_dir():
    """The absolute folder holding the official checkpoints; skips the test when they are not found."""
    from slimrlfn.zoo import ZOO, find_checkpoint

    folders = set()
    for name in ZOO:
        try:
            folders.add(find_checkpoint(name, download=False).resolve().parent)
        except UserError as exc:
            pytest.skip(f"official checkpoints not found (set SLIMRLFN_MODEL_ZOO): {exc}")
    if len(folders) != 1:
        pytest.skip(f"official checkpoints are spread over several folders: {sorted(map(str, folders))}")
    return folders.pop()


@pytest.fixture
def zoo_env(zoo_dir, monkeypatch):
    """The kernel runs in notebooks/, so point it at the checkpoints explicitly and forbid downloads."""
    monkeypatch.setenv("SLIMRLFN_MODEL_ZOO", str(zoo_dir))
    monkeypatch.setenv("SLIMRLFN_OFFLINE", "1")


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory):
    from slimrlfn.data import make_sample

    out = tmp_path_factory.mktemp("sample")
    make_sample(out, progress=False)
    return out


def run_notebook(name: str, data_dir: Path, out_dir: Path) -> dict:
    import papermill

    figures = out_dir / "figures"
    results = out_dir / "results"
    papermill.execute_notebook(
        str(NOTEBOOKS / name), str(out_dir / name),
        parameters=dict(quick=True, data_dir=str(data_dir), figures_dir=str(figures),
                        results_dir=str(results), device="cpu"),
        cwd=str(NOTEBOOKS), kernel_name="python3", progress_bar=False,
    )
    return {"figures": figures, "results": results}


def assert_figure(path: Path) -> None:
    import matplotlib.image as mpimg

    assert path.is_file(), path
    assert path.with_suffix(".pdf").is_file(), path.with_suffix(".pdf")
    assert path.with_suffix(".pdf").read_bytes()[:5] == b"%PDF-"
    assert float(mpimg.imread(path)[..., :3].std()) > 0.01, f"{path} is blank"


@pytest.mark.notebook
def test_01_model_definition(zoo_env, sample_dir, tmp_path):
    dirs = run_notebook("01_model_definition.ipynb", sample_dir, tmp_path)
    summary = json.loads((dirs["results"] / "01_model_definition.json").read_text())
    counts = {row["model"]: row for row in summary["counts"]}
    assert set(counts) == {"RLFN", "SlimRLFN", "SlimRLFN-prune"}
    assert counts["SlimRLFN"]["flops"] == pytest.approx(11.99, abs=0.01)
    assert counts["RLFN"]["flops"] == pytest.approx(19.67, abs=0.01)
    assert counts["SlimRLFN-prune"]["flops"] == pytest.approx(11.30, abs=0.01)
    assert counts["SlimRLFN"]["num_parameters_raw"] == 207774
    assert counts["SlimRLFN-prune"]["num_parameters"] < counts["SlimRLFN"]["num_parameters"] < counts["RLFN"]["num_parameters"]
    for row in counts.values():
        assert row["flops"] < row["macs_ptflops_aten"] < row["macs_ptflops_pytorch"]
    assert [p["max |output difference|"] for p in summary["parity"]] == [0.0, 0.0, 0.0]
    assert all(p["config == zoo config"] for p in summary["parity"])
    for name in ("rlfn", "slimrlfn", "slimrlfn_prune"):
        assert (dirs["results"] / "checkpoints" / f"{name}.pth").is_file()
        assert (dirs["results"] / "checkpoints" / f"{name}.json").is_file()
    assert {Path(p).name for p in summary["figures"]} == {
        "01_channel_widths.png", "01_channel_widths.pdf", "01_model_counts.png", "01_model_counts.pdf"}
    for stem in ("01_channel_widths", "01_model_counts"):
        assert_figure(dirs["figures"] / f"{stem}.png")


@pytest.mark.notebook
def test_03_evaluation(zoo_env, sample_dir, tmp_path):
    dirs = run_notebook("03_evaluation.ipynb", sample_dir, tmp_path)
    summary = json.loads((dirs["results"] / "03_evaluation.json").read_text())
    assert set(summary["psnr"]) == {"RLFN", "SlimRLFN", "SlimRLFN-prune"}
    for value in summary["psnr"].values():
        assert 20.0 < value < 40.0
    assert summary["psnr"]["RLFN"] > summary["psnr"]["SlimRLFN-prune"] - 0.5
    assert summary["splits"] == ["valid"]
    assert isinstance(summary["device"], str) and summary["device"]
    assert summary["device_info"]["device"] == "cpu"
    results = json.loads((dirs["results"] / "eval" / "results.json").read_text())
    assert set(results) == {"00_RLFN_baseline", "21_SlimRLFN", "21_SlimRLFN_prune"}
    for entry in results.values():
        assert len(entry["valid_psnr"]) == 4 and "test_psnr" not in entry
    for stem in ("03_psnr_per_image", "03_sr_crops"):
        assert_figure(dirs["figures"] / f"{stem}.png")
        assert str(dirs["figures"] / f"{stem}.png") in summary["figures"]
