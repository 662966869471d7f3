"""The one notebook-test harness: run a workbook notebook through papermill in quick mode, check what it wrote.

After the harness of microsoft/recommenders (``tests/conftest.py`` plus ``notebook_utils``): every notebook
test runs its notebook the way ``slimrlfn workbook`` does (the workbook parameters, the notebooks folder as
working directory, the CPU), then reads the results JSON and the figures it wrote.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List, Optional

import nbformat
import pytest

from slimrlfn.arch.zoo import ZOO, find_checkpoint
from slimrlfn.core.errors import UserError

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"
#: The parameters every workbook notebook takes first (slimrlfn.workbook.notebook_parameters).
WORKBOOK_PARAMETERS = ["quick", "data_dir", "figures_dir", "results_dir", "device"]
#: The model parameters that notebooks 01, 03, 04 and 04b take next (slimrlfn.workbook.model_parameters).
MODEL_PARAMETERS = ["models", "challenge_repo", "model_ids"]


def parameters_cell(name: str) -> Any:
    """The one cell of notebook ``name`` tagged ``parameters``."""
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    (cell,) = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    return cell


def parameter_names(name: str) -> List[str]:
    """The names the parameters cell of ``name`` assigns, in order."""
    return [line.split(":")[0].strip() for line in parameters_cell(name).source.splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def run_notebook(name: str, out_dir: Path, data_dir: Optional[Path] = None, results_dir: Optional[Path] = None,
                 figures_dir: Optional[Path] = None, **parameters: Any) -> Dict[str, Path]:
    """Execute ``notebooks/<name>`` in quick mode on the CPU; returns its results, figures and executed copy."""
    import papermill

    dirs = {"results": results_dir or out_dir / "results", "figures": figures_dir or out_dir / "figures",
            "executed": out_dir / name}
    papermill.execute_notebook(
        str(NOTEBOOKS / name), str(dirs["executed"]),
        parameters=dict(quick=True, data_dir=str(data_dir or out_dir / "data"), figures_dir=str(dirs["figures"]),
                        results_dir=str(dirs["results"]), device="cpu", **parameters),
        cwd=str(NOTEBOOKS), kernel_name="python3", progress_bar=False,
    )
    return dirs


def read_json(path: Path) -> Any:
    """A results file a notebook wrote."""
    return json.loads(Path(path).read_text())


def assert_figure(png: Path) -> None:
    """``png`` and its PDF twin exist, the PDF is a PDF and the PNG is not blank."""
    import matplotlib.image as mpimg

    assert png.is_file(), png
    assert png.with_suffix(".pdf").read_bytes()[:5] == b"%PDF-", png.with_suffix(".pdf")
    assert float(mpimg.imread(png)[..., :3].std()) > 0.01, f"{png} is blank"


def zoo_folder() -> Path:
    """The one folder that holds the official checkpoints (``$SLIMRLFN_MODEL_ZOO``, else ``../shared/model_zoo``, else
    wherever the zoo's lookup finds them); skips the test, with the reason, when they are not there."""
    from tests.conftest import zoo_dir

    folder = zoo_dir().resolve()
    if all((folder / entry.file).is_file() for entry in ZOO.values()):
        return folder
    folders = set()
    for name in ZOO:
        try:
            folders.add(find_checkpoint(name, download=False).resolve().parent)
        except UserError as exc:
            pytest.skip(f"official checkpoints not found in {folder} nor by the zoo's lookup (set SLIMRLFN_SHARED or "
                        f"SLIMRLFN_MODEL_ZOO): {exc}")
    if len(folders) != 1:
        pytest.skip(f"official checkpoints are spread over several folders: {sorted(map(str, folders))}")
    return folders.pop()
