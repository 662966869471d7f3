"""The command-line flags that name a model, shared by every sub-command that takes one.

One model (``eval``, ``profile``, ``export``, ``prune``): ``--model`` (a zoo name or your class
``path/to/file.py:ClassName``), ``--checkpoint`` (a workbook checkpoint, or your class's weights),
``--config``, ``--kwargs`` (JSON), ``--data_range 1|255``, ``--state_key``, ``--non_strict``, and a challenge
entry by ``--challenge_repo DIR --model_id N [--use_prune]`` (the ``test_demo.py`` flag names; without
``--challenge_repo``, ``--model_id`` 0 / 21 are the zoo's RLFN / SlimRLFN). Several models (``time``,
``backends``, ``profile``): ``--models`` items (zoo names, ``.pth`` files, ``file.py:Class`` or JSON objects)
and ``--challenge_repo DIR --model_ids N ...``.
"""
from __future__ import annotations

import argparse
import sys
from typing import Any, List, Mapping, Optional, Sequence, Union

from slimrlfn.arch.challenge import ChallengeRepo
from slimrlfn.arch.source import ModelSpec, models_from_texts, resolve_model
from slimrlfn.arch.zoo import ZOO
from slimrlfn.core.errors import UserError
from slimrlfn.core.files import PathLike

__all__ = ["add_model_arguments", "add_models_arguments", "model_from_args", "models_from_args", "select_models"]


def add_model_arguments(parser: argparse.ArgumentParser, model_help: str = "") -> argparse.ArgumentParser:
    """The flags of one model (see the module docstring); returns ``parser``."""
    group = parser.add_argument_group("the model: a zoo name, your own class, a workbook checkpoint, or a challenge entry")
    group.add_argument("--model", default=None,
                       help=model_help or f"a zoo name ({', '.join(ZOO)}) or your class path/to/file.py:ClassName "
                                          f"or package.module:ClassName")
    group.add_argument("--checkpoint", default=None,
                       help="a workbook state_dict .pth (config from the .json beside it), or the weights of --model's class")
    group.add_argument("--config", default=None, help="config JSON for a workbook --checkpoint (default: beside it)")
    group.add_argument("--kwargs", default=None, help="constructor arguments of --model's class, a JSON object")
    group.add_argument("--data_range", type=float, default=None,
                       help="input and output range of --model's class: 1 ([0, 1], the default) or 255")
    group.add_argument("--state_key", default=None,
                       help="the key the checkpoint keeps the weights under (e.g. params, params_ema)")
    group.add_argument("--non_strict", action="store_true",
                       help="load the class's checkpoint with strict=False (missing and unexpected keys are reported)")
    group.add_argument("--challenge_repo", default=None,
                       help="an NTIRE ESR challenge repository (test_demo.py, models/, model_zoo/): load --model_id from it")
    group.add_argument("--model_id", type=int, default=None,
                       help="test_demo.py's id: with --challenge_repo any entry of it; without, 0 RLFN baseline or "
                            "21 SlimRLFN (the default when nothing else is named)")
    group.add_argument("--use_prune", action="store_true", help="the pruned variant (--model_id 21: SlimRLFN-prune)")
    return parser


def model_from_args(args: argparse.Namespace) -> ModelSpec:
    """The :class:`ModelSpec` the flags of :func:`add_model_arguments` name (plus ``--name`` / ``--zoo_path``)."""
    if args.use_prune and args.challenge_repo is None and args.model_id not in (None, 21):
        raise UserError("--use_prune: only with --model_id 21 (or an entry of --challenge_repo that has a pruned variant)")
    return resolve_model(model=args.model, checkpoint=args.checkpoint, config=args.config, model_id=args.model_id,
                         use_prune=args.use_prune, name=getattr(args, "name", None),
                         zoo_path=getattr(args, "zoo_path", None), challenge_repo=args.challenge_repo,
                         kwargs=args.kwargs, data_range=args.data_range, state_key=args.state_key,
                         strict=not args.non_strict)


def add_models_arguments(parser: argparse.ArgumentParser, default: List[str]) -> argparse.ArgumentParser:
    """The flags of several models: ``--models`` (default ``default``), ``--challenge_repo``, ``--model_ids``."""
    parser.add_argument("--models", nargs="+", default=None,
                        help=f"zoo names, .pth checkpoints, your classes file.py:ClassName, or JSON objects of model "
                             f"arguments (default: {' '.join(default)}; none when --challenge_repo is given)")
    parser.add_argument("--challenge_repo", default=None, help="an NTIRE ESR challenge repository: its --model_ids too")
    parser.add_argument("--model_ids", nargs="+", type=int, default=None,
                        help="entries of --challenge_repo (test_demo.py ids); default with --challenge_repo: all")
    parser.set_defaults(default_models=list(default))
    return parser


def models_from_args(args: argparse.Namespace) -> List[ModelSpec]:
    """The models that the flags of :func:`add_models_arguments` name (:func:`select_models`)."""
    if args.model_ids is not None and args.challenge_repo is None:
        raise UserError("--model_ids: give --challenge_repo DIR, the repository the ids are entries of")
    texts = args.models if args.models is not None else ([] if args.challenge_repo is not None else args.default_models)
    return select_models(texts, args.challenge_repo, args.model_ids)


def select_models(models: Sequence[Union[str, Mapping[str, Any]]], challenge_repo: Optional[PathLike] = None,
                  model_ids: Optional[Sequence[int]] = None, what: str = "--models") -> List[ModelSpec]:
    """``models`` (zoo names, ``.pth`` files, ``file.py:Class``, JSON objects or dicts of model arguments),
    then the entries ``model_ids`` of ``challenge_repo`` (the notebooks' ``models`` / ``challenge_repo`` /
    ``model_ids`` parameters, and the command-line flags of the same names).

    Without ``model_ids`` (None or empty), every entry of ``challenge_repo`` that loads is taken, and each
    one that does not is named on stderr with its reason (one line each); named ids must all load.
    UserError when nothing is named or two models have the same results key.
    """
    if model_ids and challenge_repo is None:
        raise UserError("model_ids: give challenge_repo, the repository the ids are entries of")
    specs = models_from_texts(list(models), what) if models else []
    if challenge_repo is not None:
        repo = ChallengeRepo(challenge_repo)
        for model_id in (model_ids if model_ids else repo.ids()):
            try:
                specs.append(resolve_model(challenge_repo=challenge_repo, model_id=model_id))
            except UserError as exc:
                if model_ids:
                    raise
                print(f"slimrlfn: skipped {exc}", file=sys.stderr)
    if not specs:
        raise UserError(f"{what}: no model named (and none of the challenge repository loads)")
    keys = [spec.result_name for spec in specs]
    if len(set(keys)) != len(keys):
        raise UserError(f"{what}: a model is named twice ({', '.join(sorted({k for k in keys if keys.count(k) > 1}))})")
    return specs
