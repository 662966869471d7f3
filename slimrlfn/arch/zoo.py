"""The official NTIRE 2024 ESR checkpoints: names, files, digests, lookup and verified download.

Names: ``rlfn`` (team 00 baseline), ``slimrlfn`` and ``slimrlfn_prune`` (team 21). Files are those
of the ``model_zoo/`` folder of the public repository Blcony/SlimRLFN (MIT; the RLFN file is also
``rlfn_ntire_x4.pth`` of bytedance/RLFN).

Lookup order for a checkpoint: an explicit path, then ``$SLIMRLFN_MODEL_ZOO/<file>`` (a relative folder is the
current folder's; :func:`zoo_environment` makes it absolute for the notebooks, which run in ``notebooks/``), then
``./model_zoo/<file>``, then ``model_zoo/<file>`` of the checkout this package lives in (so a notebook opened in
``notebooks/`` finds the repository root's ``model_zoo/``, as ``slimrlfn zoo --verify`` from the root does), then a
download into ``./model_zoo/`` (unless ``$SLIMRLFN_OFFLINE`` is set).
Every file found or downloaded is checked against its SHA-256 before it is loaded, always with
``weights_only=True``.
"""
from __future__ import annotations

import os
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from hashlib import sha256
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import torch.nn as nn

from slimrlfn.arch.checkpoints import load_state_dict_checked
from slimrlfn.arch.config import build_model, validate_config
from slimrlfn.arch.weights import read_weights
from slimrlfn.core.errors import UserError
from slimrlfn.core.files import PathLike, atomic_write_bytes, sha256_of_file

__all__ = ["ZOO", "ZooEntry", "DOWNLOAD_URL", "CHECKOUT_ZOO", "find_checkpoint", "load_zoo_model", "zoo_entry",
           "zoo_environment"]

#: ``model_zoo/`` of the checkout this package lives in (the repository root).
CHECKOUT_ZOO = Path(__file__).resolve().parents[2] / "model_zoo"
#: Where a missing file is fetched from; ``{file}`` is replaced by the file name.
DOWNLOAD_URL = "https://github.com/Blcony/SlimRLFN/raw/main/model_zoo/{file}"


@dataclass(frozen=True)
class ZooEntry:
    """One official checkpoint: its name, file, digest, config and NTIRE result key."""

    name: str
    label: str
    file: str
    sha256: str
    config: Dict[str, Any] = field(hash=False)
    result_name: str = ""
    model_id: int = 0


ZOO: Dict[str, ZooEntry] = {
    "rlfn": ZooEntry(
        name="rlfn", label="RLFN", file="team00_rlfn.pth",
        sha256="3c9be7b9d7a4bece9b68c83a56a1ffb38010f76413d5f215be6b4be842e18fb2",
        config=validate_config({"arch": "rlfn"}), result_name="00_RLFN_baseline", model_id=0),
    "slimrlfn": ZooEntry(
        name="slimrlfn", label="SlimRLFN", file="team21_slimrlfn.pth",
        sha256="d8a4981dcf0f305761bef230f79740da82d29093144c0278ff46e7021d0c2450",
        config=validate_config({"arch": "slimrlfn"}), result_name="21_SlimRLFN", model_id=21),
    "slimrlfn_prune": ZooEntry(
        name="slimrlfn_prune", label="SlimRLFN-prune", file="team21_slimrlfn_prune.pth",
        sha256="54dd955a0d06962589dd27d68085a53b5eeb15d840bf1da2b8c50976f45328f5",
        config=validate_config({"arch": "slimrlfn", "prune_channels": [28] * 10 + [30, 30]}),
        result_name="21_SlimRLFN_prune", model_id=21),
}


def zoo_entry(name: str) -> ZooEntry:
    """The zoo entry called ``name``; UserError listing the known names otherwise."""
    if name not in ZOO:
        raise UserError(f"unknown model {name!r}; expected one of {', '.join(ZOO)}")
    return ZOO[name]


