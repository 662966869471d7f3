"""The counts of :func:`slimrlfn.metrics.counts.profile_model`, computed once per architecture and kept on disk.

fvcore and two ptflops backends take about 2.7 s per model on this project's CPU, more than the forwards of a small
evaluation; the counts depend on the architecture and the code, not on the weights. So they are keyed by a digest of:

- the input shape;
- every module's name, class (module and qualified name) and ``extra_repr()`` (widths, kernel sizes, strides);
- every parameter's and buffer's name, shape and dtype;
- the source file of every class in the model (a changed forward changes the key) and of the counting code itself,
  with the torch, fvcore and ptflops versions.

The cache folder is ``$SLIMRLFN_CACHE_DIR/counts`` (default ``~/.cache/slimrlfn/counts``); an entry is one JSON file
written atomically. A folder that cannot be written only means no cache; a file that cannot be read is counted
again. ``refresh=True`` (``slimrlfn eval --recount``) counts afresh and replaces the entry.
"""
from __future__ import annotations

import hashlib
import json
import sys
from importlib import metadata
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import torch.nn as nn

from slimrlfn.core.files import PathLike, atomic_write_json, cache_root
from slimrlfn.metrics import counts as _counts
from slimrlfn.metrics.counts import NTIRE_INPUT_SHAPE, profile_model

__all__ = ["architecture_digest", "cache_dir", "cached_profile", "package_version", "structure_lines"]


def cache_dir() -> Path:
    """Where count entries are kept: ``$SLIMRLFN_CACHE_DIR/counts``, else ``~/.cache/slimrlfn/counts``."""
    return cache_root() / "counts"


def package_version(package: str) -> str:
    """The installed version of ``package``, or ``"absent"``."""
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "absent"


def _source_digest(module_name: str, seen: Dict[str, str]) -> str:
    if module_name not in seen:
        path = getattr(sys.modules.get(module_name), "__file__", None)
        try:
            seen[module_name] = hashlib.sha256(Path(path).read_bytes()).hexdigest() if path else "no-file"
        except OSError:
            seen[module_name] = "unreadable"
    return seen[module_name]


def structure_lines(model: nn.Module) -> List[str]:
    """One line per module (name, class, ``extra_repr()``, the digest of its class's source file) and per parameter
    and buffer (name, shape, dtype): what defines the architecture and its code, not the weights."""
    sources: Dict[str, str] = {}
    lines = []
    for name, module in model.named_modules():
        cls = type(module)
        lines.append(f"{name}|{cls.__module__}.{cls.__qualname__}|{module.extra_repr()}|"
                     f"{_source_digest(cls.__module__, sources)}")
    for kind, tensors in (("param", model.named_parameters()), ("buffer", model.named_buffers())):
        lines.extend(f"{kind}|{name}|{tuple(t.shape)}|{t.dtype}" for name, t in tensors)
    return lines


def architecture_digest(model: nn.Module, input_shape: Tuple[int, ...] = NTIRE_INPUT_SHAPE) -> str:
    """A hex SHA-256 that changes with the architecture, the input shape and the code, not with the weights."""
    parts = [json.dumps(list(input_shape)), _source_digest(_counts.__name__, {}),
             *(f"{p}={package_version(p)}" for p in ("torch", "fvcore", "ptflops")), *structure_lines(model)]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def cached_profile(model: nn.Module, input_shape: Tuple[int, ...] = NTIRE_INPUT_SHAPE,
                   folder: Optional[PathLike] = None, refresh: bool = False) -> Dict[str, Any]:
    """:func:`profile_model` of ``model``, from the cache when the same architecture was counted before.

    The result carries ``counts_cache``: ``"hit"`` (read back), ``"miss"`` (counted and kept) or ``"off"`` (counted;
    the folder could not be written) and ``architecture_digest``.
    """
    digest = architecture_digest(model, input_shape)
    path = Path(folder) if folder is not None else cache_dir()
    entry = path / f"{digest}.json"
    if not refresh and entry.is_file():
        try:
            counts = json.loads(entry.read_text())
            if isinstance(counts, dict) and counts.get("architecture_digest") == digest:
                return {**counts, "counts_cache": "hit"}
        except (OSError, ValueError):
            pass  # counted again below
    counts = {**profile_model(model, input_shape), "architecture_digest": digest}
    try:
        atomic_write_json(entry, counts)
        state = "miss"
    except OSError:
        state = "off"
    return {**counts, "counts_cache": state}
