"""Model counts as the NTIRE 2024 ESR challenge reports them, and ptflops MACs beside them.

- **FLOPs** (the challenge's figure): fvcore ``FlopCountAnalysis(model, torch.rand(1, 3, 256, 256))
  .total()``. fvcore counts one "flop" per multiply-accumulate of a convolution, 4 per output
  element of a bilinear upsample, and nothing for element-wise ops (activations, additions,
  products, sigmoid) or max-pooling. RLFN 19.675 G, SlimRLFN 11.991 G, SlimRLFN-prune 11.295 G.
- **MACs** (ptflops, backend named explicitly). The ``aten`` backend counts each ATen convolution
  as its MACs plus one addition per output element for the bias, and skips the bilinear
  upsample: for RLFN 19.658 G conv MACs + 0.080 G bias adds (= the 80.0 M conv-output
  activations) = 19.738 G. The ``pytorch`` backend hooks modules and patches
  ``torch.nn.functional``, so it also counts activations, pooling, interpolation and element-wise
  ops: 19.781 G for RLFN. Neither is the challenge's figure; they are shown beside it.
- **Activations / #Conv2d** exactly as NTIRE's ``utils/model_summary.py`` counts them: the number of elements of
  every ``Conv2d`` and ``ConvTranspose2d`` output and the number of such calls, for one 1x3x256x256 input. Its
  ``is_supported_instance_for_activation`` also names Conv1d, Linear and ConvTranspose1d, but
  ``add_activation_counter_hook_function`` hooks only the two 2-D types, so a transformer's Linear layers are not
  counted (2026's HAESR: 503.78 M and 165 convs in the organisers' results.json).
- **A second FLOPs count**, PyTorch's own ``torch.utils.flop_counter.FlopCounterMode`` (halved: it counts two
  per multiply-accumulate), beside fvcore's: a cross-check, never the challenge's figure. Where the two differ by
  more than 5 % the profile says so, with the operator families responsible (:func:`flops_cross_check`).
- An entry that ``test_demo.py`` runs through its own function (:class:`~slimrlfn.arch.challenge.RepositoryForward`)
  is counted as the organisers count it: its network, not the padding around it.

:func:`architecture_counts` gives params and FLOPs of an architecture config (they do not depend on
the weights), counted once per config in a process.
"""
from __future__ import annotations

import contextlib
import io
import json
import logging
from typing import Any, Dict, Tuple

import torch
import torch.nn as nn

from slimrlfn.arch.challenge import RepositoryForward
from slimrlfn.arch.config import build_model, validate_config

__all__ = [
    "NTIRE_INPUT_SHAPE",
    "architecture_counts",
    "reconcile_counts",
    "count_parameters",
    "fvcore_flops",
    "fvcore_flops_by_operator",
    "ptflops_macs",
    "ELEMENTWISE_OPS",
    "activations_and_convs",
    "flops_cross_check",
    "fvcore_count",
    "organisers_model",
    "profile_model",
    "profile_spec",
    "torch_flop_count",
]

#: The challenge's profiling input, (N, C, H, W).
NTIRE_INPUT_SHAPE = (1, 3, 256, 256)

#: What the organisers' ``add_activation_counter_hook_function`` hooks (their activations and #Conv2d).
_ACTIVATION_TYPES = (nn.Conv2d, nn.ConvTranspose2d)
#: Where fvcore's FLOPs and PyTorch's flop counter may differ before a profile flags it.
FLOPS_TOLERANCE = 0.05


def count_parameters(model: nn.Module) -> int:
    """Number of parameter elements (trainable or not), as NTIRE's ``num_parameters`` before /1e6."""
    return sum(p.numel() for p in model.parameters())


def _example_input(model: nn.Module, shape: Tuple[int, ...]) -> torch.Tensor:
    param = next(model.parameters())
    return torch.rand(*shape, device=param.device, dtype=param.dtype)


def _fvcore_analysis(model: nn.Module, shape: Tuple[int, ...]):
    from fvcore.nn import FlopCountAnalysis

    logging.getLogger("fvcore").setLevel(logging.ERROR)
    analysis = FlopCountAnalysis(model, _example_input(model, shape))
    analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
    return analysis


