"""ONNX exports kept on disk, keyed by the model (architecture and weights) and the exporting code.

The TorchScript export of SlimRLFN takes about 1.7 s on this project's CPU, more than the OpenVINO compile (0.26 s)
and longer than the forwards of a small evaluation; it is the same file every time the same model is exported. So
:func:`cached_onnx` keeps it, keyed by a SHA-256 of:

- the architecture and its code (:func:`slimrlfn.metrics.counts_cache.structure_lines`: modules, ``extra_repr``,
  parameter shapes and dtypes, the source file of every model class);
- every parameter's and buffer's values (new weights are a new file);
- the export settings (opset, exporter, dynamic or static size, data range) and the source of
  :mod:`slimrlfn.deploy.onnx`, with the torch and onnx versions.

The folder is ``$SLIMRLFN_CACHE_DIR/onnx`` (default ``~/.cache/slimrlfn/onnx``); each file is written atomically. A
folder that cannot be written only means no cache (the export goes to the caller's scratch folder); a kept file
that the runtime cannot read (truncated, corrupt) is exported again (:func:`load_cached_onnx`). A hit needs
neither the exporter nor the ``onnx`` package to be imported (``import onnx`` alone takes 0.3-1.4 s here). What any backend does with the file is still checked against eager on real
data by :func:`slimrlfn.deploy.backends.build_backend`: the cache saves the export, never the check.
"""
from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path
from typing import Any, Callable, Optional, Sequence, Tuple

from torch import nn

from slimrlfn.arch.checkpoints import weights_digest
from slimrlfn.core.files import PathLike, cache_root
from slimrlfn.deploy import onnx as _onnx
from slimrlfn.deploy.onnx import MIN_OPSET, onnx_to_file
from slimrlfn.metrics.counts_cache import package_version, structure_lines

__all__ = ["cache_dir", "cached_onnx", "export_digest", "load_cached_onnx"]


def cache_dir() -> Path:
    """Where exports are kept: ``$SLIMRLFN_CACHE_DIR/onnx``, else ``~/.cache/slimrlfn/onnx``."""
    return cache_root() / "onnx"


def export_digest(model: nn.Module, opset: int = MIN_OPSET, example_hw: Sequence[int] = (64, 64),
                  *, data_range: float, static: bool = False, exporter: str = "torchscript") -> str:
    """A hex SHA-256 that changes with the architecture, the weights, the export settings and the exporting code."""
    source = Path(sys.modules[_onnx.__name__].__file__).read_bytes()
    settings = f"opset={opset}|hw={tuple(example_hw) if static else 'dynamic'}|range={data_range!r}|{exporter}"
    parts = [settings, hashlib.sha256(source).hexdigest(), *(f"{p}={package_version(p)}" for p in ("torch", "onnx")),
             *structure_lines(model), weights_digest(model)]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def cached_onnx(model: nn.Module, scratch: PathLike, data_range: float, opset: int = MIN_OPSET,
                folder: Optional[PathLike] = None, refresh: bool = False) -> Tuple[Path, str]:
    """The dynamic-size ONNX export of ``model`` (see :func:`slimrlfn.deploy.onnx.onnx_to_file`), from the cache when
    the same model was exported before. Returns ``(path, state)`` with state ``"hit"`` (read back), ``"miss"``
    (exported and kept) or ``"off"`` (exported to ``scratch/model.onnx``: the cache folder cannot be written)."""
    digest = export_digest(model, opset, data_range=data_range)
    path = Path(folder) if folder is not None else cache_dir()
    entry = path / f"{digest}.onnx"
    if not refresh and entry.is_file():
        return entry, "hit"
    try:
        path.mkdir(parents=True, exist_ok=True)
        staged = path / f".{digest}.{os.getpid()}.onnx"
        try:
            onnx_to_file(model, staged, opset, data_range=data_range)
            os.replace(staged, entry)  # atomic: another process reads the whole file or none
        finally:
            if staged.exists():
                staged.unlink()
        return entry, "miss"
    except OSError:
        return onnx_to_file(model, Path(scratch) / "model.onnx", opset, data_range=data_range), "off"


def load_cached_onnx(model: nn.Module, scratch: PathLike, load: Callable[[Path], Any], data_range: float,
                     folder: Optional[PathLike] = None) -> Tuple[Any, str]:
    """``(load(path of the export), state)`` for :func:`cached_onnx`'s file; a kept file that ``load`` fails on is
    exported again and loaded once more (state ``"renewed"``); an error on a fresh export is raised."""
    path, state = cached_onnx(model, scratch, data_range, folder=folder)
    try:
        return load(path), state
    except Exception:
        if state != "hit":
            raise
    path, _ = cached_onnx(model, scratch, data_range, folder=folder, refresh=True)
    return load(path), "renewed"
