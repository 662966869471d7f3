"""The organisers' log of ``test_demo.py`` runs (``NTIRE2024-EfficientSR.log``, ``NTIRE2025-...``), read run by run.

Each run of the script appends, through its logger (``YY-MM-DD HH:MM:SS.mmm : message``): the model's results
name; per image ``NAME.png - PSNR: 25.67 dB`` (with ``; SSIM: 0.7`` under ``--ssim``); per split ``Max Memory :
467.698 [M]``, ``------> Average runtime of (valid) is : 16.923701 milliseconds`` and ``------> Average PSNR of
(valid) is : 26.955139 dB``; then ``#Activations``, ``#Conv2d``, ``FLOPs``, ``#Params``. The per-image runtimes are
not logged, only each split's mean, so a log gives runs, not first images. 2023's script logs the same number
with the unit ``seconds``: the unit is kept as the log gives it.

:func:`read_log` returns the runs in the log's order; :func:`log_summary` the Ave Time of each run
(``(valid mean + test mean) / 2`` as ``results.txt``), their mean, and the first run of each model against the
others (a first run of a session pays for a cold machine, as 2025's log shows).
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Dict, List, Optional

import numpy as np

from slimrlfn.core.errors import UserError
from slimrlfn.core.files import PathLike

__all__ = ["log_summary", "parse_log", "read_log"]

_LINE = re.compile(r"^(\d\d-\d\d-\d\d \d\d:\d\d:\d\d\.\d+) : (.*)$")
_IMAGE = re.compile(r"^(\S+) - PSNR: (-?[\d.]+|inf|nan) dB(?:; SSIM: ([\d.]+))?\.?$")
_MEMORY = re.compile(r"^Max Memory : ([\d.]+) \[M\]$")
_RUNTIME = re.compile(r"^-+> Average runtime of \((\w+)\) is : ([\d.]+) (\w+)$")
_PSNR = re.compile(r"^-+> Average PSNR of \((\w+)\) is : ([\d.]+) dB$")
_COUNTS = {"activations_m": re.compile(r"^#Activations : ([\d.]+) \[M\]$"),
           "num_conv": re.compile(r"^#Conv2d : (\d+)$"),
           "flops_g": re.compile(r"^FLOPs : ([\d.]+) \[G\]$"),
           "params_m": re.compile(r"^#Params : ([\d.]+) \[M\]$")}
_NAME = re.compile(r"^\s*\d+_\S+$")


def _new_part() -> Dict[str, Any]:
    return {"psnr": [], "memory_mb": None, "ave_runtime": None, "runtime_unit": None, "ave_psnr": None}


def parse_log(text: str) -> List[Dict[str, Any]]:
    """The runs of a log's text: ``{"model", "started", "parts": {split: {"psnr": [per image], "images",
    "memory_mb", "ave_runtime", "runtime_unit", "ave_psnr"}}, "counts": {...}, "ave_time": ...}``."""
    runs: List[Dict[str, Any]] = []
    run: Optional[Dict[str, Any]] = None
    part: Dict[str, Any] = _new_part()
    for line in text.splitlines():
        match = _LINE.match(line.rstrip())
        if not match:
            continue
        stamp, message = match.group(1), match.group(2).strip()
        if run is not None and (image := _IMAGE.match(message)):
            part["psnr"].append(float(image.group(2)))
        elif run is not None and (memory := _MEMORY.match(message)):
            part["memory_mb"] = float(memory.group(1))
        elif run is not None and (runtime := _RUNTIME.match(message)):
            part["ave_runtime"], part["runtime_unit"] = float(runtime.group(2)), runtime.group(3)
            run["parts"][runtime.group(1)] = part
        elif run is not None and (psnr := _PSNR.match(message)):
            run["parts"].setdefault(psnr.group(1), part)["ave_psnr"] = float(psnr.group(2))
            part = _new_part()
        elif run is not None and any(p.match(message) for p in _COUNTS.values()):
            for name, pattern in _COUNTS.items():
                if (count := pattern.match(message)):
                    run["counts"][name] = int(count.group(1)) if name == "num_conv" else float(count.group(1))
        elif _NAME.match(message):
            run = {"model": message.strip(), "started": stamp, "parts": {}, "counts": {}}
            runs.append(run)
            part = _new_part()
    for run in runs:
        for split in run["parts"].values():
            split["images"] = len(split["psnr"])
        valid, test = (run["parts"].get(s, {}).get("ave_runtime") for s in ("valid", "test"))
        run["ave_time"] = (valid + test) / 2 if valid is not None and test is not None else valid
    return runs


def read_log(path: PathLike, what: str = "--log") -> List[Dict[str, Any]]:
    """:func:`parse_log` of the file at ``path``; UserError (one line) when it cannot be read or holds no run."""
    try:
        text = Path(path).read_text(errors="replace")
    except OSError as exc:
        raise UserError(f"{what} {path}: cannot read it ({exc.strerror or exc})") from None
    runs = [r for r in parse_log(text) if r["parts"]]
    if not runs:
        raise UserError(f"{what} {path}: no run of test_demo.py in it; expected the organisers' log "
                        f"(lines 'YY-MM-DD HH:MM:SS.mmm : ...' with 'Average runtime of (valid)')")
    return runs


def _stats(values: List[float]) -> Dict[str, Any]:
    return {"n": len(values), "mean": float(np.mean(values)) if values else None,
            "min": float(np.min(values)) if values else None, "max": float(np.max(values)) if values else None}


def _group(rows: List[Dict[str, Any]]) -> Dict[str, Any]:
    group: Dict[str, Any] = {"runs": rows, "unit": next((r["unit"] for r in rows if r["unit"]), None)}
    for name in ("valid", "test", "ave_time"):
        values = [r[name] for r in rows if r[name] is not None]
        group[name] = _stats(values)
        group[f"{name}_first"] = values[0] if values else None
        group[f"{name}_others"] = _stats(values[1:])
        group[f"{name}_last"] = values[-1] if values else None
    return group


def log_summary(runs: List[Dict[str, Any]]) -> Dict[str, Any]:
    """``all``: every run in the log's order; ``models``: the same per results name (stripped; a model logged under
    two names, as 2025's baseline under ``01_`` then ``00_``, is two groups). Each group: its runs' valid, test
    and Ave Time (unit as logged), their statistics (n, mean, min, max), the first run, the others, the last."""
    rows = []
    for run in runs:
        valid, test = run["parts"].get("valid", {}), run["parts"].get("test", {})
        rows.append({"model": run["model"].strip(), "started": run["started"], "valid": valid.get("ave_runtime"),
                     "test": test.get("ave_runtime"), "ave_time": run["ave_time"], "unit": valid.get("runtime_unit"),
                     "valid_psnr": valid.get("ave_psnr"), "test_psnr": test.get("ave_psnr"),
                     "images": {s: p["images"] for s, p in run["parts"].items()}, "counts": run["counts"]})
    names = list(dict.fromkeys(r["model"] for r in rows))
    return {"runs": len(rows), "all": _group(rows),
            "models": {name: _group([r for r in rows if r["model"] == name]) for name in names}}