@torch.no_grad()
def fvcore_flops(model: nn.Module, input_shape: Tuple[int, ...] = NTIRE_INPUT_SHAPE) -> int:
    """fvcore's total (the NTIRE 2024 'FLOPs'; divide by 1e9 for G) on a random input."""
    return int(_fvcore_analysis(model, input_shape).total())


#: Operators fvcore does not count and the challenge does not count either: element-wise, pooling, reshuffles.
#: Any other skipped operator (FFT, custom autograd functions, attention kernels, ...) makes the total an
#: undercount of the model's work.
ELEMENTWISE_OPS = ("add", "sub", "mul", "div", "neg", "abs", "pow", "sqrt", "rsqrt", "exp", "log", "sigmoid", "tanh",
                   "relu", "leaky_relu", "gelu", "silu", "hardswish", "hardsigmoid", "elu", "prelu", "softplus",
                   "clamp", "clamp_min", "clamp_max", "clip", "max_pool2d", "avg_pool2d", "adaptive_max_pool2d",
                   "adaptive_avg_pool2d", "pixel_shuffle", "pixel_unshuffle", "clone", "expand_as", "expand",
                   "repeat", "repeat_interleave", "mean", "sum", "var", "softmax", "sign", "round", "floor",
                   "maximum", "minimum", "where", "flip", "roll", "contiguous", "type_as", "fill_", "zero_",
                   "rsub", "reciprocal", "square", "erf", "mish", "hardtanh", "relu6")


def _op_name(op: str) -> str:
    return op.split("::")[-1].rstrip("_")


def fvcore_count(model: nn.Module, input_shape: Tuple[int, ...] = NTIRE_INPUT_SHAPE) -> Dict[str, Any]:
    """fvcore's total and what it skipped, from one trace: ``{"flops", "skipped": {op: calls}, "uncounted": [op]}``.

    ``uncounted`` lists the skipped operators that are not in :data:`ELEMENTWISE_OPS`: where they are,
    fvcore's total (the challenge's FLOPs) is an undercount.
    """
    with torch.no_grad():
        analysis = _fvcore_analysis(model, input_shape)
        total = int(analysis.total())
        skipped = {str(op): int(n) for op, n in sorted(analysis.unsupported_ops().items())}
    uncounted = sorted(op for op in skipped if _op_name(op) not in ELEMENTWISE_OPS)
    return {"flops": total, "skipped": skipped, "uncounted": uncounted}


@torch.no_grad()
def fvcore_flops_by_operator(model: nn.Module, input_shape: Tuple[int, ...] = NTIRE_INPUT_SHAPE) -> Dict[str, int]:
    """fvcore's count per ATen operator (e.g. ``conv``, ``upsample_bilinear2d``)."""
    return {k: int(v) for k, v in _fvcore_analysis(model, input_shape).by_operator().items()}


def _family(op: str) -> str:
    """The operator family of an fvcore or PyTorch operator name: conv, matmul (linear, mm, bmm, einsum, ...),
    attention, upsample, or the name itself."""
    name = str(op).split(".")[-1].split("::")[-1].lstrip("_")
    if "conv" in name:
        return "conv"
    if "attention" in name:
        return "attention"
    if name in ("linear", "addmm", "mm", "matmul", "bmm", "baddbmm", "einsum", "addbmm"):
        return "matmul"
    if "upsample" in name or "interpolate" in name:
        return "upsample"
    return name


