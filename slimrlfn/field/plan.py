"""Notebook 06's defaults: which repository, members, data and runs a quick or a full field uses.

- Repository: the one given, else ``$SLIMRLFN_CHALLENGE_REPO``, else ``ntire2024_esr`` in ``$SLIMRLFN_SHARED``
  (or ``../shared`` beside the checkout) when it has a ``test_demo.py``; else none, and the field is the
  zoo's three models (RLFN, SlimRLFN, SlimRLFN-prune).
- Members: the ids given, else in quick mode :data:`QUICK_IDS` (those the repository has; else its first
  four), in full mode every id. ``extra_models`` (e.g. the zoo's ``slimrlfn_prune``, the pruned SlimRLFN that
  the 2024 repository's ``select_model`` does not offer) join in full mode, and in quick mode only when no
  repository is found.
- Data: the folders given; else the workbook's ``data_dir`` when it holds the official splits; else Set5
  (quick) or Set5 and Set14 (full) from the shared folder; else the workbook's ``data_dir``.
- Runs: the number given, else 2 (quick) or 5 (full, as the organisers averaged).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from slimrlfn.arch.challenge import ChallengeRepo
from slimrlfn.arch.zoo import ZOO
from slimrlfn.core.errors import UserError
from slimrlfn.core.files import PathLike
from slimrlfn.field.parts import data_parts, official_splits

__all__ = ["QUICK_IDS", "QUICK_RUNS", "FULL_RUNS", "field_plan", "find_challenge_repo", "shared_folder"]

#: The quick field: the 2024 baseline, SlimRLFN, SPAN (the winner) and SPANtiny.
QUICK_IDS = (0, 21, 38, 39)
QUICK_RUNS, FULL_RUNS = 2, 5
_REPO_ROOT = Path(__file__).resolve().parents[2]


def shared_folder() -> Path:
    """``$SLIMRLFN_SHARED``, else ``../shared`` beside the checkout (it may not exist)."""
    return Path(os.environ.get("SLIMRLFN_SHARED", _REPO_ROOT.parent / "shared"))


def find_challenge_repo(given: Optional[PathLike] = None) -> Optional[Path]:
    """The challenge repository to use (see the module docstring), or None."""
    if given:
        return Path(given)
    for candidate in (os.environ.get("SLIMRLFN_CHALLENGE_REPO"), shared_folder() / "ntire2024_esr"):
        if candidate and (Path(candidate) / "test_demo.py").is_file():
            return Path(candidate)
    return None


def field_plan(quick: bool, data_dir: PathLike, challenge_repo: Optional[PathLike] = None,
               model_ids: Optional[Sequence[int]] = None, models: Optional[Sequence[Any]] = None,
               extra_models: Sequence[Any] = (), data_dirs: Optional[Sequence[PathLike]] = None,
               runs: Optional[int] = None) -> Dict[str, Any]:
    """``{"challenge_repo", "model_ids", "models", "data_dirs", "runs", "why"}`` for :func:`run_field`."""
    repo = find_challenge_repo(challenge_repo)
    why: List[str] = []
    chosen_models: List[Any] = list(models or [])
    ids: Optional[List[int]] = list(model_ids) if model_ids else None
    if repo is None:
        if not chosen_models:
            chosen_models = list(ZOO) + [m for m in extra_models if m not in ZOO]
            why.append("no challenge repository found: the field is the zoo's models")
    else:
        if ids is None:
            known = ChallengeRepo(repo).ids()
            ids = ([i for i in QUICK_IDS if i in known] or known[:4]) if quick else None
        if not quick:
            chosen_models += [m for m in extra_models if m not in chosen_models]
        why.append(f"entries of {repo}" + (f": {', '.join(map(str, ids))}" if ids else ": every id"))
    if data_dirs:
        folders = [Path(d) for d in data_dirs]
    else:
        sets = [shared_folder() / "datasets" / name for name in (("Set5",) if quick else ("Set5", "Set14"))]
        if _is_official(data_dir):
            folders = [Path(data_dir)]
        elif all((folder / "HR").is_dir() for folder in sets):
            folders = sets
        else:
            folders = [Path(data_dir)]
    why.append(f"data: {', '.join(f.name for f in folders)}")
    return {"challenge_repo": str(repo) if repo else None, "model_ids": ids, "models": chosen_models,
            "data_dirs": [str(f) for f in folders], "runs": runs or (QUICK_RUNS if quick else FULL_RUNS),
            "why": "; ".join(why)}


def _is_official(data_dir: PathLike) -> bool:
    try:
        return official_splits(data_parts([data_dir]))
    except UserError:  # not NTIRE-layout data: not the official splits
        return False
