"""The field study: every member of a field measured as the challenge measured it, and cold against warm.

For each member (:mod:`slimrlfn.field.members`), in order, this process loads it once and measures what
does not depend on the timing protocol (:mod:`slimrlfn.field.measure`: params, FLOPs, activations, convs,
PSNR per data part); then come its timing runs (:mod:`slimrlfn.field.worker`):

- ``cold`` (the official protocol): N fresh processes, each one run as ``test_demo.py`` does it;
- ``warm``: one fresh process doing N runs one after another (runs 2..N are the warm runtime), then the
  fixed-shape micro protocol (``micro_warmup`` forwards, then ``micro_iters`` timed, per shape).

The field JSON is rewritten atomically after every record, with its rankings recomputed
(:mod:`slimrlfn.field.analysis`). Resume: when ``out`` exists and was written with the same identity
(the data parts, device, threads, micro settings), a member's loaded facts and measures are kept, each
of its finished cold runs is kept, and its warm block is kept when runs 1..N and the micro record all
finished in one process (else it runs again: a later run in a new process would start cold). More runs
than before (``runs`` up) add runs. A member that fails (does not load, a run fails) is recorded with
its one-line reason and the others go on; it is tried again on the next run of the study. Other
identities are a UserError unless ``overwrite``.
"""
from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import torch

from slimrlfn.arch.ref import ModelRef
from slimrlfn.core.devices import resolve_device
from slimrlfn.core.errors import UserError, one_line
from slimrlfn.core.files import PathLike, atomic_write_json, first_difference
from slimrlfn.core.locks import output_lock
from slimrlfn.core.progress import tqdm
from slimrlfn.field.analysis import analyse
from slimrlfn.field.measure import measure_member
from slimrlfn.field.members import Member, list_members, load_member
from slimrlfn.data.pairs import find_pairs
from slimrlfn.data.validation import check_pairs
from slimrlfn.field.parts import data_parts, official_splits
from slimrlfn.field.worker import run_job_subprocess
from slimrlfn.metrics.years import YEARS, scored_year, year_of_repository
from slimrlfn.timing.protocols import DEFAULT_SIZES, make_settings
from slimrlfn.timing.worker import platform_info

__all__ = ["KIND", "field_year", "run_field"]

KIND = "slimrlfn-field"


def field_year(year: Optional[Any], challenge_repo: Optional[PathLike] = None) -> str:
    """The year whose weights rank a field first: ``year`` when given (UserError unless its score is known), else
    the challenge repository's own year when its score is known, else 2024."""
    if year is not None:
        return scored_year(year, "--year").year
    found = year_of_repository(challenge_repo) if challenge_repo is not None else None
    return found if found is not None and YEARS[found].weights is not None else "2024"


def _member_id(member: Member) -> str:
    return member.ref.id


def _entry_id(entry: Dict[str, Any]) -> Optional[str]:
    """The member id of an entry of a field file: its reference's (older files stored the keyword form under
    ``arguments``: read the same way, so that they resume); None when it names no model."""
    try:
        return ModelRef.parse(entry["ref"] if "ref" in entry else entry["arguments"]).absolute().id
    except (KeyError, UserError):
        return None


def _read_existing(out: Path, identity: Dict[str, Any], overwrite: bool,
                   restart_on_mismatch: bool = False) -> Dict[str, Dict[str, Any]]:
    """The entries of ``out`` to resume from, by member id ({} when starting afresh)."""
    if overwrite or not out.exists():
        return {}
    try:
        existing = json.loads(out.read_text())
        if existing.get("kind") != KIND:
            raise ValueError(f"kind {existing.get('kind')!r}, expected {KIND!r}")
        old_identity = existing["identity"]
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise UserError(f"--out {out}: not a field results file ({exc}); pass --overwrite or choose another --out") from None
    if old_identity != identity:
        if restart_on_mismatch:
            return {}
        raise UserError(f"--out {out}: written with other settings ({first_difference(old_identity, identity)}); "
                        f"pass --overwrite to start again or choose another --out")
    return {key: e for e in existing.get("entries", []) if (key := _entry_id(e)) is not None}


def _kept_warm(entry: Dict[str, Any], runs: int, with_micro: bool) -> List[Dict[str, Any]]:
    records = entry.get("warm", [])
    done = [r for r in records if r.get("kind") == "run" and r.get("status") == "ok" and 1 <= r["run"] <= runs]
    micro = [r for r in records if r.get("kind") == "micro" and r.get("status") == "ok"]
    complete = ({r["run"] for r in done} == set(range(1, runs + 1)) and (micro or not with_micro)
                and len({r["pid"] for r in done + micro}) == 1)
    return sorted(done, key=lambda r: r["run"]) + micro[:1] if complete else []