@torch.no_grad()
def torch_flop_count(model: nn.Module, input_shape: Tuple[int, ...] = NTIRE_INPUT_SHAPE) -> Dict[str, Any]:
    """PyTorch's ``FlopCounterMode`` on one random input, halved to fvcore's unit (one per multiply-accumulate):
    ``{"flops", "by_family": {family: flops}}``."""
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter:
        model(_example_input(model, input_shape))
    by_family: Dict[str, int] = {}
    for op, flops in counter.get_flop_counts().get("Global", {}).items():
        by_family[_family(str(op))] = by_family.get(_family(str(op)), 0) + int(flops) // 2
    return {"flops": int(counter.get_total_flops()) // 2, "by_family": by_family}


def flops_cross_check(fvcore_by_operator: Dict[str, int], torch_count: Dict[str, Any],
                      tolerance: float = FLOPS_TOLERANCE) -> Dict[str, Any]:
    """fvcore's FLOPs against PyTorch's: ``{"torch_flops_g", "difference"`` (relative to fvcore), ``"flagged"``
    (over ``tolerance``), ``"responsible"``: the families whose two counts differ, largest difference first,
    each ``{"family", "fvcore_g", "torch_g"}``}."""
    fvcore_total = sum(fvcore_by_operator.values())
    fv: Dict[str, int] = {}
    for op, flops in fvcore_by_operator.items():
        fv[_family(op)] = fv.get(_family(op), 0) + int(flops)
    th = torch_count["by_family"]
    difference = abs(torch_count["flops"] - fvcore_total) / fvcore_total if fvcore_total else float("inf")
    rows = [{"family": family, "fvcore_g": fv.get(family, 0) / 1e9, "torch_g": th.get(family, 0) / 1e9}
            for family in sorted(set(fv) | set(th)) if fv.get(family, 0) != th.get(family, 0)]
    rows.sort(key=lambda row: -abs(row["fvcore_g"] - row["torch_g"]))
    return {"torch_flops_g": torch_count["flops"] / 1e9, "difference": difference,
            "flagged": bool(difference > tolerance), "responsible": rows}


def ptflops_macs(model: nn.Module, input_shape: Tuple[int, ...] = NTIRE_INPUT_SHAPE, backend: str = "pytorch") -> int:
    """ptflops' MAC count with the named ``backend`` ('pytorch' or 'aten'); quiet."""
    from ptflops import get_model_complexity_info

    was_training = model.training
    model.eval()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        macs, _ = get_model_complexity_info(model, tuple(input_shape[1:]), as_strings=False,
                                            print_per_layer_stat=False, verbose=False, backend=backend)
    model.train(was_training)
    if macs is None:
        raise RuntimeError(f"ptflops ({backend} backend) returned no count")
    return int(macs)


@torch.no_grad()
def activations_and_convs(model: nn.Module, input_shape: Tuple[int, ...] = NTIRE_INPUT_SHAPE) -> Tuple[int, int]:
    """(activations, num_conv) as NTIRE's ``get_model_activation``: conv-output elements and calls."""
    totals = {"activations": 0, "convs": 0}

    def hook(_module: nn.Module, _inputs: Any, output: torch.Tensor) -> None:
        totals["activations"] += output.numel()
        totals["convs"] += 1

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, _ACTIVATION_TYPES)]
    try:
        model(_example_input(model, input_shape))
    finally:
        for handle in handles:
            handle.remove()
    return totals["activations"], totals["convs"]


def organisers_model(model: nn.Module) -> nn.Module:
    """The model the organisers count: a :class:`RepositoryForward`'s network (``select_model``'s model), else it."""
    return model.network if isinstance(model, RepositoryForward) else model


def profile_spec(spec: Any, input_shape: Tuple[int, ...] = NTIRE_INPUT_SHAPE) -> Dict[str, Any]:
    """:func:`profile_model` of a loaded model (:class:`~slimrlfn.arch.spec.ModelSpec`) with its label, range and
    ``load_forwards``: the forward passes its own code ran while it loaded (None where nothing was watched: the
    workbook's own architectures)."""
    forwards = spec.loaded.get("load_forwards")
    return {"model": spec.label, "data_range": spec.data_range, **profile_model(spec.model, input_shape),
            "load_forwards": None if forwards is None else len(forwards)}


