"""Output paths checked before any work: a folder where a folder is meant, a file where a file is meant, and a place
that can really be written (tried with a probe file, so that an immutable folder or a read-only mount is caught even
for root, for whom permission bits say nothing).

Nothing is created by a check: a folder that does not exist yet is judged by its nearest existing ancestor, so a
refused command leaves the output tree as it was.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterator

from slimrlfn.core.errors import UserError
from slimrlfn.core.files import PathLike

__all__ = ["check_output_dir", "check_output_file", "no_empty_folders_on_failure"]


def _existing_ancestor(path: Path, flag: str, original: Path) -> Path:
    """The nearest ancestor of ``path`` that exists (``path`` itself when it does); UserError when it is a file."""
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        raise UserError(f"{flag} {original}: {probe} is a file, not a folder; expected a folder there")
    return probe


def _try_writing(folder: Path, flag: str, original: Path) -> None:
    try:
        fd, probe = tempfile.mkstemp(prefix=".slimrlfn-probe-", dir=folder)
    except OSError as exc:
        raise UserError(f"{flag} {original}: cannot write in {folder} ({exc.strerror or type(exc).__name__}); "
                        f"expected a folder this user can write") from None
    os.close(fd)
    os.unlink(probe)


def check_output_dir(path: PathLike, flag: str) -> Path:
    """``path`` as a folder that exists or can be made, and can be written; UserError naming ``flag`` otherwise."""
    original = Path(path)
    resolved = original.absolute()
    if resolved.exists() and not resolved.is_dir():
        raise UserError(f"{flag} {original}: is a file; expected a folder")
    _try_writing(_existing_ancestor(resolved, flag, original), flag, original)
    return original


def check_output_file(path: PathLike, flag: str) -> Path:
    """``path`` as a file that can be written (or replaced); UserError naming ``flag`` otherwise. A file that is
    there already is probed itself (opened for appending, nothing written): an immutable file in a writable folder
    cannot be replaced, and a run that found it out only at its final rename would have done its work for nothing."""
    original = Path(path)
    resolved = original.absolute()
    if resolved.is_dir():
        raise UserError(f"{flag} {original}: is a folder; expected a file name")
    _try_writing(_existing_ancestor(resolved.parent, flag, original), flag, original)
    if resolved.is_file():
        try:
            os.close(os.open(resolved, os.O_WRONLY | os.O_APPEND))
        except OSError as exc:
            raise UserError(f"{flag} {original}: cannot be replaced ({exc.strerror or type(exc).__name__}); expected "
                            f"a file this user can write") from None
    return original


@contextlib.contextmanager
def no_empty_folders_on_failure(folder: PathLike, always: bool = False) -> Iterator[Path]:
    """For the body, which may make ``folder``: when the body fails (or always, with ``always``), the folders it made
    on the way to ``folder`` (``folder`` and its new parents, deepest first) are removed again while empty, so that
    a refused or failed run leaves no empty folder behind."""
    folder = Path(folder)
    created = [f for f in (folder, *folder.absolute().parents) if not f.exists()]
    failed = True
    try:
        yield folder
        failed = False
    finally:
        if failed or always:
            for made in created:
                try:
                    if made.is_dir() and not any(made.iterdir()):
                        made.rmdir()
                except OSError:
                    break
