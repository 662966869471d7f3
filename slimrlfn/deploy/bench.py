"""The inference paths of :mod:`slimrlfn.deploy.backends` side by side, on one input, in interleaved rounds.

For each input size and model, every backend is built (``setup_s``: export/compile/build), called
once (``first_ms``: its first call in its process -- torch.compile compiles here; the process-level
cold start is what ``slimrlfn time --backend`` measures), then timed in ``rounds`` interleaved
rounds (one call per contestant per round in a shuffled order, so slow drift of the machine and
position effects fall on all alike). By default each path runs in a process of its own
(:mod:`slimrlfn.deploy.workers`), as users run one path per process; ``isolate=False`` runs
them all in this process.

For ``compile`` the compilation is lazy and lands in ``first_ms``; for the ONNX paths export and
compilation are ``setup_s``; on CUDA TF32 is turned off (strict fp32 for paths and peak alike).

Per row: median and IQR [ms]; GFLOP/s = 2 x fvcore FLOPs at that size (fvcore counts one per
multiply-accumulate) / median; ``peak_fraction`` = that over this machine's fp32 matrix-multiply
peak, itself a contestant of the same rounds (one product of the fastest square size found by
:func:`matmul_peak_gflops`, same threads), so the fraction is a ratio of medians taken side by
side; the largest difference to eager fp32 on the [0, 255] output, on a real photo resized to the
input size.
"""
from __future__ import annotations

import os
from typing import Any, Callable, Dict, List, Optional, Sequence

import numpy as np
import torch

from slimrlfn.arch.ref import load_model
from slimrlfn.arch.spec import ModelSpec
from slimrlfn.core.devices import describe_device, resolve_device
from slimrlfn.core.errors import UserError
from slimrlfn.core.files import atomic_write_json
from slimrlfn.core.progress import tqdm
from slimrlfn.deploy.backends import available_backends, resolve_backend
from slimrlfn.deploy.onnx import DEFAULT_TOLERANCE
from slimrlfn.deploy.workers import PEAK, make_contestant
from slimrlfn.metrics.counts import fvcore_flops
from slimrlfn.metrics.stats import ratio_ci

__all__ = ["DEFAULT_SIZES", "SUMMARY_KEYS", "TABLE_COLUMNS", "TABLE_HEADERS", "compare_backends", "comparison_table",
           "format_rows", "readable_table",
           "summarize", "summary", "target_summary"]

DEFAULT_SIZES = ((256, 256), (339, 510))  # the challenge's 256x256 and a DIV2K-sized LR
#: The columns of :func:`comparison_table`, in order.
TABLE_COLUMNS = ("label", "size", "backend", "resolved", "median_ms", "iqr_ms", "first_ms", "setup_s", "gflops",
                 "peak_fraction", "max_abs_diff")
#: The keys of notebook 04b's ``04b_deployment_backends.json`` (:func:`summary`).
SUMMARY_KEYS = ("device", "fastest", "targets", "conclusion", "mode", "backends", "figures", "timing_studies")