def profile_model(model: nn.Module, input_shape: Tuple[int, ...] = NTIRE_INPUT_SHAPE) -> Dict[str, Any]:
    """All counts of one model: params, FLOPs (fvcore), MACs (ptflops, both backends), activations, convs.

    Keys: ``num_parameters`` (M), ``flops`` (G, fvcore), ``macs_ptflops_pytorch`` and
    ``macs_ptflops_aten`` (G; None with ``ptflops_errors`` when ptflops cannot count the model),
    ``activations`` (M), ``num_conv``, the raw integers with ``_raw``, ``fvcore_skipped`` (operator ->
    calls fvcore did not count) and ``fvcore_uncounted`` (those of them that are not element-wise:
    where there are any, the FLOPs are an undercount), ``flops_torch`` (G, PyTorch's count) and ``flops_check``
    (:func:`flops_cross_check`). A :class:`RepositoryForward` is counted as its network, as the organisers do.
    """
    model = organisers_model(model)
    was_training = model.training
    model.eval()
    params = count_parameters(model)
    fvcore = fvcore_count(model, input_shape)
    macs, errors = {}, {}
    for backend in ("pytorch", "aten"):
        try:
            macs[backend] = ptflops_macs(model, input_shape, backend) / 1e9
        except Exception as exc:  # ptflops cannot count every model (custom ops, odd forwards): say why
            macs[backend] = None
            errors[backend] = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
    acts, convs = activations_and_convs(model, input_shape)
    check = flops_cross_check(fvcore_flops_by_operator(model, input_shape), torch_flop_count(model, input_shape))
    model.train(was_training)
    counts = {
        "input_shape": list(input_shape),
        "num_parameters": params / 1e6,
        "flops": fvcore["flops"] / 1e9,
        "macs_ptflops_pytorch": macs["pytorch"],
        "macs_ptflops_aten": macs["aten"],
        "activations": acts / 1e6,
        "num_conv": convs,
        "num_parameters_raw": params,
        "flops_raw": fvcore["flops"],
        "activations_raw": acts,
        "fvcore_skipped": fvcore["skipped"],
        "fvcore_uncounted": fvcore["uncounted"],
        "flops_torch": check["torch_flops_g"],
        "flops_check": check,
    }
    if errors:
        counts["ptflops_errors"] = errors
    return counts


_COUNTS_CACHE: Dict[str, Dict[str, float]] = {}


def architecture_counts(config: Dict[str, Any]) -> Dict[str, float]:
    """``{"params_m", "flops_g", "params", "flops"}`` of the architecture ``config`` (fvcore, 1x3x256x256); cached."""
    config = validate_config(config)
    key = json.dumps(config, sort_keys=True)
    if key not in _COUNTS_CACHE:
        model = build_model(config).eval()
        params, flops = count_parameters(model), fvcore_flops(model)
        _COUNTS_CACHE[key] = {"params": params, "flops": flops, "params_m": params / 1e6, "flops_g": flops / 1e9}
    return dict(_COUNTS_CACHE[key])


def reconcile_counts(model: nn.Module, counts: Dict[str, Any]) -> Dict[str, float]:
    """Why fvcore FLOPs and ptflops MACs differ, from fvcore's per-operator counts, for ``counts`` of ``model``.

    ``counts`` is :func:`profile_model` of ``model`` (NTIRE input). fvcore = conv + bilinear (the
    ``fvcore - conv - bilinear`` entry is 0) and aten = conv + one bias addition per conv output element
    (= the activations; ``aten - conv - bias adds`` is 0 up to float rounding); G unless named.
    """
    by_operator = fvcore_flops_by_operator(model, tuple(counts.get("input_shape", NTIRE_INPUT_SHAPE)))
    conv, bilinear = by_operator.get("conv", 0), by_operator.get("upsample_bilinear2d", 0)
    return {
        "fvcore conv [G]": conv / 1e9, "fvcore bilinear [G]": bilinear / 1e9,
        "fvcore - conv - bilinear": counts["flops_raw"] - conv - bilinear,
        "bias adds = activations [G]": counts["activations_raw"] / 1e9,
        "aten - conv - bias adds [G]": counts["macs_ptflops_aten"] - (conv + counts["activations_raw"]) / 1e9,
        "pytorch - aten [G]": counts["macs_ptflops_pytorch"] - counts["macs_ptflops_aten"],
    }
