"""The main job: run the numbered notebooks in order through papermill, headless.

Each ``notebooks/NN_*.ipynb`` gets the parameters ``quick``, ``data_dir``, ``figures_dir``,
``results_dir`` and ``device``, and those that declare them (01, 03, 04, 04b) the models: ``models``,
``challenge_repo`` and ``model_ids`` (:func:`slimrlfn.arch.arguments.select_models`; when none is given,
each notebook keeps its default); it runs with the notebooks folder as working directory (as in
JupyterLab), with ``SLIMRLFN_MODEL_ZOO`` made absolute first (or set to ``./model_zoo`` when that holds the
checkpoints), so the kernels find the checkpoints where this folder finds them. Executed copies go to ``<out_dir>/executed/`` (git-ignored), results to
``<out_dir>/results/``, figures to ``figures/``. A failing notebook stops the run: its failing cell
and error are printed and its executed copy is kept. ``<out_dir>/summary.json`` lists each
notebook, its status, its time and the device.

The notebooks resume what an earlier run left in ``<out_dir>/results/`` (pruning runs, timing studies, the field):
:func:`earlier_results` finds those stages and the run prints them, with their date and the machine load they
recorded, before it starts; ``--fresh`` (``make workbook FRESH=1``) clears ``<out_dir>/results/`` and
``<out_dir>/executed/`` first, so that everything is measured again.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence

from slimrlfn.arch.arguments import add_models_arguments, select_models
from slimrlfn.arch.ref import ModelRef
from slimrlfn.arch.zoo import zoo_environment
from slimrlfn.core.devices import describe_device, recorded_loads, resolve_device
from slimrlfn.core.errors import UserError
from slimrlfn.core.files import PathLike, atomic_write_json
from slimrlfn.core.outputs import check_output_dir
from slimrlfn.data.sample import make_sample

__all__ = ["REUSED_STAGES", "add_arguments", "earlier_results", "list_notebooks", "model_parameters",
           "notebook_parameters", "reuse_lines", "run_from_args", "run_workbook"]

REPO_ROOT = Path(__file__).resolve().parents[1]


def list_notebooks(notebooks_dir: PathLike, only: Optional[Sequence[str]] = None) -> List[Path]:
    """The numbered notebooks ``NN_*.ipynb`` in reading order; ``only`` keeps those whose name starts so."""
    found = sorted(Path(notebooks_dir).glob("[0-9][0-9]*_*.ipynb"))
    if only:
        found = [p for p in found if any(p.name.startswith(prefix) for prefix in only)]
        if not found:
            raise UserError(f"--only {' '.join(only)}: no notebook in {notebooks_dir} starts with that")
    return found


def notebook_parameters(mode: str, data_dir: Path, figures_dir: Path, results_dir: Path, device: str) -> Dict[str, Any]:
    """The parameters every workbook notebook takes (absolute paths)."""
    if mode not in ("quick", "full"):
        raise UserError(f"--mode {mode!r}: expected quick or full")
    return {"quick": mode == "quick", "data_dir": str(data_dir.resolve()), "figures_dir": str(figures_dir.resolve()),
            "results_dir": str(results_dir.resolve()), "device": device}


def model_parameters(models: Optional[Sequence[Any]] = None, challenge_repo: Optional[PathLike] = None,
                     model_ids: Optional[Sequence[int]] = None) -> Dict[str, Any]:
    """The model parameters of the notebooks that take them (only those given); the models are loaded once
    here (:func:`select_models`), so that a bad one is one line before any notebook runs."""
    if not models and challenge_repo is None:
        if model_ids:
            raise UserError("--model_ids: give --challenge_repo DIR, the repository the ids are entries of")
        return {}
    select_models(list(models or []), challenge_repo, list(model_ids or []), what="--models")
    given: Dict[str, Any] = {}
    if models:  # the notebooks run in notebooks/: a relative file path must still name the user's file
        given["models"] = [ModelRef.parse(item, "--models").absolute().to_json() for item in models]
    if challenge_repo is not None:
        given.update(challenge_repo=str(Path(challenge_repo).resolve()), model_ids=list(model_ids or []))
        given.setdefault("models", [])  # only the entries, unless --models names more
    return given


#: What a notebook reads back from an earlier run instead of measuring again: stage -> files under results/.
REUSED_STAGES: Dict[str, Sequence[str]] = {
    "pruning runs (notebook 02)": ("prune/*/records.jsonl",),
    "timing studies (notebook 04)": ("04_timing_*.json",),
    "deployment timings (notebook 04b)": ("04b_backends.json", "04b_separate_*.json", "04b_consecutive_*.json"),
    "the field (notebook 06)": ("06_field_*.json",),
}


def earlier_results(results_dir: PathLike) -> List[Dict[str, Any]]:
    """The stages of :data:`REUSED_STAGES` an earlier run left in ``results_dir``: ``{stage, files, written (the
    newest file's local time), loads (the 1-minute load averages its runs recorded)}``."""
    found = []
    for stage, patterns in REUSED_STAGES.items():
        files = sorted({path for pattern in patterns for path in Path(results_dir).glob(pattern) if path.is_file()})
        if not files:
            continue
        loads: List[float] = []
        for path in files:
            if path.suffix == ".json":
                try:
                    loads += recorded_loads(json.loads(path.read_text()))
                except (OSError, ValueError):
                    continue
        newest = max(path.stat().st_mtime for path in files)
        found.append({"stage": stage, "files": len(files), "loads": loads,
                      "written": time.strftime("%Y-%m-%d %H:%M", time.localtime(newest))})
    return found


def reuse_lines(found: Sequence[Dict[str, Any]]) -> List[str]:
    """What :func:`earlier_results` found, one line per stage, and how to measure again."""
    if not found:
        return []
    lines = ["reused from an earlier run (make workbook FRESH=1, or --fresh, measures everything again):"]
    for item in found:
        load = (f", machine load {min(item['loads']):.2f}-{max(item['loads']):.2f} (1-min average)"
                if item["loads"] else "")
        lines.append(f"  {item['stage']}: {item['files']} file(s), last written {item['written']}{load}")
    return lines


def _public(value: Any) -> Any:
    """A path of this run as the summary publishes it: relative to the current folder when it lies under it (the
    clone, for `make workbook`), else as given; anything else unchanged."""
    if not isinstance(value, str) or not os.path.isabs(value):
        return value
    try:
        return str(Path(value).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return value


def _failure_text(exc: Exception) -> str:
    ename = getattr(exc, "ename", type(exc).__name__)
    evalue = getattr(exc, "evalue", str(exc))
    cell = getattr(exc, "exec_count", None)
    source = (getattr(exc, "cell_source", "") or "").strip().splitlines()
    where = f"cell [{cell}]" if cell is not None else "a cell"
    first = f" starting '{source[0][:80]}'" if source else ""
    return f"{where}{first}: {ename}: {str(evalue).strip().splitlines()[0] if str(evalue).strip() else ''}"


def run_workbook(
    mode: str = "quick",
    data_dir: Optional[PathLike] = None,
    device: str = "auto",
    only: Optional[Sequence[str]] = None,
    out_dir: PathLike = "runs/workbook",
    figures_dir: PathLike = "figures",
    notebooks_dir: Optional[PathLike] = None,
    models: Optional[Sequence[Any]] = None,
    challenge_repo: Optional[PathLike] = None,
    model_ids: Optional[Sequence[int]] = None,
    fresh: bool = False,
) -> Dict[str, Any]:
    """Run the notebooks in order; returns (and writes) the run summary. ``fresh``: clear the earlier run's results
    and executed copies first (see the module docstring); otherwise what the notebooks will reuse is printed.

    ``models`` / ``challenge_repo`` / ``model_ids`` go to the notebooks that declare those parameters
    (checked here first: a model that does not load stops the run before any notebook starts).
    """
    if notebooks_dir is None:
        notebooks_dir = Path("notebooks") if Path("notebooks").is_dir() else REPO_ROOT / "notebooks"
    notebooks_dir = Path(notebooks_dir)
    notebooks = list_notebooks(notebooks_dir, only)  # --only that names nothing: refused before anything is made
    out_dir, figures_dir = check_output_dir(out_dir, "--out_dir"), check_output_dir(figures_dir, "--figures_dir")
    torch_device = resolve_device(device)
    model_params = model_parameters(models, challenge_repo, model_ids)  # a bad model is refused before data is made
    if data_dir is None:
        data_dir = Path("data/sample")
        if not (data_dir / "DIV2K_LSDIR_valid_HR").is_dir():
            make_sample(data_dir)
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise UserError(f"--data_dir {data_dir}: no such folder")
    params = notebook_parameters(mode, data_dir, figures_dir, out_dir / "results", device)
    if fresh:
        for folder in (out_dir / "results", out_dir / "executed"):
            if folder.is_dir():
                shutil.rmtree(folder)
                print(f"--fresh: removed {folder} (the earlier run's results): everything is measured again")
    reused = earlier_results(out_dir / "results")
    for line in reuse_lines(reused):
        print(line, flush=True)
    os.environ.update(zoo_environment())  # the kernels run in notebooks/: the checkpoints as this folder finds them
    for folder in (out_dir / "executed", out_dir / "results", figures_dir):
        folder.mkdir(parents=True, exist_ok=True)
    shown = {k: _public(v) for k, v in params.items()}  # the summary is published: no folder of this machine
    summary: Dict[str, Any] = {"mode": mode, "device_info": describe_device(torch_device),
                               "parameters": {**shown, **model_params}, "notebooks": [], "reused": reused}
    with inline_figures():
        _run_notebooks(notebooks, notebooks_dir, out_dir, params, model_params, summary)
    atomic_write_json(out_dir / "summary.json", summary)
    name = summary["device_info"]["device_name"]
    print(f"\nworkbook ({mode}) on {name}:")
    for row in summary["notebooks"]:
        print(f"  {row['notebook']:36s} {row['status']:8s} {row['seconds']:7.1f} s")
    print(f"summary: {out_dir / 'summary.json'}; figures: {figures_dir}")
    return summary


#: The backend ipykernel draws with by default: figures shown in the executed notebooks (and so in the book).
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"


@contextlib.contextmanager
def inline_figures() -> Iterator[None]:
    """For the body, kernels started from here draw inline, whatever ``MPLBACKEND`` says (``Agg`` in a headless
    shell or CI would leave the executed notebooks, and the book, without their figures); restored afterwards."""
    before = os.environ.get("MPLBACKEND")
    os.environ["MPLBACKEND"] = INLINE_BACKEND
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("MPLBACKEND", None)
        else:
            os.environ["MPLBACKEND"] = before


def _run_notebooks(notebooks: Sequence[Path], notebooks_dir: Path, out_dir: Path, params: Dict[str, Any],
                   model_params: Dict[str, Any], summary: Dict[str, Any]) -> bool:
    """Execute ``notebooks`` in order (after a failure the rest are skipped); rows into ``summary``; True if one
    failed."""
    import papermill

    failed = False
    for notebook in notebooks:
        row: Dict[str, Any] = {"notebook": notebook.name, "status": "skipped", "seconds": 0.0,
                               "executed": _public(str(out_dir / "executed" / notebook.name))}
        summary["notebooks"].append(row)
        if failed:
            continue
        print(f"== {notebook.name} ({summary['mode']})", flush=True)
        begin = time.perf_counter()
        try:
            declared = papermill.inspect_notebook(str(notebook))
            given = {**params, **{k: v for k, v in model_params.items() if k in declared}}
            papermill.execute_notebook(str(notebook), str(out_dir / "executed" / notebook.name), parameters=given,
                                       cwd=str(notebooks_dir), progress_bar=True)
            row["status"] = "ok"
        except Exception as exc:  # papermill's execution error, or a kernel that died
            row["status"] = "failed"
            row["error"] = _failure_text(exc)
            failed = True
            print(f"!! {notebook.name} failed in {row['error']} (executed copy: {row['executed']})", flush=True)
        row["seconds"] = round(time.perf_counter() - begin, 1)
        atomic_write_json(out_dir / "summary.json", summary)
    return failed


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The ``slimrlfn workbook`` flags (``make workbook`` passes ``--mode`` and ``--data_dir``)."""
    parser.add_argument("--mode", choices=["quick", "full"], default="quick")
    parser.add_argument("--data_dir", default=None, help="NTIRE-layout data (default: the embedded sample)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--only", nargs="*", default=None, help="notebook name prefixes to run, e.g. 01 03")
    parser.add_argument("--out_dir", default="runs/workbook", help="executed notebooks, results and summary")
    parser.add_argument("--figures_dir", default="figures", help="where the notebooks export their figures (PNG + PDF)")
    parser.add_argument("--fresh", action="store_true",
                        help="clear the earlier run's results and executed copies first: measure everything again "
                             "(default: the notebooks resume what it left, and the run lists it)")
    add_models_arguments(parser, [], default_text="each notebook's, the zoo's three (notebooks 01, 03, 04, 04b)")
    return parser


def run_from_args(args: argparse.Namespace) -> int:
    """Run the workbook as the flags say; 0 when every notebook ran, 1 otherwise."""
    summary = run_workbook(mode=args.mode, data_dir=args.data_dir, device=args.device, only=args.only,
                           out_dir=args.out_dir, figures_dir=args.figures_dir, models=args.models, challenge_repo=args.challenge_repo,
                           model_ids=args.model_ids, fresh=args.fresh)
    return 0 if all(row["status"] == "ok" for row in summary["notebooks"]) else 1