def compare_backends(models: Sequence[Any], sizes: Sequence[Sequence[int]] = DEFAULT_SIZES,
                     backends: Optional[Sequence[str]] = None, rounds: int = 15, device: str = "auto",
                     out: Optional[str] = None, progress: bool = True,
                     log: Callable[[str], None] = lambda line: None, isolate: bool = True) -> Dict[str, Any]:
    """Time ``backends`` (default: ``auto`` and every one available here) on ``models`` at ``sizes``.

    ``models`` are :class:`~slimrlfn.arch.spec.ModelSpec` s or any reference :func:`slimrlfn.arch.ref.load_model`
    takes (zoo names, checkpoints, classes, challenge entries).

    Every path, and the fp32 matmul peak, is a contestant (:mod:`slimrlfn.deploy.workers`): in a
    process of its own when ``isolate`` (the default; as a user runs one path per process), else all
    in this process. Each round times one call of every contestant in a shuffled order.

    Returns ``{device_info, threads, isolate, peak, auto, load_average, rows: [...]}``; each row has
    model, label, size [h, w], backend, resolved, median_ms, iqr_ms, first_ms, setup_s, gflops,
    peak_gflops (median of the peak samples of the same rounds), peak_fraction, max_abs_diff,
    times_ms, and for ``auto`` beside ``openvino`` the ratio of medians openvino / auto with its
    bootstrap 95% CI (``openvino_over_auto``). Written to ``out`` (atomically) after each model.
    """
    if rounds < 1:
        raise UserError(f"--rounds {rounds}: expected at least 1")
    torch_device = resolve_device(device)
    names = list(backends) if backends else ["auto", *available_backends(torch_device)]
    for name in names:
        resolve_backend(name, torch_device)  # one line for an unknown, impossible or missing backend
    specs = [m if isinstance(m, ModelSpec) else load_model(m, "--models") for m in models]
    if torch_device.type == "cuda":  # strict fp32 everywhere: TF32 would make eager inexact and the peak incomparable
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    document: Dict[str, Any] = {"device_info": describe_device(torch_device), "threads": torch.get_num_threads(),
                                "isolate": bool(isolate), "auto": resolve_backend("auto", torch_device), "rows": []}
    contestants = {name: make_contestant(name, str(torch_device), isolate) for name in [PEAK, *names]}
    bar = tqdm(total=len(sizes) * len(specs), desc="backends", unit="model", disable=not progress)
    try:
        for h, w in sizes:
            for spec in specs:
                model_name = spec.key
                flops = fvcore_flops(spec.model, (1, 3, h, w))
                built = {name: contestant.build(spec.ref.to_json(), h, w) for name, contestant in contestants.items()}
                if "peak" not in document:
                    n = built[PEAK]["n"]
                    document["peak"] = {"n": n, "note": f"one fp32 {n}x{n} torch.matmul per round, same threads"}
                    log(f"device: {document['device_info']['device_name']} ({torch_device}), {document['threads']} "
                        f"threads, {'each path in its own process' if isolate else 'all paths in one process'}; "
                        f"matmul peak at n={n}; auto -> {document['auto']}")
                times: Dict[str, List[float]] = {name: [] for name in contestants}
                order = np.random.default_rng(0)
                for _ in range(rounds):
                    for name in order.permutation(list(contestants)):
                        times[str(name)].append(contestants[str(name)].time())
                n = built[PEAK]["n"]
                peak_samples = [2 * n ** 3 / (ms / 1000.0) / 1e9 for ms in times[PEAK]]
                peak_gflops = float(np.median(peak_samples))
                document.setdefault("peak_samples_gflops", []).extend(peak_samples)
                rows = []
                for name in names:
                    median = float(np.median(times[name]))
                    q1, q3 = np.percentile(times[name], [25, 75])
                    gflops = 2 * flops / (median / 1000.0) / 1e9
                    rows.append({"model": model_name, "label": spec.label, "size": [h, w], "backend": name,
                                 "resolved": built[name]["resolved"], "flops_g": flops / 1e9, "median_ms": median,
                                 "iqr_ms": float(q3 - q1), "first_ms": built[name]["first_ms"],
                                 "setup_s": built[name]["setup_s"], "gflops": gflops, "peak_gflops": peak_gflops,
                                 "peak_fraction": gflops / peak_gflops,
                                 "max_abs_diff": contestants[name].difference(), "times_ms": times[name]})
                if "auto" in times and "openvino" in times:
                    ratio = ratio_ci(times["openvino"], times["auto"], statistic=np.median)
                    next(r for r in rows if r["backend"] == "auto")["openvino_over_auto"] = ratio
                document["peak"]["gflops"] = float(np.median(document["peak_samples_gflops"]))
                document["rows"].extend(rows)
                document["load_average"] = list(os.getloadavg())
                if out is not None:
                    atomic_write_json(out, document)
                log(format_rows(rows))
                bar.update(1)
    finally:
        for contestant in contestants.values():
            contestant.close()
        bar.close()
    return document


