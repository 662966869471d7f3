"""The train-time SlimRLFN and the verbs between its train-time and deploy forms (NTIRE 2024 ESR team 21).

:class:`RepSlimRLFN` is :class:`slimrlfn.arch.rlfn.SlimRLFN` whose blocks are :class:`RepRLFB`:
:class:`slimrlfn.arch.rlfn.RLFB` with its three 3x3 convs built as
:class:`slimrlfn.arch.repconv.RepConv3x3` (many branches at train time, one 3x3 conv at inference).
Outer structure and key names are the official ones.

- :func:`build_train_model`: a train-time model from a deploy config of :mod:`slimrlfn.arch.config`.
- :func:`from_deploy`: a train-time model whose output equals a given deploy model's (its 3x3
  weights go into the ``3x3`` branch, minus the identity; the other branches start at zero output).
- :func:`reparameterize`: folds every :class:`RepConv3x3` into a plain ``nn.Conv2d``, in place,
  idempotent; afterwards the ``state_dict`` loads with ``strict=True`` into ``SlimRLFN``.
- :func:`export_deploy`: a deploy ``SlimRLFN`` with the fused weights (the input model is untouched).
- :func:`branch_table`: the branches and parameter counts of every reparameterizable conv.
"""
from __future__ import annotations

import copy
import functools
from typing import Any, Dict, List, Optional, Sequence, Union

import torch
import torch.nn as nn

from slimrlfn.arch.config import build_model, config_of, unwrap, validate_config
from slimrlfn.arch.repconv import REP_DEFAULTS, RepConv3x3, validate_rep_options
from slimrlfn.arch.rlfn import RLFB, SlimRLFN

__all__ = [
    "REP_DEFAULTS",
    "RepConv3x3",
    "RepRLFB",
    "RepSlimRLFN",
    "branch_table",
    "build_train_model",
    "deploy_config_of",
    "export_deploy",
    "from_deploy",
    "is_reparameterized",
    "rep_options_of",
    "unwrap",
    "reparameterize",
    "validate_rep_options",
]


class RepRLFB(RLFB):
    """The SRLFB of SlimRLFN at train time: ``c1_r``, ``c2_r``, ``c3_r`` are :class:`RepConv3x3`.

    :class:`slimrlfn.arch.rlfn.RLFB` with reparameterizable convs (``rep``: :data:`REP_DEFAULTS`
    keys); same forward and key names; (N, C, H, W) -> (N, C, H, W).
    """

    def __init__(
        self,
        channels: int,
        inner_channels: Sequence[int],
        esa_channels: int = 16,
        use_conv_f: bool = False,
        **rep: Any,
    ) -> None:
        super().__init__(channels, inner_channels, esa_channels, use_conv_f,
                         conv=functools.partial(RepConv3x3, **rep))


class RepSlimRLFN(SlimRLFN):
    """Train-time SlimRLFN: :class:`slimrlfn.arch.rlfn.SlimRLFN` with :class:`RepRLFB` blocks.

    Non-block keys (``conv_1``, ``block_list.i.c5``, ``block_list.i.esa.*``, ``conv_2``,
    ``upsampler.upsample_conv``) are the official ones. ``rep`` holds :data:`REP_DEFAULTS` keys.
    """

    def __init__(
        self,
        in_channels: int = 3,
        out_channels: int = 3,
        feature_channels: int = 30,
        num_blocks: int = 6,
        prune_channels: Optional[Sequence[int]] = None,
        esa_channels: Union[int, Sequence[int]] = 16,
        upscale: int = 4,
        rep: Optional[Dict[str, Any]] = None,
    ) -> None:
        options = validate_rep_options(rep or {})
        super().__init__(in_channels, out_channels, feature_channels, num_blocks, prune_channels, esa_channels,
                         upscale, block=functools.partial(RepRLFB, **options))
        self.rep_options = options


def build_train_model(config: Dict[str, Any], rep: Optional[Dict[str, Any]] = None) -> RepSlimRLFN:
    """A train-time model (random weights) for the deploy config ``config`` (arch 'slimrlfn')."""
    config = validate_config(config)
    if config["arch"] != "slimrlfn":
        raise ValueError(f"reparameterizable training is implemented for arch 'slimrlfn', got {config['arch']!r}")
    kwargs = {k: v for k, v in config.items() if k != "arch"}
    return RepSlimRLFN(**kwargs, rep=rep)


