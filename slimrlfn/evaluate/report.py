"""The results of notebook 03 (evaluation): per-split tables of the official models, and its JSON summary.

:func:`split_table` turns the entries :func:`slimrlfn.evaluate.ntire.evaluate` returns into one row per
model; :func:`summary` builds ``03_evaluation.json``, which the factsheet reads
(:mod:`slimrlfn.factsheet.data`): its keys are :data:`SUMMARY_KEYS`.
"""
from __future__ import annotations

from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence

from slimrlfn.core.files import PathLike

__all__ = ["SPLIT_COLUMNS", "SUMMARY_KEYS", "split_table", "summary"]

#: Entry key (after ``<split>_``, or as is for the counts) -> column of :func:`split_table`.
SPLIT_COLUMNS = {"ave_psnr": "PSNR RGB [dB]", "ave_ssim": "SSIM RGB", "ave_psnr_y": "PSNR Y [dB]",
                 "ave_ssim_y": "SSIM Y", "ave_runtime": "runtime [ms]", "num_parameters": "params [M]",
                 "flops": "FLOPs [G]"}
_SPLIT_INDEPENDENT = ("num_parameters", "flops")
#: The keys of ``03_evaluation.json``.
SUMMARY_KEYS = ("quick", "data_dir", "splits", "device", "device_info", "psnr", "ssim", "tables", "crop", "figures")


def split_table(entries: Mapping[str, Mapping[str, Any]], split: str) -> List[Dict[str, Any]]:
    """One row per evaluated model: ``model`` (its label), then :data:`SPLIT_COLUMNS` (None where not measured)."""
    rows = []
    for entry in entries.values():
        row: Dict[str, Any] = {"model": entry["model"]}
        for key, column in SPLIT_COLUMNS.items():
            row[column] = entry.get(key if key in _SPLIT_INDEPENDENT else f"{split}_{key}")
        rows.append(row)
    return rows


def summary(entries: Mapping[str, Mapping[str, Any]], data_dir: PathLike, splits: Sequence[str], quick: bool,
            crop: Optional[Mapping[str, Any]] = None, figures: Iterable[Any] = ()) -> Dict[str, Any]:
    """``03_evaluation.json``: data, splits, device, valid PSNR / SSIM per model label, the tables, the crop, figures.

    ``entries``: results key -> evaluation entry; ``crop``: ``{"image": name, "box": {...}}`` of the SR
    crop figure; ``figures``: the files written.
    """
    device_info = next(iter(entries.values()))["device_info"] if entries else {}
    return {
        "quick": bool(quick),
        "data_dir": str(data_dir),
        "splits": list(splits),
        "device": device_info.get("device_name"),
        "device_info": device_info,
        "psnr": {entry["model"]: entry["valid_ave_psnr"] for entry in entries.values()},
        "ssim": {entry["model"]: entry.get("valid_ave_ssim") for entry in entries.values()},
        "tables": {split: split_table(entries, split) for split in splits},
        "crop": dict(crop) if crop is not None else None,
        "figures": [str(path) for path in figures],
    }