def format_rows(rows: Sequence[Dict[str, Any]]) -> str:
    """One model at one size as a text table (the rows of :func:`compare_backends`)."""
    first = rows[0]
    peak = f"; fp32 matmul peak {first['peak_gflops']:.1f} GFLOP/s in the same rounds" if "peak_gflops" in first else ""
    lines = [f"{first['label']} at {first['size'][0]}x{first['size'][1]} ({first['flops_g']:.3f} G multiply-accumulates{peak})",
             f"{'backend':24s} {'median':>8s} {'IQR':>6s} {'first':>8s} {'set-up':>7s} {'GFLOP/s':>8s} "
             f"{'peak':>6s} {'max|d|':>9s}"]
    for row in rows:
        label = row["backend"] if row["backend"] == row["resolved"] else f"{row['backend']} ({row['resolved']})"
        lines.append(f"{label:24s} {row['median_ms']:8.2f} {row['iqr_ms']:6.2f} {row['first_ms']:8.1f} "
                     f"{row['setup_s']:7.2f} {row['gflops']:8.1f} {row['peak_fraction']:6.1%} {row['max_abs_diff']:9.2e}")
        if "openvino_over_auto" in row:
            ratio = row["openvino_over_auto"]
            lines.append(f"  openvino / auto (ratio of medians, 95% CI): {ratio['ratio']:.3f} "
                         f"[{ratio['ci'][0]:.3f}, {ratio['ci'][1]:.3f}]  (>= 1: auto is no slower)")
    return "\n".join(lines)


def target_summary(document: Dict[str, Any], model: str = "slimrlfn_prune", size: Sequence[int] = (256, 256),
                   peak_target: float = 0.8) -> Dict[str, Any]:
    """Issue 6's CPU targets for ``model`` at ``size``: the default path's share of the matmul peak
    (>= ``peak_target``) and openvino / auto (>= 1 within its CI: auto no slower). None where not measured."""
    rows = [r for r in document["rows"] if r["model"] == model and list(r["size"]) == list(size)]
    auto = next((r for r in rows if r["backend"] == "auto"), None)
    if auto is None:
        return {"measured": False}
    ratio = auto.get("openvino_over_auto")
    return {"measured": True, "model": model, "size": list(size), "auto": auto["resolved"],
            "peak_fraction": auto["peak_fraction"], "peak_target_met": auto["peak_fraction"] >= peak_target,
            "openvino_over_auto": ratio,
            "no_slower_than_openvino": None if ratio is None else ratio["ci"][1] >= 1.0}


