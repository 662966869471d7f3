"""The ground floor: errors, atomic files, devices, the signal stack, optional packages.

Modules: :mod:`~slimrlfn.core.errors` (:class:`UserError`, one line, exit status 2), :mod:`~slimrlfn.core.entry`
(running a sub-command: one-line usage errors, the exit statuses),
:mod:`~slimrlfn.core.files` (the one :data:`PathLike`, atomic writes, SHA-256),
:mod:`~slimrlfn.core.devices` (device choice and description, peak memory; imports torch),
:mod:`~slimrlfn.core.signal_stack` (keeps the thread's alternate signal stack around native calls),
:mod:`~slimrlfn.core.optional` (optional-package checks with install hints). Nothing here imports
another layer of the package. This face hands on the names that need no third-party package.
"""
from slimrlfn.core.errors import UserError
from slimrlfn.core.files import PathLike, atomic_write_bytes, atomic_write_json, atomic_write_text, sha256_of_file
from slimrlfn.core.optional import install_hint, is_installed, require_module

__all__ = ["PathLike", "UserError", "atomic_write_bytes", "atomic_write_json", "atomic_write_text",
           "install_hint", "is_installed", "require_module", "sha256_of_file"]