def deploy_config_of(model: nn.Module) -> Dict[str, Any]:
    """The deploy config (:mod:`slimrlfn.arch.config`, validated) of a train-time, fused or deploy model."""
    return validate_config(config_of(unwrap(model)))


def rep_options_of(model: nn.Module) -> Dict[str, Any]:
    """The branch options a train-time model was built with."""
    model = unwrap(model)
    if not isinstance(model, RepSlimRLFN):
        raise TypeError(f"not a train-time RepSlimRLFN: {type(model).__name__}")
    return dict(model.rep_options)


@torch.no_grad()
def from_deploy(deploy: nn.Module, rep: Optional[Dict[str, Any]] = None) -> RepSlimRLFN:
    """A train-time model with the same output as the deploy ``SlimRLFN`` ``deploy`` (any widths).

    Non-block weights are copied by key; each block conv goes in through
    :meth:`RepConv3x3.load_plain`. Same device and dtype as ``deploy``.
    """
    deploy = unwrap(deploy)
    if not isinstance(deploy, SlimRLFN) or not is_reparameterized(deploy):
        unfused = " with unfused reparameterizable convs" if isinstance(deploy, SlimRLFN) else ""
        raise TypeError(f"from_deploy expects a deploy slimrlfn.arch.rlfn.SlimRLFN, got {type(deploy).__name__}{unfused}")
    reference = next(deploy.parameters())
    model = build_train_model(config_of(deploy), rep).to(device=reference.device, dtype=reference.dtype)
    source = deploy.state_dict()
    own = model.state_dict()
    for key, value in source.items():
        if not any(f".{name}." in key for name in ("c1_r", "c2_r", "c3_r")):
            own[key].copy_(value)  # same config, so the same keys and shapes
    for i, block in enumerate(model.blocks()):
        for name in ("c1_r", "c2_r", "c3_r"):
            getattr(block, name).load_plain(source[f"block_list.{i}.{name}.weight"],
                                            source[f"block_list.{i}.{name}.bias"])
    return model.train(deploy.training)


@torch.no_grad()
def reparameterize(model: nn.Module) -> nn.Module:
    """Replace every :class:`RepConv3x3` inside ``model`` by its fused ``nn.Conv2d``; in place.

    Idempotent (a fused model has nothing left to fold). Returns ``model``. Afterwards a
    :class:`RepSlimRLFN`'s ``state_dict`` has exactly the keys and shapes of ``SlimRLFN``.
    """
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, RepConv3x3):
                setattr(parent, name, child.to_conv())
    return model


def is_reparameterized(model: nn.Module) -> bool:
    """True when no :class:`RepConv3x3` is left in ``model``."""
    return not any(isinstance(m, RepConv3x3) for m in model.modules())


@torch.no_grad()
def export_deploy(model: nn.Module) -> SlimRLFN:
    """A deploy ``SlimRLFN`` (eval mode, same device and dtype) equal to ``model``; ``model`` is untouched.

    Accepts a train-time model (fused or not, possibly wrapped in DDP) or a deploy model.
    """
    model = unwrap(model)
    reference = next(model.parameters())
    fused = reparameterize(copy.deepcopy(model))
    deploy = build_model(deploy_config_of(model)).to(device=reference.device, dtype=reference.dtype)
    deploy.load_state_dict(fused.state_dict(), strict=True)
    return deploy.eval()


def _count(module: Optional[nn.Module]) -> int:
    return 0 if module is None else sum(p.numel() for p in module.parameters())


def branch_table(model: nn.Module) -> List[Dict[str, Any]]:
    """One row per :class:`RepConv3x3`: name, widths, branches, train-time and fused parameters."""
    rows = []
    for name, module in unwrap(model).named_modules():
        if isinstance(module, RepConv3x3):
            fused = module.in_channels * module.out_channels * 9 + module.out_channels
            per_branch = {"3x3": _count(module.conv3x3), "1x1": _count(module.conv1x1), "identity": 0,
                          "1x1-3x3": _count(module.expand_squeeze)}
            if module.edges is not None:
                per_branch.update({kind: _count(branch) for kind, branch in module.edges.items()})
            rows.append({"conv": name, "in": module.in_channels, "out": module.out_channels,
                         "branches": len(module.branch_names()), "branch_names": "+".join(module.branch_names()),
                         "train_params": _count(module), "deploy_params": fused,
                         **{f"params_{k}": v for k, v in per_branch.items() if k in module.branch_names()}})
    return rows