def summarize(document: Dict[str, Any], tolerance: Optional[float] = None) -> Dict[str, Any]:
    """The comparison in a few computed sentences, plus the fastest exact path per model and size.

    A path counts as exact when its difference to eager is within ``tolerance`` (default
    :data:`slimrlfn.deploy.onnx.DEFAULT_TOLERANCE`) on the [0, 255] output.
    """
    tolerance = DEFAULT_TOLERANCE if tolerance is None else tolerance
    info = document["device_info"]
    fastest, sentences = [], []
    keys = list(dict.fromkeys((r["model"], tuple(r["size"])) for r in document["rows"]))
    for model, size in keys:
        rows = [r for r in document["rows"] if r["model"] == model and tuple(r["size"]) == size]
        exact = [r for r in rows if r["max_abs_diff"] is not None and r["max_abs_diff"] <= tolerance]
        eager = next((r for r in rows if r["backend"] == "eager"), None)
        if not exact:
            continue
        best = min(exact, key=lambda r: r["median_ms"])
        fastest.append({"model": model, "size": list(size), "backend": best["resolved"], "median_ms": best["median_ms"],
                        "peak_fraction": best["peak_fraction"],
                        "speedup_vs_eager": eager["median_ms"] / best["median_ms"] if eager else None})
        versus = f", {eager['median_ms'] / best['median_ms']:.2f}x eager" if eager else ""
        sentences.append(f"{best['label']} at {size[0]}x{size[1]}: fastest exact path {best['resolved']} "
                         f"{best['median_ms']:.1f} ms ({best['peak_fraction']:.0%} of the matmul peak{versus}).")
    targets = target_summary(document)
    if targets["measured"]:
        ratio = targets["openvino_over_auto"]
        sentences.append(f"Default path (auto = {targets['auto']}) for SlimRLFN-prune at 256x256: "
                         f"{targets['peak_fraction']:.0%} of the matmul peak (target 80%: "
                         f"{'met' if targets['peak_target_met'] else 'missed'})"
                         + ("" if ratio is None else f"; openvino / auto = {ratio['ratio']:.3f} "
                            f"[{ratio['ci'][0]:.3f}, {ratio['ci'][1]:.3f}]") + ".")
    device = f"{info['device_name']} ({info['device']}, {document['threads']} threads)"
    return {"device": device, "fastest": fastest, "targets": targets,
            "conclusion": f"On {device}: " + " ".join(sentences)}


def comparison_table(document: Dict[str, Any]) -> List[Dict[str, Any]]:
    """One row per model, size and path of :func:`compare_backends`' document: :data:`TABLE_COLUMNS`, size as ``HxW``."""
    return [{key: (f"{row['size'][0]}x{row['size'][1]}" if key == "size" else row[key]) for key in TABLE_COLUMNS}
            for row in document["rows"]]


#: :data:`TABLE_COLUMNS` as a page shows them: the header with its unit.
TABLE_HEADERS = {"label": "model", "size": "LR size", "backend": "path", "resolved": "runs as",
                 "median_ms": "median [ms]", "iqr_ms": "IQR [ms]", "first_ms": "first call [ms]",
                 "setup_s": "set-up [s]", "gflops": "GFLOP/s", "peak_fraction": "matmul peak [%]",
                 "max_abs_diff": "max |diff| to eager"}


def readable_table(document: Dict[str, Any]) -> List[Dict[str, Any]]:
    """:func:`comparison_table` for a notebook or a factsheet: :data:`TABLE_HEADERS`, times to 0.01 ms, set-up to
    0.01 s, GFLOP/s to 0.1, the share of the matmul peak in percent, the difference to eager in e-notation."""
    digits = {"median_ms": 2, "iqr_ms": 2, "first_ms": 1, "setup_s": 2, "gflops": 1}
    rows = []
    for row in comparison_table(document):
        shown: Dict[str, Any] = {}
        for key, value in row.items():
            if key in digits and value is not None:
                value = round(float(value), digits[key])
            elif key == "peak_fraction" and value is not None:
                value = round(100.0 * float(value), 1)
            elif key == "max_abs_diff" and value is not None:
                value = f"{float(value):.1e}"
            shown[TABLE_HEADERS[key]] = value
        rows.append(shown)
    return rows


def summary(document: Dict[str, Any], mode: str, backends: Sequence[str], figures: Sequence[Any] = (),
            timing_studies: Optional[Dict[str, Any]] = None, tolerance: Optional[float] = None) -> Dict[str, Any]:
    """Notebook 04b's ``04b_deployment_backends.json``: :func:`summarize` of the comparison, the mode, the paths
    compared, the figure files and the cold/warm studies per path (``"<path>/<scenario>"`` -> its JSON file)."""
    result = summarize(document, tolerance)
    result.update(mode=mode, backends=list(backends), figures=[str(path) for path in figures],
                  timing_studies={key: str(path) for key, path in (timing_studies or {}).items()})
    return result
