"""The command-line flags that name a model, the one set every sub-command that takes a model declares.

One model (``eval``, ``export``, ``prune``, ``qat``, ``int8-sensitivity``): ``--model`` takes any text form of
:class:`~slimrlfn.arch.ref.ModelRef` (a zoo name, a ``.pth``, ``file.py:Class``, ``challenge:DIR#ID``,
``derived:step.pth``, a JSON object); beside a bare ``--model``, the keyword flags ``--checkpoint``, ``--config``,
``--kwargs`` (JSON), ``--data_range 1|255``, ``--state_key``, ``--non_strict``, and a challenge entry by
``--challenge_repo DIR --model_id N [--use_prune]`` (the ``test_demo.py`` flag names; without
``--challenge_repo``, ``--model_id`` 0 / 21 are the zoo's RLFN / SlimRLFN); ``--name`` and ``--zoo_path`` where
the command asks for them. Several models (``time``, ``backends``, ``profile``, ``field``, ``models``,
``workbook``): ``--models`` items of any text form and ``--challenge_repo DIR --model_ids N ...``.

Whatever the flags say becomes one reference (:meth:`ModelRef.parse`), loaded by
:func:`slimrlfn.arch.ref.load_model`.
"""
from __future__ import annotations

import argparse
import sys
from typing import Any, List, Mapping, Optional, Sequence, Union

from slimrlfn.arch.challenge import ChallengeRepo
from slimrlfn.arch.ref import ModelRef, check_unique, is_explicit, load_model
from slimrlfn.arch.spec import ModelSpec
from slimrlfn.arch.zoo import ZOO
from slimrlfn.core.errors import UserError
from slimrlfn.core.files import PathLike

__all__ = ["add_model_arguments", "add_models_arguments", "model_from_args", "model_ref_from_args",
           "models_from_args", "select_models"]

#: The keyword flags of one model (their ``dest``), beside ``--model``.
_KEYWORD_FLAGS = ("checkpoint", "config", "kwargs", "data_range", "state_key", "non_strict", "challenge_repo",
                  "model_id", "use_prune", "zoo_path")
_FORMS = "a zoo name, a .pth, file.py:ClassName, challenge:DIR#ID, derived:step.pth or a JSON object"


def add_model_arguments(parser: argparse.ArgumentParser, model_default: Optional[str] = None, model_help: str = "",
                        naming: bool = False) -> argparse.ArgumentParser:
    """The flags of one model (see the module docstring); ``naming`` adds ``--name`` and ``--zoo_path``."""
    group = parser.add_argument_group("the model: a zoo name, your own class, a workbook checkpoint, a challenge entry, "
                                      "a derived model")
    group.add_argument("--model", default=model_default,
                       help=model_help or f"the model: {_FORMS} (zoo names: {', '.join(ZOO)})"
                                          + (f"; default {model_default}" if model_default else ""))
    group.add_argument("--checkpoint", default=None,
                       help="a workbook state_dict .pth (config from the .json beside it), or the weights of --model's class")
    group.add_argument("--config", default=None, help="config JSON for a workbook --checkpoint (default: beside it)")
    group.add_argument("--kwargs", default=None, help="constructor arguments of --model's class, a JSON object")
    group.add_argument("--data_range", default=None,
                       help="input and output range of --model's class: 1 ([0, 1], the default) or 255")
    group.add_argument("--state_key", default=None,
                       help="the key the checkpoint keeps the weights under (default: params_ema, params or state_dict "
                            "when one is there)")
    group.add_argument("--non_strict", action="store_true",
                       help="load the class's checkpoint with strict=False (missing and unexpected keys are reported)")
    group.add_argument("--challenge_repo", default=None,
                       help="an NTIRE ESR challenge repository (test_demo.py, models/, model_zoo/): load --model_id from it")
    group.add_argument("--model_id", type=int, default=None,
                       help="test_demo.py's id: with --challenge_repo any entry of it; without, 0 RLFN baseline or "
                            "21 SlimRLFN (the default when nothing else is named)")
    group.add_argument("--use_prune", action="store_true", help="the pruned variant (--model_id 21: SlimRLFN-prune)")
    if naming:
        group.add_argument("--zoo_path", default=None, help="explicit path of the zoo file for --model/--model_id")
        group.add_argument("--name", default=None, help="results entry name (default: official name or file stem)")
    parser.set_defaults(model_default=model_default)
    return parser