def run_field(
    challenge_repo: Optional[PathLike] = None,
    model_ids: Optional[Sequence[int]] = None,
    models: Optional[Sequence[Union[str, Dict[str, Any]]]] = None,
    data_dirs: Sequence[PathLike] = (),
    runs: int = 5,
    device: str = "auto",
    threads: Optional[int] = None,
    micro_warmup: int = 3,
    micro_iters: int = 10,
    micro_sizes: Optional[Sequence[Sequence[int]]] = None,
    include_test: bool = True,
    variants: bool = True,
    baseline: Optional[str] = None,
    pairs: Optional[Sequence[Tuple[str, str]]] = None,
    out: Optional[PathLike] = None,
    overwrite: bool = False,
    restart_on_mismatch: bool = False,
    progress: bool = True,
    year: Optional[str] = None,
) -> Dict[str, Any]:
    """Measure the field and return (and write to ``out``) the field document (see the module docstring).

    ``challenge_repo`` / ``model_ids`` / ``models`` choose the members, ``data_dirs`` the data parts
    (:func:`slimrlfn.field.parts.data_parts`); ``runs`` per protocol; ``restart_on_mismatch`` starts again
    (instead of a UserError) when ``out`` holds another identity. ``year``: the challenge year whose weights rank
    the field first (:func:`field_year`).
    """
    if out is None:
        return _run_field(**locals())
    # a second field into the same folder (its tables go there too) is refused at once, not measured beside the first
    with output_lock(Path(out).parent, "--out"):
        return _run_field(**locals())


def _run_field(challenge_repo, model_ids, models, data_dirs, runs, device, threads, micro_warmup, micro_iters,
               micro_sizes, include_test, variants, baseline, pairs, out, overwrite, restart_on_mismatch, progress,
               year) -> Dict[str, Any]:
    if not isinstance(runs, int) or runs < 1:
        raise UserError(f"--runs {runs}: expected at least 1 run")
    year = field_year(year, challenge_repo)
    members = list_members(challenge_repo, model_ids, models, variants)
    parts = data_parts(data_dirs, include_test)
    torch_device = resolve_device(device)
    ntire = make_settings("ntire", str(torch_device), parts[0]["data_dir"], parts[0]["split"], threads=threads)
    if micro_iters < 0:
        raise UserError(f"--micro_iters {micro_iters}: expected 0 (no micro trace) or more")
    # --micro_iters 0: no micro trace (the settings are still made, with one forward, to check the other flags)
    micro = make_settings("micro", str(torch_device), warmup=micro_warmup, iters=max(micro_iters, 1),
                          sizes=micro_sizes if micro_sizes is not None else DEFAULT_SIZES[:1], threads=threads)
    micro_identity = {k: asdict(micro)[k] for k in ("warmup", "iters", "sizes")} if micro_iters > 0 else None
    identity = {"parts": [{k: p[k] for k in ("label", "data_dir", "split", "names")} for p in parts],
                "device": str(torch_device), "threads": threads, "micro": micro_identity}
    out_path = Path(out) if out is not None else None
    previous = _read_existing(out_path, identity, overwrite, restart_on_mismatch) if out_path is not None else {}
    doc: Dict[str, Any] = {
        "kind": KIND, "version": 1, "identity": identity, "runs": runs, "year": year,
        "challenge_repo": str(Path(challenge_repo).resolve()) if challenge_repo is not None else None,
        "model_ids_given": [int(i) for i in model_ids] if model_ids else None,
        "parts": parts, "official_splits": official_splits(parts), "device_info": platform_info(torch_device),
        "settings": {"ntire": {k: v for k, v in asdict(ntire).items() if k not in ("data_dir", "split")},
                     "micro": asdict(micro) if micro_iters > 0 else None},
        "baseline_given": baseline, "pairs_given": [list(p) for p in pairs] if pairs else None,
        "started": time.time(), "entries": [],
    }
    entries = []
    for member in members:
        old = previous.get(_member_id(member), {})
        entry = {"id": _member_id(member), "hint": member.hint, "ref": member.ref.to_json(),
                 "model_id": member.model_id, "use_prune": member.use_prune, "key": old.get("key"),
                 "name": old.get("name"),
                 "status": "pending", "error": None,
                 "measures": old.get("measures"),
                 "cold": [r for r in old.get("cold", []) if r.get("status") == "ok" and 1 <= r["run"] <= runs],
                 "warm": _kept_warm(old, runs, micro_iters > 0)}
        entries.append((member, entry))
        doc["entries"].append(entry)

    def save(analysed: bool = True) -> None:
        """Write ``doc``; ``analysed``: recompute the rankings first (between members only, so that this
        process stays idle while a worker times)."""
        if analysed:
            analyse(doc)
        if out_path is not None:
            atomic_write_json(out_path, doc)

    _preflight(entries, baseline, pairs, parts)
    per_member = 2 * runs
    done_units = sum(len(e["cold"]) + (runs if e["warm"] else 0) for _, e in entries)
    bar = tqdm(total=len(entries) * per_member, initial=done_units, desc="field", unit="run", disable=not progress)
    try:
        save()
        for member, entry in entries:
            bar.set_postfix_str(member.hint)
            _measure_entry(member, entry, parts, torch_device, threads, save, doc["entries"])
            if entry["status"] == "error":
                bar.update(per_member - len(entry["cold"]) - (runs if entry["warm"] else 0))
                continue
            job = {"ref": member.spec.ref.to_json(), "model": member.spec.key, "parts": parts,
                   "settings": asdict(ntire)}
            member.spec = None  # the worker processes load it themselves

            def emit(record: Dict[str, Any], group: str) -> None:
                entry[group] = [r for r in entry[group]
                                if (r.get("kind"), r.get("run")) != (record.get("kind"), record.get("run"))]
                entry[group].append(record)
                entry[group].sort(key=lambda r: (r.get("kind") != "run", r.get("run") or 0))
                if record.get("kind") == "run":
                    bar.update(1)
                save(analysed=False)

            for run in range(1, runs + 1):
                if not any(r["run"] == run for r in entry["cold"]):
                    run_job_subprocess({**job, "runs": [run], "micro": None}, lambda r: emit(r, "cold"))
            if not entry["warm"]:
                warm_job = {**job, "runs": list(range(1, runs + 1)), "micro": asdict(micro) if micro_iters > 0 else None}
                run_job_subprocess(warm_job, lambda r: emit(r, "warm"))
            failed = [r for r in entry["cold"] + entry["warm"] if r.get("status") != "ok"]
            entry["status"] = "error" if failed else "ok"
            entry["error"] = failed[0]["error"] if failed else None
            save()
    finally:
        bar.close()
    doc["finished"] = time.time()
    save()
    return doc


