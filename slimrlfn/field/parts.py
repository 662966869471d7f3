"""The data a field is measured on: parts ``{"label", "data_dir", "split", "names"}``, in the order they run.

A folder in the NTIRE layout gives its ``valid`` split, then its ``test`` split when there is one, as
``test_demo.py --include_test`` runs them; a benchmark set (``HR/`` beside ``LR_bicubic/X4/``: Set5, Set14)
is one part labelled by its folder name. With several folders, an NTIRE split's label is
``<folder>/<split>``. The data are the *official splits* (and the PSNR gates of the challenge apply) when a
part is an NTIRE-layout split of 100 images, as DIV2K_LSDIR valid and test are.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Sequence

from slimrlfn.core.errors import UserError
from slimrlfn.core.files import PathLike
from slimrlfn.data.pairs import find_pairs

__all__ = ["OFFICIAL_SIZE", "data_parts", "official_splits"]

#: Images per official split (DIV2K_LSDIR valid, test).
OFFICIAL_SIZE = 100


def _is_ntire_layout(folder: Path, split: str) -> bool:
    return any((folder / f"{prefix}_{split}_HR").is_dir() for prefix in ("DIV2K_LSDIR", "LSDIR_DIV2K"))


def data_parts(data_dirs: Sequence[PathLike], include_test: bool = True) -> List[Dict[str, Any]]:
    """The parts of ``data_dirs`` (see the module docstring); UserError naming a folder with no pairs."""
    if not data_dirs:
        raise UserError("--data_dir: give at least one folder (NTIRE layout, or a benchmark set such as Set5)")
    parts: List[Dict[str, Any]] = []
    for data_dir in data_dirs:
        folder = Path(data_dir).resolve()
        splits = ["valid"] + (["test"] if include_test and _is_ntire_layout(folder, "test") else [])
        ntire = _is_ntire_layout(folder, "valid")
        for split in splits:
            pairs = find_pairs(folder, split)
            label = split if ntire else folder.name
            if ntire and len(data_dirs) > 1:
                label = f"{folder.name}/{split}"
            parts.append({"label": label, "data_dir": str(folder), "split": split, "ntire_layout": ntire,
                          "names": [p.name for p in pairs]})
    labels = [p["label"] for p in parts]
    if len(set(labels)) != len(labels):
        raise UserError(f"--data_dir {' '.join(map(str, data_dirs))}: two parts are named alike ({', '.join(labels)})")
    return parts


def official_splits(parts: Sequence[Dict[str, Any]]) -> bool:
    """Whether every part is an NTIRE-layout split of :data:`OFFICIAL_SIZE` images (the gates then apply)."""
    return bool(parts) and all(p["ntire_layout"] and len(p["names"]) == OFFICIAL_SIZE for p in parts)
