"""The one model resolver: whatever names a model -> the loaded model and its facts (:class:`ModelSpec`).

Every command and notebook that takes a model goes through here. A model is one of five kinds:

- ``zoo``: a name of the official zoo (``rlfn``, ``slimrlfn``, ``slimrlfn_prune``), or an official
  ``model_id`` as in ``test_demo.py`` (0 RLFN, 21 SlimRLFN, ``use_prune`` SlimRLFN-prune); SHA-256 checked;
- ``checkpoint``: a workbook checkpoint ``.pth`` with its config JSON beside it (pruned, trained);
- ``class``: your own network, ``path/to/file.py:ClassName`` or ``package.module:ClassName`` with
  constructor ``kwargs``, a ``checkpoint`` (``state_key`` for weights kept under ``params`` /
  ``params_ema``), its ``data_range`` (1 or 255; default 1) (:mod:`slimrlfn.arch.external`);
- ``challenge``: an entry of an NTIRE ESR challenge repository, ``challenge_repo`` + ``model_id``
  (+ ``use_prune``), loaded through that repository's own ``select_model`` (:mod:`slimrlfn.arch.challenge`),
  which gives its name (the results key, e.g. ``38_SPAN``), ``data_range`` and ``tile``;
- ``derived``: a ``checkpoint`` whose JSON beside it is a derived-model record (a model of the last
  two kinds with channels removed by ``slimrlfn prune``; :mod:`slimrlfn.arch.derived`).

A :class:`ModelSpec` carries the model (eval mode, CPU; every checkpoint read with ``weights_only=True``),
its architecture config (zoo and workbook checkpoints only), results key, label, ``data_range``,
``tile`` and :meth:`ModelSpec.reference`: a JSON-ready dict from which a worker process resolves the
same model again. Models of the last two kinds are checked with one small forward: x4 output, finite,
no CUDA needed on a CPU. Text forms (a ``--models`` item, a notebook's ``models`` list): a zoo name, a
``.pth``, ``file.py:Class``, or a JSON object of :func:`resolve_model`'s arguments.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Union

import torch
import torch.nn as nn

from slimrlfn.arch.challenge import ChallengeRepo
from slimrlfn.arch.checkpoints import load_checkpoint
from slimrlfn.arch.derived import is_derived, load_derived
from slimrlfn.arch.external import build_external, check_sr_model, json_object, parse_kwargs
from slimrlfn.arch.rlfn import MIN_INPUT_SIZE
from slimrlfn.arch.zoo import ZOO, find_checkpoint, load_zoo_model, zoo_entry
from slimrlfn.core.errors import UserError
from slimrlfn.core.files import PathLike

__all__ = ["DATA_RANGES", "OFFICIAL_IDS", "ModelSpec", "absolute_class_path", "absolute_model_reference",
           "model_from_reference", "model_from_text", "models_from_texts",
           "resolve_model", "zoo_name_for_id"]

#: The official ``--model_id`` values of ``test_demo.py`` that the zoo holds (other ids need ``challenge_repo``).
OFFICIAL_IDS = (0, 21)
#: Input / output ranges a model may take: [0, 1] or [0, 255] (the workbook's own models).
DATA_RANGES = (1.0, 255.0)
_ARGUMENTS = ("model", "checkpoint", "config", "model_id", "use_prune", "name", "zoo_path", "challenge_repo",
              "kwargs", "data_range", "state_key", "strict")


@dataclass
class ModelSpec:
    """A model ready to use: ``result_name`` is its key in results.json, ``label`` its display name.

    ``kind`` is ``zoo``, ``checkpoint``, ``class``, ``challenge`` or ``derived`` (any model with channels
    removed, :mod:`slimrlfn.arch.derived`); ``path`` the file (or repository) its
    weights came from (absolute); ``source`` what named it; ``config`` the workbook architecture config
    (None for the last two kinds); the model takes and gives values in [0, ``data_range``]; ``tile`` is
    the LR tile size of its evaluation (None: whole images); ``arguments`` rebuild it (:func:`resolve_model`);
    ``min_size`` is the smallest LR side it takes (known for the workbook's architectures, 1 for others).
    """

    result_name: str
    label: str
    model: nn.Module
    config: Optional[Dict[str, Any]]
    source: str
    scale: int = 4
    extra: Dict[str, Any] = field(default_factory=dict)
    kind: str = "zoo"
    path: Optional[str] = None
    data_range: float = 255.0
    tile: Optional[int] = None
    arguments: Dict[str, Any] = field(default_factory=dict)
    min_size: int = MIN_INPUT_SIZE  # the smallest LR side the model takes (RLFN's ESA: 15)

    def reference(self) -> Dict[str, Any]:
        """``{"model", "label", "kind", "path", "arguments"}``: enough to resolve the same model in another process.

        ``model`` is its key: the zoo name or the checkpoint as given, else the results key (``38_SPAN``).
        """
        key = self.source if self.kind in ("zoo", "checkpoint") else self.result_name
        return {"model": key, "label": self.label, "kind": self.kind, "path": str(self.path),
                "arguments": dict(self.arguments)}


def zoo_name_for_id(model_id: Optional[int], use_prune: bool = False) -> str:
    """The zoo name of an official ``--model_id`` (0 RLFN, 21 SlimRLFN; ``use_prune``: SlimRLFN-prune)."""
    if model_id is None:
        model_id = 21
    if model_id == 0:
        return "rlfn"
    if model_id == 21:
        return "slimrlfn_prune" if use_prune else "slimrlfn"
    raise UserError(f"--model_id {model_id}: expected 0 (RLFN baseline) or 21 (SlimRLFN), or give --challenge_repo "
                    f"for the entries of a challenge repository")


def _check_data_range(data_range: Optional[float]) -> Optional[float]:
    if data_range is None:
        return None
    if float(data_range) not in DATA_RANGES:
        raise UserError(f"--data_range {data_range}: expected 1 (inputs and outputs in [0, 1]) or 255 ([0, 255])")
    return float(data_range)


def _refuse_extras(kind: str, **given: Any) -> None:
    for flag, value in given.items():
        if value not in (None, False, {}, ""):
            raise UserError(f"--{flag}: only for a model class (path/to/file.py:ClassName), not for a {kind}")


def absolute_class_path(model: str) -> str:
    """``path/to/file.py:Class`` with the file made absolute (against the current directory); a module path
    (``package.module:Class``) or a zoo name unchanged. Stored references must not depend on where a run started."""
    module, colon, class_name = str(model).rpartition(":")
    if colon and module.endswith(".py"):
        return f"{Path(module).resolve()}:{class_name}"
    return str(model)


_PATH_ARGUMENTS = ("checkpoint", "config", "zoo_path", "challenge_repo")


def absolute_model_reference(reference: Union[str, Mapping[str, Any]]) -> Union[str, Dict[str, Any]]:
    """A model reference as :func:`model_from_text` reads it, with every file path in it made absolute: a
    checkpoint ``.pth`` or an existing path, ``file.py:Class``, and the path arguments of a dict or JSON object.
    Zoo names and module paths are unchanged; so is what is not understood (the loader refuses it later)."""
    if isinstance(reference, Mapping) or str(reference).lstrip().startswith("{"):
        try:
            arguments = dict(reference) if isinstance(reference, Mapping) else json.loads(str(reference))
        except json.JSONDecodeError:
            return str(reference)
        if not isinstance(arguments, dict):
            return str(reference)
        for key in _PATH_ARGUMENTS:
            if arguments.get(key) is not None:
                arguments[key] = str(Path(arguments[key]).resolve())
        if isinstance(arguments.get("model"), str):
            arguments["model"] = absolute_class_path(arguments["model"])
        return arguments
    text = str(reference)
    if text in ZOO:
        return text
    if Path(text).suffix == ".pth" or Path(text).exists():
        return str(Path(text).resolve())
    return absolute_class_path(text)


def resolve_model(
    model: Optional[str] = None,
    checkpoint: Optional[PathLike] = None,
    config: Optional[PathLike] = None,
    model_id: Optional[int] = None,
    use_prune: bool = False,
    name: Optional[str] = None,
    zoo_path: Optional[PathLike] = None,
    challenge_repo: Optional[PathLike] = None,
    kwargs: Optional[Union[str, Mapping[str, Any]]] = None,
    data_range: Optional[float] = None,
    state_key: Optional[str] = None,
    strict: bool = True,
) -> ModelSpec:
    """Pick and load the model (see the module docstring); ``name`` replaces the results key and label.

    Order: ``challenge_repo`` (+ ``model_id``); a class ``model`` (``file.py:Class``, with ``checkpoint``);
    a workbook ``checkpoint`` (+ ``config``); a zoo ``model``; else the official ``model_id`` (default 21,
    SlimRLFN). UserError (one line) for anything unknown, missing, unfitting or refused.
    """
    paths = dict(checkpoint=checkpoint, config=config, zoo_path=zoo_path, challenge_repo=challenge_repo)
    absolute = {key: None if paths[key] is None else str(Path(paths[key]).resolve()) for key in _PATH_ARGUMENTS}
    if name is not None and (not str(name).strip() or str(name) in (".", "..") or any(c in str(name) for c in "/\\")):
        raise UserError(f"--name {name!r}: expected a plain name (it names the results entry and its image folder), "
                        f"without / or \\")
    stored_model = None if model is None else absolute_class_path(model)  # a derived model reloads from anywhere
    arguments = {k: v for k, v in dict(model=stored_model, model_id=model_id, use_prune=use_prune, name=name,
                                       kwargs=parse_kwargs(kwargs) or None, data_range=data_range,
                                       state_key=state_key, **absolute).items() if v is not None and v is not False}
    if not strict:
        arguments["strict"] = False
    data_range = _check_data_range(data_range)
    if challenge_repo is not None:
        if model is not None or checkpoint is not None:
            raise UserError(f"--{'model' if model is not None else 'checkpoint'}: give either it or "
                            f"--challenge_repo, not both")
        _refuse_extras("challenge entry", kwargs=kwargs, state_key=state_key, data_range=data_range)
        if model_id is None:
            raise UserError("--challenge_repo: give --model_id N, the entry of test_demo.py to load")
        repo = ChallengeRepo(challenge_repo)
        entry = repo.load(int(model_id), torch.device("cpu"), use_prune)
        label = name or entry.name
        check_sr_model(entry.model, entry.data_range, 4, torch.device("cpu"), f"entry {model_id} ({entry.name})")
        extra = {"non_strict_load": entry.non_strict_load} if entry.non_strict_load else {}
        return ModelSpec(label, label, entry.model, None, f"{repo.folder}#{model_id}", 4, extra, "challenge",
                         str(repo.folder), entry.data_range, entry.tile, arguments, min_size=1)
    if model is not None and ":" in str(model):
        _refuse_extras("model class", config=config, model_id=model_id, use_prune=use_prune, zoo_path=zoo_path)
        net, report = build_external(str(model), parse_kwargs(kwargs), checkpoint, state_key, strict)
        data_range = 1.0 if data_range is None else data_range
        label = name or str(model).rpartition(":")[2]
        check_sr_model(net, data_range, 4, torch.device("cpu"), f"--model {model}")
        extra = {"non_strict_load": report} if report else {}
        return ModelSpec(label, label, net, None, str(model), 4, extra, "class",
                         None if checkpoint is None else str(Path(checkpoint).resolve()), data_range, None, arguments,
                         min_size=1)
    _refuse_extras("zoo model or workbook checkpoint", kwargs=kwargs, state_key=state_key,
                   data_range=None if data_range in (None, 255.0) else data_range)
    if checkpoint is not None:
        if model is not None or model_id is not None:
            raise UserError("--checkpoint: give either --checkpoint or --model/--model_id, not both")
        if config is None and is_derived(checkpoint):  # any model with channels removed (slimrlfn prune)
            net, record = load_derived(checkpoint, resolve_model)
            label = name or record.get("label") or Path(checkpoint).stem
            return ModelSpec(label, label, net, None, str(checkpoint), 4, {"derived_from": record["source"]}, "derived",
                             str(Path(checkpoint).resolve()), float(record.get("data_range", 1.0)), record.get("tile"),
                             arguments, min_size=1)
        net, resolved = load_checkpoint(checkpoint, config)
        stem = Path(checkpoint).stem
        return ModelSpec(name or stem, name or stem, net, resolved, str(checkpoint), resolved["upscale"],
                         kind="checkpoint", path=str(Path(checkpoint).resolve()), arguments=arguments)
    if model is None:
        model = zoo_name_for_id(model_id, use_prune)
    elif model_id is not None:
        raise UserError("--model: give either --model or --model_id, not both")
    if model not in ZOO:
        raise UserError(f"--model {model!r}: unknown model; expected a zoo name ({', '.join(ZOO)}) or your class "
                        f"path/to/file.py:ClassName or package.module:ClassName")
    entry = zoo_entry(model)
    path = find_checkpoint(model, path=zoo_path)
    net, _ = load_zoo_model(model, path=path)
    arguments = {"model": model, "zoo_path": str(Path(path).resolve()), **({"name": name} if name else {})}
    return ModelSpec(name or entry.result_name, entry.label, net, dict(entry.config), entry.name,
                     entry.config["upscale"], kind="zoo", path=str(Path(path).resolve()), arguments=arguments)


def model_from_text(text: Union[str, Mapping[str, Any]], what: str = "--model", noun: str = "model",
                    alternatives: str = "") -> ModelSpec:
    """A model named by one word: a zoo name, a checkpoint ``.pth``, ``file.py:Class`` (no weights), or a JSON
    object (or dict) of :func:`resolve_model`'s arguments.

    ``what`` names the flag in the one-line UserError for anything else (``noun``: what the flag takes,
    ``alternatives``: other accepted words, e.g. ``", or none"``); a missing ``.pth`` is "no such file".
    """
    if isinstance(text, Mapping) or str(text).lstrip().startswith("{"):
        return resolve_model(**_arguments_of(text, what))
    text = str(text)
    if text in ZOO:
        return resolve_model(model=text)
    if Path(text).suffix == ".py":
        raise UserError(f"{what} {text!r}: a model file needs its class; expected path/to/file.py:ClassName")
    if Path(text).suffix == ".pth" or Path(text).exists():
        return resolve_model(checkpoint=text)
    if ":" in text:
        return resolve_model(model=text)
    raise UserError(f"{what} {text!r}: unknown {noun}; expected a zoo name ({', '.join(ZOO)}), the path of a "
                    f"checkpoint .pth, a model class file.py:ClassName, or a JSON object of model arguments{alternatives}")


def _arguments_of(text: Union[str, Mapping[str, Any]], what: str) -> Dict[str, Any]:
    value = json_object(text, what, "model arguments")
    unknown = sorted(set(value) - set(_ARGUMENTS))
    if unknown:
        raise UserError(f"{what} {json.dumps(value)}: unknown keys {unknown}; expected some of {list(_ARGUMENTS)}")
    return value


def model_from_reference(reference: Mapping[str, Any]) -> ModelSpec:
    """The model of a :meth:`ModelSpec.reference` (in a worker process): loaded again, checked as before."""
    if "arguments" in reference:
        return resolve_model(**reference["arguments"])
    if reference["kind"] == "zoo":  # a reference written before arguments were recorded
        return resolve_model(model=reference["model"], zoo_path=reference["path"])
    return resolve_model(checkpoint=reference["path"], name=reference["label"])


def models_from_texts(texts: List[Union[str, Mapping[str, Any]]], what: str = "--models") -> List[ModelSpec]:
    """:func:`model_from_text` of each; UserError when two have the same results key."""
    specs = [model_from_text(text, what) for text in texts]
    keys = [s.result_name for s in specs]
    if len(set(keys)) != len(keys):
        raise UserError(f"{what}: a model is named twice ({', '.join(k for k in keys if keys.count(k) > 1)})")
    return specs