def _preflight(entries: Sequence[Tuple[Member, Dict[str, Any]]], baseline: Optional[str],
               pairs: Optional[Sequence[Tuple[str, str]]], parts: Sequence[Dict[str, Any]] = ()) -> None:
    """Before anything is timed: every member loaded here (or its one-line reason recorded), the data of ``parts``
    checked once (every image decodes, every HR is the scale times its LR), and ``--baseline`` and
    ``--pairs`` checked against the keys of the members that load, so a wrong key is refused in seconds, not after
    the whole measurement."""
    for member, _entry in entries:
        if member.spec is None and member.error is None:
            load_member(member)
    keys = [member.key for member, _entry in entries if member.error is None]
    for scale in sorted({member.spec.scale for member, _entry in entries if member.error is None}):
        for part in parts:  # the data every member runs on, read once: unfit data is refused before any timing
            check_pairs(find_pairs(part["data_dir"], part["split"], scale, "--data_dir"), scale, "--data_dir")
    if baseline is not None and baseline not in keys:
        raise UserError(f"--baseline {baseline}: not a member that loads; expected one of {', '.join(keys) or 'none'}")
    for parent, child in pairs or ():
        for key in (parent, child):
            if key not in keys:
                raise UserError(f"--pairs {parent}:{child}: {key} is not a member that loads; expected keys among "
                                f"{', '.join(keys) or 'none'}")


def _measure_entry(member: Member, entry: Dict[str, Any], parts: List[Dict[str, Any]], device: torch.device,
                   threads: Optional[int], save: Callable[[], None], taken: List[Dict[str, Any]]) -> None:
    """Load ``member`` here (unless the preflight did); measure it unless ``entry`` has its measures; errors become
    the entry's status."""
    if member.spec is None and member.error is None:
        load_member(member)
    entry["key"] = member.key
    earlier = taken[:next(i for i, e in enumerate(taken) if e is entry)]
    twins = [e["hint"] for e in earlier if e.get("key") == member.key and e.get("status") != "error"]
    if member.error is None and twins:
        member.error, member.spec = f"{member.hint}: its results key {member.key} is taken by {twins[0]}", None
    if member.error is not None:
        entry.update(status="error", error=member.error, name=member.key)
        save()
        return
    entry.update(status="pending", error=None)
    spec = member.spec
    entry.update(name=spec.label, kind=spec.kind, data_range=spec.data_range, tile=spec.tile,
                 ref=spec.ref.to_json(), load_forwards=len(spec.loaded["load_forwards"])
                 if "load_forwards" in spec.loaded else None, torch_state=spec.loaded.get("torch_state"))
    if entry["measures"] is None:
        try:
            entry["measures"] = measure_member(spec, parts, device, threads)
        except UserError as exc:
            entry.update(status="error", error=str(exc))
        except Exception as exc:  # noqa: BLE001 (one entry's failure never stops the field)
            entry.update(status="error", error=one_line(exc))
    save()