def model_ref_from_args(args: argparse.Namespace) -> ModelRef:
    """The reference the flags of :func:`add_model_arguments` name."""
    given = {key: getattr(args, key, None) for key in _KEYWORD_FLAGS}
    given["strict"] = not given.pop("non_strict")
    name = getattr(args, "name", None)
    model = args.model
    if model is not None and model == getattr(args, "model_default", None) and (
            given["challenge_repo"] is not None or given["checkpoint"] is not None and ":" not in str(model)
            or given["model_id"] is not None):
        model = None  # the command's default model gives way to a model named by the other flags
    flags = [f"--{key}" for key in _KEYWORD_FLAGS if getattr(args, key, None) not in (None, False)]
    if model is not None and (is_explicit(model) or not flags):  # the text alone names the model
        if flags:
            raise UserError(f"--model {model}: a whole reference already; give {', '.join(flags)} inside it, not as flags")
        ref = ModelRef.parse(model)
        return ref.replace(name=name) if name is not None else ref
    if given["use_prune"] and given["challenge_repo"] is None and given["model_id"] not in (None, 21):
        raise UserError("--use_prune: only with --model_id 21 (or an entry of --challenge_repo that has a pruned variant)")
    return ModelRef.parse({"model": model, "name": name, **given})


def model_from_args(args: argparse.Namespace) -> ModelSpec:
    """The :class:`ModelSpec` the flags of :func:`add_model_arguments` name."""
    return load_model(model_ref_from_args(args))


def add_models_arguments(parser: argparse.ArgumentParser, default: Sequence[str], repo_required: bool = False,
                         with_models: bool = True, with_checkpoint: bool = False,
                         default_text: str = "") -> argparse.ArgumentParser:
    """The flags of several models: ``--models`` (default ``default``, described as ``default_text`` when given),
    ``--challenge_repo`` (``repo_required``), ``--model_ids``; ``with_checkpoint`` adds ``--checkpoint`` /
    ``--config`` (one workbook checkpoint)."""
    if with_models:
        parser.add_argument("--models", nargs="+", default=None,
                            help=f"models: {_FORMS} (default: {default_text or ' '.join(default) or 'none'}; none "
                                 f"when --challenge_repo is given)")
    parser.add_argument("--challenge_repo", default=None, required=repo_required,
                        help="an NTIRE ESR challenge repository (test_demo.py, models/, model_zoo/), where you keep "
                             "it: its --model_ids too")
    parser.add_argument("--model_ids", nargs="+", type=int, default=None,
                        help="entries of --challenge_repo (test_demo.py ids); default: all")
    if with_checkpoint:
        parser.add_argument("--checkpoint", default=None, help="one workbook checkpoint .pth instead of --models")
        parser.add_argument("--config", default=None, help="config JSON for --checkpoint (default: beside it)")
    parser.set_defaults(default_models=list(default))
    return parser


def _model_texts(args: argparse.Namespace) -> List[Any]:
    checkpoint, config = getattr(args, "checkpoint", None), getattr(args, "config", None)
    models = getattr(args, "models", None)
    if checkpoint is not None:
        if models is not None or args.challenge_repo is not None:
            raise UserError("--checkpoint: give either --checkpoint or --models/--challenge_repo, not both")
        return [{"checkpoint": checkpoint, "config": config}]
    if config is not None:
        raise UserError("--config: only with --checkpoint (the config of that checkpoint)")
    if models is not None:
        return list(models)
    return [] if args.challenge_repo is not None else list(args.default_models)


def models_from_args(args: argparse.Namespace) -> List[ModelSpec]:
    """The models that the flags of :func:`add_models_arguments` name (:func:`select_models`)."""
    if args.model_ids is not None and args.challenge_repo is None:
        raise UserError("--model_ids: give --challenge_repo DIR, the repository the ids are entries of")
    return select_models(_model_texts(args), args.challenge_repo, args.model_ids)


def select_models(models: Sequence[Union[str, Mapping[str, Any]]], challenge_repo: Optional[PathLike] = None,
                  model_ids: Optional[Sequence[int]] = None, what: str = "--models") -> List[ModelSpec]:
    """``models`` (any form of :meth:`ModelRef.parse`), then the entries ``model_ids`` of ``challenge_repo`` (the
    notebooks' ``models`` / ``challenge_repo`` / ``model_ids`` parameters, and the flags of the same names).

    Without ``model_ids`` (None or empty), every entry of ``challenge_repo`` that loads is taken, and each
    one that does not is named on stderr with its reason (one line each); named ids must all load.
    UserError when nothing is named or two models have the same results key.
    """
    if model_ids and challenge_repo is None:
        raise UserError("model_ids: give challenge_repo, the repository the ids are entries of")
    refs: List[Any] = [ModelRef.parse(model, what) for model in models]
    if challenge_repo is not None:
        repo = ChallengeRepo(challenge_repo)
        for model_id in model_ids or []:
            repo.check_id(model_id)
        refs += [ModelRef.parse({"challenge_repo": repo.folder, "model_id": i}) for i in (model_ids or repo.ids())]
    specs: List[ModelSpec] = []
    for ref in refs:
        try:
            specs.append(load_model(ref, what))
        except UserError as exc:
            if ref.kind != "challenge" or model_ids:
                raise
            print(f"slimrlfn: skipped {exc}", file=sys.stderr)
    if not specs:
        raise UserError(f"{what}: no model named (and none of the challenge repository loads)")
    return check_unique(specs, what)

