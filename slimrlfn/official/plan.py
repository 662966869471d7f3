"""Notebook 06's defaults for the official analysis and for the comparison with its local field.

- The official run: the repository given, else ``ntire2026_esr`` in ``$SLIMRLFN_SHARED`` (or ``../shared``) when
  it holds the organisers' ``results.json`` (or their log); else none, and the notebook says so and goes on.
- Loading the entries for their load-time forwards (tens of seconds for 2026): when asked, and never in quick
  mode (the counts are then unknown, and the figures say so).
- The comparison: the official analysis of the local field's own repository (its ``results.json`` or log,
  without loading), since a field can only be compared with the organisers' run of the same challenge.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Optional

from slimrlfn.core.files import PathLike
from slimrlfn.field.plan import shared_folder

__all__ = ["DEFAULT_OFFICIAL", "has_official_files", "official_plan"]

#: The repository of ``$SLIMRLFN_SHARED`` whose organisers' run leads notebook 06.
DEFAULT_OFFICIAL = "ntire2026_esr"


def has_official_files(folder: Optional[PathLike]) -> bool:
    """Whether ``folder`` holds the organisers' ``results.json`` or an ``*EfficientSR*.log``."""
    if folder is None or not Path(folder).is_dir():
        return False
    return (Path(folder) / "results.json").is_file() or any(Path(folder).glob("*EfficientSR*.log"))


def official_plan(quick: bool, official_repo: Optional[PathLike] = None, load: bool = True,
                  field_repo: Optional[PathLike] = None) -> Dict[str, Any]:
    """``{"challenge_repo", "load", "field_repo", "why"}``: the repository to analyse (None: no official files
    found), whether to load its entries, and the field's repository to compare with (None: it has no official
    files)."""
    repo = Path(official_repo) if official_repo else shared_folder() / DEFAULT_OFFICIAL
    found = has_official_files(repo)
    why = (f"official run: {repo.name}" + ("" if quick or not load else ", entries loaded for their load-time forwards")
           if found else f"no organisers' results.json or log in {repo}: the official analysis is skipped")
    compare = Path(field_repo) if field_repo and has_official_files(field_repo) else None
    return {"challenge_repo": repo if found else None, "load": bool(load and not quick and found),
            "field_repo": compare, "why": why}
