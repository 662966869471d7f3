"""Who is in a field: the entries of a challenge repository (and their pruned variants), or any models.

A *member* is one model of the field study, named by its results key (``38_SPAN``, ``SlimRLFN-prune``):
its reference (:class:`slimrlfn.arch.ref.ModelRef`, absolute), the entry id it comes from, and whether it is a
pruned or slimmer *variant* of another member (its *parent*).

- Entries: every ``model_id`` of ``challenge_repo`` (or those given); an id whose ``select_model`` reads
  ``args.use_prune`` also gives its ``use_prune`` variant. An entry that does not load is a member too,
  kept with its one-line reason.
- Models: any reference (a zoo name such as ``slimrlfn_prune``, a ``.pth``, ``file.py:Class``, ``challenge:DIR#ID``).
- Baseline: ``baseline`` when given (a key), else the member whose key starts with ``00`` (the
  challenge's baseline entry, RLFN in 2024), else the first member.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Union

from slimrlfn.arch.challenge import ChallengeRepo
from slimrlfn.arch.ref import ModelRef, load_model
from slimrlfn.arch.spec import ModelSpec
from slimrlfn.core.errors import UserError
from slimrlfn.core.files import PathLike

__all__ = ["Member", "choose_baseline", "list_members", "load_member", "short_name"]


@dataclass
class Member:
    """One model of the field: ``ref`` loads it (:func:`load_member`); ``spec`` is set once loaded."""

    ref: ModelRef
    model_id: Optional[int] = None
    use_prune: bool = False
    key: Optional[str] = None
    error: Optional[str] = None
    spec: Optional[ModelSpec] = field(default=None, repr=False)

    @property
    def hint(self) -> str:
        """What the member is before it loads: ``entry 21 (use_prune)`` or the reference's text."""
        if self.model_id is not None:
            return f"entry {self.model_id}{' (use_prune)' if self.use_prune else ''}"
        return self.ref.text()


def short_name(key: str) -> str:
    """``38_SPAN`` -> ``SPAN`` (an entry's name without its id), other keys as they are."""
    return re.sub(r"^\d+_", "", key)


def list_members(challenge_repo: Optional[PathLike] = None, model_ids: Optional[Sequence[int]] = None,
                 models: Optional[Sequence[Union[str, Dict[str, Any]]]] = None,
                 variants: bool = True) -> List[Member]:
    """The members, not yet loaded: the entries (ids ascending as given), then ``models`` in order."""
    members: List[Member] = []
    if challenge_repo is not None:
        repo = ChallengeRepo(challenge_repo)
        ids = list(model_ids) if model_ids else repo.ids()
        for model_id in ids:
            repo.check_id(model_id, "--model_ids")
        for model_id in ids:
            entry = {"challenge_repo": repo.folder, "model_id": int(model_id)}
            members.append(Member(ModelRef.parse(entry).absolute(), int(model_id)))
            if variants and repo.reads_use_prune:
                members.append(Member(ModelRef.parse({**entry, "use_prune": True}).absolute(), int(model_id),
                                      use_prune=True))
    elif model_ids:
        raise UserError("--model_ids: give --challenge_repo DIR, the repository the ids are entries of")
    for text in models or []:
        members.append(Member(ModelRef.parse(text, "--models").absolute()))
    if not members:
        raise UserError("--challenge_repo / --models: give a challenge repository or at least one model")
    return members


def load_member(member: Member) -> Member:
    """Resolve ``member`` (sets ``spec`` and ``key``, or ``error`` with the one-line reason); returns it."""
    try:
        spec = load_model(member.ref, "--models")
    except UserError as exc:
        member.error = str(exc)
        member.key = member.key or _fallback_key(member)
        return member
    member.spec, member.key, member.error = spec, spec.result_name, None
    return member


def _fallback_key(member: Member) -> str:
    if member.model_id is not None:
        return f"{member.model_id:02d}{'_prune' if member.use_prune else ''}"
    path = member.ref.args.get("checkpoint") or member.ref.args.get("model") or member.hint
    return Path(str(path)).name


def choose_baseline(keys: Sequence[str], baseline: Optional[str] = None) -> str:
    """The baseline's key among ``keys``: ``baseline`` when it is one of them, else the first key starting
    with ``00`` (the challenge's baseline entry), else the first key. UserError when ``keys`` is empty."""
    if not keys:
        raise UserError("the field has no member that loads: nothing to rank")
    if baseline in keys:
        return str(baseline)
    return next((k for k in keys if k.startswith("00")), keys[0])
