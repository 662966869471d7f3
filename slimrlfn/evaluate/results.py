"""The results files of an evaluation, as NTIRE's ``test_demo.py`` writes them: ``results.json`` and ``results.txt``.

``results.json`` maps a model's results key (e.g. ``21_SlimRLFN``) to its entry (the official keys
``valid_runtime`` (ms per image), ``valid_psnr`` (dB per image), ``valid_ave_runtime``,
``valid_ave_psnr``, ``valid_memory`` (MiB), ``flops`` (G), ``num_parameters`` (M), ``activations`` (M),
``num_conv``, ``test_*`` with the test split, plus the workbook's own keys). ``results.txt`` is the
official tab-separated table of all entries.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Dict, Optional

from slimrlfn.core.errors import UserError
from slimrlfn.core.files import PathLike, atomic_write_json, atomic_write_text
from slimrlfn.core.locks import locked

__all__ = ["format_results_table", "load_results", "merge_entry"]


def load_results(save_dir: PathLike) -> Dict[str, Any]:
    """``save_dir/results.json`` as a dict ({} when absent); UserError when it is not valid JSON."""
    path = Path(save_dir) / "results.json"
    if not path.exists():
        return {}
    try:
        results = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise UserError(f"results file {path}: not valid JSON ({exc}); move it away or choose another --save_dir") from None
    if not isinstance(results, dict):
        raise UserError(f"results file {path}: expected a JSON object keyed by model name")
    return results


def merge_entry(save_dir: PathLike, name: str, entry: Dict[str, Any],
                before_write: Optional[Callable[[], None]] = None) -> Dict[str, Any]:
    """Add (or replace) ``name``'s entry in ``save_dir/results.json`` and rewrite ``results.txt``; returns all entries.

    The read, the merge and both writes happen under the lock of ``results.json`` (:mod:`slimrlfn.core.locks`), so
    that processes merging into one ``save_dir`` at once lose no entry; ``before_write`` runs inside the lock first
    (moving staged SR images into place). Both files are replaced atomically.
    """
    path = Path(save_dir) / "results.json"
    with locked(path):
        if before_write is not None:
            before_write()
        results = load_results(save_dir)
        results[name] = entry
        atomic_write_json(path, results)
        atomic_write_text(path.with_name("results.txt"), format_results_table(results))
    return results


def format_results_table(results: Dict[str, Any]) -> str:
    """The official ``results.txt`` table (tab-separated); test columns when every entry has them."""
    include_test = bool(results) and all("test_ave_psnr" in v for v in results.values())
    if include_test:
        fmt = "{:20s}\t{:10s}\t{:10s}\t{:14s}\t{:14s}\t{:14s}\t{:10s}\t{:10s}\t{:8s}\t{:8s}\t{:8s}\n"
        text = fmt.format("Model", "Val PSNR", "Test PSNR", "Val Time [ms]", "Test Time [ms]", "Ave Time [ms]",
                          "Params [M]", "FLOPs [G]", "Acts [M]", "Mem [M]", "Conv")
    else:
        fmt = "{:20s}\t{:10s}\t{:14s}\t{:10s}\t{:10s}\t{:8s}\t{:8s}\t{:8s}\n"
        text = fmt.format("Model", "Val PSNR", "Val Time [ms]", "Params [M]", "FLOPs [G]", "Acts [M]", "Mem [M]", "Conv")
    for name, v in results.items():
        common = dict(num_param=f"{v['num_parameters']:2.3f}", flops=f"{v['flops']:2.2f}",
                      acts=f"{v['activations']:2.2f}", mem=f"{v['valid_memory']:2.2f}", conv=f"{v['num_conv']:4d}")
        if include_test:
            ave = (v["valid_ave_runtime"] + v["test_ave_runtime"]) / 2
            text += fmt.format(name, f"{v['valid_ave_psnr']:2.2f}", f"{v['test_ave_psnr']:2.2f}",
                               f"{v['valid_ave_runtime']:3.2f}", f"{v['test_ave_runtime']:3.2f}", f"{ave:3.2f}",
                               common["num_param"], common["flops"], common["acts"], common["mem"], common["conv"])
        else:
            text += fmt.format(name, f"{v['valid_ave_psnr']:2.2f}", f"{v['valid_ave_runtime']:3.2f}",
                               common["num_param"], common["flops"], common["acts"], common["mem"], common["conv"])
    return text