def _verify(path: Path, entry: ZooEntry) -> Path:
    actual = sha256_of_file(path)
    if actual != entry.sha256:
        raise UserError(f"checkpoint {path}: sha256 {actual[:12]}... does not match the official "
                        f"{entry.file} ({entry.sha256[:12]}...); replace the file with the official one")
    return path


def _download(entry: ZooEntry, target: Path, url_template: str, timeout_s: float) -> Path:
    url = url_template.format(file=entry.file)
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:  # noqa: S310 (fixed https URL)
            data = response.read()
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise OSError(f"download of {url} failed ({reason})") from None

    digest = sha256(data).hexdigest()
    if digest != entry.sha256:
        raise UserError(f"download of {url}: sha256 {digest[:12]}... does not match the official "
                        f"{entry.sha256[:12]}...; nothing was written")
    return atomic_write_bytes(target, data)


def find_checkpoint(
    name: str,
    path: Optional[PathLike] = None,
    download: Optional[bool] = None,
    url_template: str = DOWNLOAD_URL,
    timeout_s: float = 30.0,
) -> Path:
    """The verified local file of zoo model ``name`` (see the module docstring for the order).

    ``download=None`` downloads unless the environment variable ``SLIMRLFN_OFFLINE`` is set.
    Raises UserError with one line saying where to put which file when nothing is found.
    """
    entry = zoo_entry(name)
    if path is not None:
        path = Path(path)
        if path.is_dir():
            path = path / entry.file
        if not path.is_file():
            raise UserError(f"checkpoint {path}: no such file (expected the official {entry.file})")
        return _verify(path, entry)
    searched: List[Path] = []
    env_dir = os.environ.get("SLIMRLFN_MODEL_ZOO")
    for folder in ([Path(env_dir)] if env_dir else []) + [Path("model_zoo"), CHECKOUT_ZOO]:
        candidate = folder / entry.file
        searched.append(candidate)
        if candidate.is_file():
            return _verify(candidate, entry)
    if download is None:
        download = not os.environ.get("SLIMRLFN_OFFLINE")
    why = "downloads are off (SLIMRLFN_OFFLINE is set)"
    if download:
        try:
            return _download(entry, Path("model_zoo") / entry.file, url_template, timeout_s)
        except OSError as exc:
            why = str(exc)
    raise UserError(f"model {name!r}: {entry.file} not found (searched {', '.join(map(str, searched))}) and "
                    f"{why}; put {entry.file} in ./model_zoo/ or point SLIMRLFN_MODEL_ZOO at a folder that has it")


def zoo_environment(environ: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """``{"SLIMRLFN_MODEL_ZOO": absolute folder}`` for processes that run elsewhere (notebook kernels run in
    ``notebooks/``): the variable made absolute against the current folder, or ``./model_zoo`` when it holds a
    checkpoint and the variable is unset; ``{}`` when neither says anything."""
    environ = os.environ if environ is None else environ
    given = environ.get("SLIMRLFN_MODEL_ZOO")
    if given:
        return {"SLIMRLFN_MODEL_ZOO": str(Path(given).resolve())}
    if any((Path("model_zoo") / entry.file).is_file() for entry in ZOO.values()):
        return {"SLIMRLFN_MODEL_ZOO": str(Path("model_zoo").resolve())}
    return {}


def load_zoo_model(name: str, path: Optional[PathLike] = None, **find_kwargs: Any) -> Tuple[nn.Module, ZooEntry]:
    """Build zoo model ``name`` and load its verified official weights (strict, weights_only).

    Returns ``(model in eval mode on CPU, entry)``.
    """
    entry = zoo_entry(name)
    checkpoint = find_checkpoint(name, path=path, **find_kwargs)
    model = build_model(entry.config)
    load_state_dict_checked(model, read_weights(checkpoint), str(checkpoint))
    return model.eval(), entry
