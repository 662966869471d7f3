"""How many forward passes each challenge entry's own code runs while it loads: a warm-up before its first timed image.

Some entries run the network inside their constructor or ``select_model`` (2026: ``self.cuda()(torch.randn(1, 3,
256, 256).cuda())``; entry 18's ``select_model`` runs 20). Under ``test_demo.py`` such an entry starts its first
valid image warm, while the others pay the cold start in it: the first-image re-scoring
(:mod:`slimrlfn.official.rescore`) is read beside these counts. They come from loading the entry through the
repository's own code (:func:`slimrlfn.arch.ref.load_model`, which records the forwards:
:mod:`slimrlfn.arch.loadwork`); an entry that does not load here (a missing checkpoint, a CUDA-only package, a
custom operator to build) has an unknown count and says why (the repository named as given, the interpreter as
``python``: no path of this machine). Without loading (``load=False``, or no repository),
every count is unknown.
"""
from __future__ import annotations

import sys
from typing import Any, Dict, Optional, Sequence

from slimrlfn.arch.challenge import ChallengeRepo
from slimrlfn.arch.ref import load_model
from slimrlfn.core.errors import UserError
from slimrlfn.core.files import PathLike

__all__ = ["load_forwards"]


def _unknown(why: str) -> Dict[str, Any]:
    return {"count": None, "why": why}


def _plain(text: str, folder: Any, given: Any) -> str:
    """``text`` with this machine's paths of the repository and the interpreter written as the user named them."""
    return text.replace(str(folder), str(given)).replace(sys.executable, "python")


def load_forwards(challenge_repo: Optional[PathLike], model_ids: Sequence[Optional[int]],
                  load: bool = True) -> Dict[Optional[int], Dict[str, Any]]:
    """``{model_id: {"count": forwards or None, "why": None or why unknown}}`` for each id (see the module docstring).

    UserError (one line) only for a repository that is not a challenge repository; an entry that fails to load is
    that entry's ``why``.
    """
    if challenge_repo is None or not load:
        why = "not loaded (--no_load)" if challenge_repo is not None else "not loaded (no --challenge_repo)"
        return {i: _unknown(why) for i in model_ids}
    repo = ChallengeRepo(challenge_repo)
    out: Dict[Optional[int], Dict[str, Any]] = {}
    for model_id in model_ids:
        if model_id is None or model_id not in repo.ids():
            out[model_id] = _unknown(f"no entry {model_id} in {repo.test_demo.name}'s select_model")
            continue
        try:
            spec = load_model({"challenge_repo": str(repo.folder), "model_id": int(model_id)}, "--challenge_repo")
        except UserError as exc:
            out[model_id] = _unknown(f"does not load here: {_plain(str(exc), repo.folder, challenge_repo)}")
            continue
        forwards = (spec.loaded or {}).get("load_forwards")
        out[model_id] = {"count": len(forwards), "why": None} if forwards is not None else _unknown(
            "loaded, but its loader recorded no forwards")
    return out
