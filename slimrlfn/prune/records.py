"""The folder of a pruning run, one format for both pruners: its identity (``run.json``), its steps
(``records.jsonl``, ``step_NN/model.pth`` + ``model.json``), the final model and the summary, and resume.

``run.json`` holds the settings that shape the result (:data:`slimrlfn.prune.settings.RUN_KEYS`; the starting model
and the teacher as the JSON form of their references), the pruner, the starting widths and the SHA-256 of the
starting weights; a run folder is resumed only by the same run, except a folder that holds only a start (no pruning
step finished: a run that failed at its first step), which a rerun with other settings replaces, and any run when
``overwrite`` is given. ``records.jsonl`` has one JSON record per finished step, numbered 0, 1, 2, ...; every
file is written atomically. A folder of the earlier any-model schedule (``run.json`` of kind
``slimrlfn-prune-any``) is refused in one line: its ``step_KK.pth`` stay loadable, but it cannot be resumed.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Dict, List

from slimrlfn.arch.ref import ModelRef
from slimrlfn.arch.zoo import ZOO
from slimrlfn.core.errors import UserError
from slimrlfn.core.files import PathLike, atomic_write_text
from slimrlfn.prune.settings import RUN_KEYS, PruneSettings

_DEFAULTS = PruneSettings()

__all__ = ["check_resume", "clear_run", "clear_start", "holds_only_a_start", "load_records", "run_document",
           "step_checkpoint", "write_records"]
#: What the earlier any-model schedule wrote in its run.json (it cannot be resumed by the one run).
_OLD_ANY_KIND = "slimrlfn-prune-any"


def load_records(out_dir: PathLike) -> List[Dict[str, Any]]:
    """The finished steps of the run in ``out_dir`` (``records.jsonl``), in order; [] when there are none."""
    path = Path(out_dir) / "records.jsonl"
    if not path.is_file():
        return []
    records = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise UserError(f"{path}: line {number} is not valid JSON ({exc})") from None
    if [r.get("step") for r in records] != list(range(len(records))):
        raise UserError(f"{path}: steps are not numbered 0, 1, 2, ...; the file was edited or mixed with another run")
    return records


def write_records(out_dir: Path, records: List[Dict[str, Any]]) -> None:
    atomic_write_text(out_dir / "records.jsonl", "".join(json.dumps(r) + "\n" for r in records))


def step_checkpoint(out_dir: Path, step: int) -> Path:
    return out_dir / f"step_{step:02d}" / "model.pth"


def _absolute(value: Any) -> Any:
    return None if value is None else str(Path(value).resolve())


def _model_json(value: Any, what: str) -> Any:
    """A model setting (``model``, or ``teacher`` unless ``start`` / ``none``) as the JSON form of its reference
    (absolute), whatever form it was given in, so that equal models compare equal."""
    if value is None or (what == "--teacher" and str(value).lower() in ("start", "none")):
        return value
    return ModelRef.parse(value, what).absolute().to_json()


def absolute_run_paths(run: Dict[str, Any]) -> Dict[str, Any]:
    """``run`` (the ``RUN_KEYS`` of a run) with its folders and files made absolute, so that a run is the same run
    whichever folder it is started or resumed from: ``val_dir``, ``val_dirs``, ``hr_dirs``, the ``model`` and
    ``teacher`` references, and ``target_shape`` where it names a file (a zoo name or a list stays as it is). A
    relative path of an older ``run.json`` resolves against the current folder, where such a run was resumed from."""
    out = dict(run)
    out["val_dir"] = _absolute(run.get("val_dir"))
    for key in ("hr_dirs", "val_dirs"):
        out[key] = [_absolute(d) for d in run.get(key) or []]
    out["model"] = _model_json(run.get("model"), "--model")
    out["teacher"] = _model_json(run.get("teacher"), "--teacher")
    value = run.get("target_shape")
    if isinstance(value, str) and value not in ZOO and (Path(value).suffix == ".json" or Path(value).exists()):
        out["target_shape"] = _absolute(value)
    return out


def run_document(settings: PruneSettings, pruner: str, start: Dict[str, Any], digest: str) -> Dict[str, Any]:
    """``run.json``'s identity: the settings, the pruner, the start's config (RLFN / SlimRLFN; None for others) and
    widths, and the SHA-256 of its weights."""
    return {"run": absolute_run_paths({key: getattr(settings, key) for key in RUN_KEYS}), "pruner": pruner,
            "start_config": start.get("config"), "start_widths": start.get("widths"), "start_sha256": digest}


def check_resume(out_dir: Path, document: Dict[str, Any]) -> bool:
    """True when ``out_dir`` holds this run (resume); False when it is new, empty or holds only another run's start
    (:func:`holds_only_a_start`: the caller clears it with :func:`clear_start` when it starts); UserError otherwise."""
    run_file = out_dir / "run.json"
    if not run_file.is_file():
        if out_dir.is_dir() and any(out_dir.iterdir()):
            raise UserError(f"--out_dir {out_dir}: not empty and holds no pruning run (run.json); "
                            f"choose an empty or new folder")
        return False
    try:
        existing = json.loads(run_file.read_text())
        if not isinstance(existing, dict):
            raise ValueError(f"a JSON {type(existing).__name__}, expected an object")
    except (OSError, ValueError) as exc:
        raise UserError(f"{run_file}: not a pruning run's run.json ({exc}); choose another --out_dir or pass "
                        f"--overwrite") from None
    if existing.get("kind") == _OLD_ANY_KIND:
        raise UserError(f"--out_dir {out_dir} holds a run of the earlier any-model schedule, which cannot be resumed "
                        f"(its step_KK.pth still load: slimrlfn eval --checkpoint {out_dir}/step_01.pth); choose "
                        f"another --out_dir or pass --overwrite")
    old = existing.get("run", {})
    # a key the folder lacks was added since it was written: that run had the default
    old = {key: old.get(key, getattr(_DEFAULTS, key, None)) for key in RUN_KEYS}
    try:
        old = absolute_run_paths(old)
    except UserError as exc:
        raise UserError(f"{run_file}: its settings no longer read ({exc}); choose another --out_dir or pass "
                        f"--overwrite") from None
    differing = next((key for key in RUN_KEYS if json.dumps(old[key]) != json.dumps(document["run"][key])), None)
    other_weights = existing.get("start_sha256") != document["start_sha256"]
    if (differing or other_weights) and holds_only_a_start(out_dir):
        return False  # a start that failed before its first pruning step: the run replaces it (clear_start)
    if differing:
        raise UserError(f"--out_dir {out_dir} holds another run: its {differing} is {old.get(differing)!r}, this run's "
                        f"{document['run'][differing]!r}; resume it with the same settings or choose another --out_dir")
    if other_weights:
        raise UserError(f"--out_dir {out_dir} holds another run: it started from other weights than "
                        f"{ModelRef.parse(document['run']['model']).text()}; "
                        f"choose another --out_dir")
    return True


def holds_only_a_start(out_dir: Path) -> bool:
    """True when the run in ``out_dir`` finished no pruning step: at most step 0 recorded, no ``summary.json``."""
    try:
        records = load_records(out_dir)
    except UserError:
        return False
    steps = [p for p in out_dir.glob("step_*") if p.is_dir()]
    return len(records) <= 1 and not (out_dir / "summary.json").exists() and all(p.name == "step_00" for p in steps)


def clear_run(out_dir: Path) -> None:
    """Remove every file of a pruning run in ``out_dir`` (``--overwrite``): its records, steps, final model and
    summary, and the files of the earlier any-model schedule; other files are left alone."""
    for name in ("records.jsonl", "run.json", "summary.json", "final.pth", "final.json"):
        (out_dir / name).unlink(missing_ok=True)
    for path in list(out_dir.glob("step_*")):
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        elif path.suffix in (".pth", ".json"):
            path.unlink(missing_ok=True)


def clear_start(out_dir: Path) -> None:
    """Remove what a start wrote (``run.json``, ``records.jsonl``, ``step_00/``); other files are left alone."""
    for name in ("records.jsonl", "run.json"):
        (out_dir / name).unlink(missing_ok=True)
    shutil.rmtree(out_dir / "step_00", ignore_errors=True)
