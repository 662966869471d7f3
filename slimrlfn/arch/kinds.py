"""The kinds of model, one row each: :data:`KINDS`, in the house's registry style.

A row (:class:`Kind`) declares the arguments of its kind (``keys``; ``name``, the results key, is common to all),
which of them must be given, which are paths (each with how it is made absolute), the defaults (an argument equal
to its default is dropped, so that one model has one reference), its text form after the prefix, what it refuses
beyond the keys (``check``) and how it loads (``load``: a :class:`~slimrlfn.arch.spec.ModelSpec`).

==============  ========================================  ==========================================================
kind            prefix and text form                      arguments
==============  ========================================  ==========================================================
``zoo``         ``zoo:slimrlfn`` (bare ``slimrlfn``)      ``model`` (a zoo name), ``zoo_path``
``checkpoint``  ``ckpt:run/final.pth`` (bare ``.pth``)    ``checkpoint``, ``config`` (default: the .json beside it)
``class``       ``class:nets.py:MySR`` (bare too)         ``model``, ``checkpoint``, ``kwargs``, ``data_range``,
                                                          ``state_key``, ``strict``
``challenge``   ``challenge:REPO#38`` (``#21+prune``)     ``challenge_repo``, ``model_id``, ``use_prune``
``derived``     ``derived:runs/p/step_03.pth``            ``checkpoint`` (a derived record beside it)
==============  ========================================  ==========================================================

Adding a kind is one row here (a loader of its own where the others do not fit); the grammar
(:mod:`slimrlfn.arch.ref`, which checks the arguments) reads the row and needs no change.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Mapping, Optional, Tuple

import torch

from slimrlfn.arch.challenge import ChallengeRepo
from slimrlfn.arch.checkpoints import load_checkpoint
from slimrlfn.arch.contract import CLASS_RANGE, WORKBOOK_RANGE, Contract
from slimrlfn.arch.derived import is_derived, load_derived
from slimrlfn.arch.external import build_external, check_sr_model
from slimrlfn.arch.loadwork import watch_loading
from slimrlfn.arch.rlfn import MIN_INPUT_SIZE
from slimrlfn.arch.spec import ModelSpec
from slimrlfn.arch.zoo import ZOO, find_checkpoint, load_zoo_model
from slimrlfn.core.errors import UserError

__all__ = ["COMMON_KEYS", "KINDS", "Kind", "absolute_class_target"]

#: Arguments every kind takes: ``name`` replaces the results key (and the label).
COMMON_KEYS = ("name",)
_CPU = torch.device("cpu")


def _absolute(value: Any) -> str:
    return str(Path(str(value)).resolve())


def absolute_class_target(target: Any) -> str:
    """``path/to/file.py:Class`` with the file made absolute (against the current folder); ``package.module:Class``
    unchanged. A stored reference must not depend on where a run started."""
    module, colon, class_name = str(target).rpartition(":")
    if colon and module.endswith(".py"):
        return f"{Path(module).resolve()}:{class_name}"
    return str(target)


@dataclass(frozen=True)
class Kind:
    """One kind of model (see the module docstring)."""

    name: str
    prefixes: Tuple[str, ...]
    what: str  # in messages: "a zoo model"
    keys: Tuple[str, ...]
    load: Callable[[Any, Callable[[Any], ModelSpec]], ModelSpec]  # (ref, load another ref) -> spec
    required: Tuple[str, ...] = ()
    paths: Mapping[str, Callable[[Any], Any]] = field(default_factory=dict)
    defaults: Mapping[str, Any] = field(default_factory=dict)
    fixed: Mapping[str, Any] = field(default_factory=dict)  # an argument of another kind accepted at this value only
    body: Optional[Callable[[Mapping[str, Any]], Optional[str]]] = None  # text after the prefix, None: JSON only
    from_body: Optional[Callable[[str], Dict[str, Any]]] = None
    check: Callable[[Dict[str, Any]], None] = lambda args: None


# -- loaders -----------------------------------------------------------------------------------------------------


def _load_zoo(ref: Any, _load: Any) -> ModelSpec:
    args = ref.args
    path = find_checkpoint(args["model"], path=args.get("zoo_path"))
    net, entry = load_zoo_model(args["model"], path=path)
    contract = Contract(WORKBOOK_RANGE, entry.config["upscale"], None, MIN_INPUT_SIZE)
    return ModelSpec(ref, net, args.get("name") or entry.result_name, entry.label, contract, dict(entry.config),
                     str(Path(path).resolve()))


def _load_checkpoint(ref: Any, _load: Any) -> ModelSpec:
    args = ref.args
    if args.get("config") is None and is_derived(args["checkpoint"]):
        raise UserError(f"ckpt:{args['checkpoint']}: the .json beside it is a derived-model record; name it "
                        f"derived:{args['checkpoint']} or without a prefix")
    net, config = load_checkpoint(args["checkpoint"], args.get("config"))
    name = args.get("name") or Path(args["checkpoint"]).stem
    contract = Contract(WORKBOOK_RANGE, config["upscale"], None, MIN_INPUT_SIZE)
    return ModelSpec(ref, net, name, name, contract, config, _absolute(args["checkpoint"]))


def _load_class(ref: Any, _load: Any) -> ModelSpec:
    args = ref.args
    with watch_loading() as work:
        net, report = build_external(args["model"], args.get("kwargs"), args.get("checkpoint"), args.get("state_key"),
                                     args.get("strict", True))
    contract = Contract(args.get("data_range", CLASS_RANGE), 4, None, 1)
    check_sr_model(net, contract.data_range, contract.scale, _CPU, f"--model {args['model']}")
    label = args.get("name") or str(args["model"]).rpartition(":")[2]
    loaded = {"load_forwards": work["load_forwards"], **({"torch_state": work["torch_state"]} if work["torch_state"]
                                                         else {}), **({"non_strict_load": report} if report else {})}
    return ModelSpec(ref, net, label, label, contract, None,
                     None if args.get("checkpoint") is None else _absolute(args["checkpoint"]), loaded)


def _load_challenge(ref: Any, _load: Any) -> ModelSpec:
    args = ref.args
    repo = ChallengeRepo(args["challenge_repo"])
    entry = repo.load(args["model_id"], _CPU, args.get("use_prune", False))
    contract = Contract(entry.data_range, 4, entry.tile, 1)
    check_sr_model(entry.model, contract.data_range, contract.scale, _CPU, f"entry {args['model_id']} ({entry.name})")
    label = args.get("name") or entry.name
    loaded = {"load_forwards": entry.load_forwards, **({"torch_state": entry.torch_state} if entry.torch_state else {}),
              **({"non_strict_load": entry.non_strict_load} if entry.non_strict_load else {})}
    return ModelSpec(ref, entry.model, label, label, contract, None, str(repo.folder), loaded)


def _load_derived(ref: Any, load: Callable[[Any], ModelSpec]) -> ModelSpec:
    args = ref.args
    net, record, source = load_derived(args["checkpoint"], load)
    label = args.get("name") or record.get("label") or Path(args["checkpoint"]).stem
    contract = Contract(source.data_range, source.scale, record.get("tile", source.tile), 1)
    loaded = {"derived_from": source.ref.to_json(),
              **{k: source.loaded[k] for k in ("load_forwards", "torch_state") if k in source.loaded}}
    return ModelSpec(ref, net, label, label, contract, None, _absolute(args["checkpoint"]), loaded)


# -- what each kind refuses beyond its keys ----------------------------------------------------------------------


def _check_zoo(args: Dict[str, Any]) -> None:
    if args["model"] not in ZOO:
        raise UserError(f"--model {args['model']!r}: unknown model; expected a zoo name ({', '.join(ZOO)}) or your "
                        f"class path/to/file.py:ClassName or package.module:ClassName")


def _check_class(args: Dict[str, Any]) -> None:
    if ":" not in str(args["model"]):
        raise UserError(f"--model {args['model']!r}: expected path/to/file.py:ClassName or package.module:ClassName")


def _challenge_body(args: Mapping[str, Any]) -> str:
    return f"{args['challenge_repo']}#{args['model_id']}{'+prune' if args.get('use_prune') else ''}"


def _challenge_from_body(body: str) -> Dict[str, Any]:
    repo, hash_sign, entry = body.rpartition("#")
    match = re.fullmatch(r"(-?\d+)(\+prune)?", entry)
    if not hash_sign or not repo or match is None:
        raise UserError(f"challenge:{body}: expected challenge:DIR#ID (or DIR#ID+prune), e.g. challenge:ntire2024_esr#38")
    args: Dict[str, Any] = {"challenge_repo": repo, "model_id": int(match.group(1))}
    if match.group(2):
        args["use_prune"] = True
    return args


def _single(key: str) -> Tuple[Callable[[Mapping[str, Any]], Optional[str]], Callable[[str], Dict[str, Any]]]:
    """The text form of a kind named by one argument: ``prefix:VALUE``."""
    return (lambda args: str(args[key])), (lambda body: {key: body})


_ZOO_TEXT, _CKPT_TEXT, _CLASS_TEXT = _single("model"), _single("checkpoint"), _single("model")

#: The kinds, in the order a keyword form is tried (see :func:`slimrlfn.arch.ref.kind_of_arguments`).
KINDS: Dict[str, Kind] = {kind.name: kind for kind in (
    Kind("zoo", ("zoo",), "a zoo model", ("model", "zoo_path"), _load_zoo, required=("model",),
         paths={"zoo_path": _absolute}, fixed={"data_range": WORKBOOK_RANGE}, body=_ZOO_TEXT[0], from_body=_ZOO_TEXT[1], check=_check_zoo),
    Kind("checkpoint", ("ckpt", "checkpoint"), "a workbook checkpoint", ("checkpoint", "config"), _load_checkpoint,
         required=("checkpoint",), paths={"checkpoint": _absolute, "config": _absolute},
         fixed={"data_range": WORKBOOK_RANGE},
         body=_CKPT_TEXT[0], from_body=_CKPT_TEXT[1]),
    Kind("class", ("class",), "a model class", ("model", "checkpoint", "kwargs", "data_range", "state_key", "strict"),
         _load_class, required=("model",), paths={"model": absolute_class_target, "checkpoint": _absolute},
         defaults={"data_range": CLASS_RANGE, "strict": True, "kwargs": {}}, body=_CLASS_TEXT[0],
         from_body=_CLASS_TEXT[1], check=_check_class),
    Kind("challenge", ("challenge",), "a challenge entry", ("challenge_repo", "model_id", "use_prune"),
         _load_challenge, required=("challenge_repo", "model_id"), paths={"challenge_repo": _absolute},
         defaults={"use_prune": False}, body=_challenge_body, from_body=_challenge_from_body),
    Kind("derived", ("derived",), "a derived (pruned) model", ("checkpoint",), _load_derived,
         required=("checkpoint",), paths={"checkpoint": _absolute}, body=_CKPT_TEXT[0], from_body=_CKPT_TEXT[1]),
)}
