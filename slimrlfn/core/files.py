"""Atomic file writes, digests, and the one path type of the package.

Every results file of the workbook is written through these helpers: the bytes go to a temporary
file in the same folder, are flushed and fsync'ed, then renamed over the target, so a reader (or a
crash) never sees a half-written file.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Optional, Union

from slimrlfn.core.errors import UserError

__all__ = ["CHECKOUT", "PathLike", "atomic_write_bytes", "cache_root", "public_path", "give_default_mode", "atomic_write_text", "atomic_write_json",
           "first_difference", "read_json", "safe_name", "sha256_of_file"]

#: A file or folder argument: a ``str`` or any ``os.PathLike`` (``pathlib.Path``).
PathLike = Union[str, "os.PathLike[str]"]


#: The folder this package's checkout lives in (the repository root for a clone with ``pip install -e``).
CHECKOUT = Path(__file__).resolve().parents[2]


def public_path(path: PathLike, root: Optional[PathLike] = None) -> str:
    """``path`` as a published record names it: relative to ``root`` (default :data:`CHECKOUT`) when it lies under it,
    so that no folder of this machine is written; otherwise as given."""
    try:
        return str(Path(path).resolve().relative_to(Path(root or CHECKOUT).resolve()))
    except ValueError:
        return str(path)


def cache_root() -> Path:
    """The folder of the workbook's caches (counts, ONNX exports, compiled OpenVINO models):
    ``$SLIMRLFN_CACHE_DIR``, else ``~/.cache/slimrlfn``. Not created here."""
    return Path(os.environ.get("SLIMRLFN_CACHE_DIR") or Path.home() / ".cache" / "slimrlfn")


def _process_umask() -> int:
    mask = os.umask(0o022)  # read it (os.umask sets as it reads), then put it back
    os.umask(mask)
    return mask


#: The umask of this process, read once at import (before any worker thread writes files).
_UMASK = _process_umask()


def give_default_mode(path: PathLike) -> None:
    """Give a file made by ``tempfile.mkstemp`` (mode 0600) the mode an ordinary new file gets: 0666 minus the
    umask, so that results in a shared folder are as readable as the user's other files."""
    os.chmod(path, 0o666 & ~_UMASK)


def atomic_write_bytes(path: PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temp file + fsync + rename); creates parent folders."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        give_default_mode(tmp)
        os.replace(tmp, path)
    except OSError as exc:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if exc.filename is None and exc.errno is not None:  # a failed write names no file: name the one written
            raise OSError(exc.errno, exc.strerror, str(path)) from exc
        raise
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def read_json(path: PathLike, what: str) -> Any:
    """The JSON document at ``path``; UserError ``"{what} {path}: ..."`` (one line) when it cannot be read or is not
    JSON. What the document must hold is the caller's to check."""
    try:
        return json.loads(Path(path).read_text())
    except OSError as exc:
        raise UserError(f"{what} {path}: cannot read it ({exc.strerror or exc})") from None
    except ValueError as exc:
        raise UserError(f"{what} {path}: not JSON ({str(exc).splitlines()[0]})") from None


def atomic_write_text(path: PathLike, text: str) -> Path:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: PathLike, obj: Any) -> Path:
    """Write ``obj`` as indented JSON to ``path`` atomically (inf/nan as Python's json writes them)."""
    return atomic_write_text(path, json.dumps(obj, indent=2) + "\n")


def safe_name(name: str, limit: int = 120) -> str:
    """``name`` as one path component that stays where it is put: every run of characters other than letters, digits,
    ``.``, ``_``, ``+`` and ``-`` becomes one ``_``, leading and trailing dots and underscores go (``../../x`` is
    ``x``, a name of spaces ``model``), at most ``limit`` characters. A model's official name stays its results key;
    this is only its folder."""
    text = re.sub(r"[^A-Za-z0-9._+-]+", "_", str(name).strip()).strip("._")[:limit]
    return text or "model"


def sha256_of_file(path: PathLike, chunk_bytes: int = 1 << 20) -> str:
    """Hex SHA-256 digest of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(chunk_bytes), b""):
            digest.update(chunk)
    return digest.hexdigest()


def first_difference(old: Any, new: Any, prefix: str = "") -> str:
    """Where two JSON-like values first differ, as ``a.b: <old> there, <new> now`` (a results file's settings
    against the ones asked for); nested dicts are followed key by key, in sorted order."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new)):
            if old.get(key) != new.get(key):
                return first_difference(old.get(key), new.get(key), f"{prefix}{key}.")
    return f"{prefix.rstrip('.')}: {old!r} there, {new!r} now"
