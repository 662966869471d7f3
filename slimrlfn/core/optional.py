"""Optional packages: is one installed, and importing one with a one-line hint when it is not.

The deployment paths (ONNX, ONNX Runtime, OpenVINO: the ``deploy`` extra), TensorRT
(``torch_tensorrt``) and the notebook tools are optional. :func:`require_module` imports such a
package or raises a :class:`~slimrlfn.core.errors.UserError` naming what needs it and the
``pip install`` that provides it; :func:`is_installed` asks without importing.
"""
from __future__ import annotations

import importlib
import importlib.util
import sys
from typing import Any

from slimrlfn.core.errors import UserError

__all__ = ["NO_DEPS_PACKAGES", "install_hint", "is_installed", "require_installed", "require_module"]

#: Packages that the project's extras provide: module -> extra name.
_EXTRAS = {"onnx": "deploy", "onnxruntime": "deploy", "openvino": "deploy", "einops": "field",
           "huggingface_hub": "field"}
#: Packages of challenge entries that ``make`` installs without their dependencies (the Makefile's
#: ``CHALLENGE_PACKAGES``): asked for plainly, pip would pull torchvision and a CUDA build of torch for them.
NO_DEPS_PACKAGES = {"timm": "timm==1.0.31", "basicsr": "basicsr==1.4.2"}


def install_hint(module: str) -> str:
    """The command that installs ``module``: the project's extra, the no-dependencies install of a challenge entry's
    package, or the PyPI package."""
    extra = _EXTRAS.get(module)
    if module in NO_DEPS_PACKAGES:
        return (f"pip install --no-deps --no-build-isolation {NO_DEPS_PACKAGES[module]}, as make does; a plain pip "
                f"install pulls torchvision and a CUDA build of torch")
    return f"pip install -e .[{extra}]" if extra else f"pip install {module.replace('_', '-')}"


def is_installed(module: str) -> bool:
    """True when ``module`` can be found (it is not imported); a module set to None in ``sys.modules`` (blocked) is not."""
    if module in sys.modules:
        return sys.modules[module] is not None
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def require_installed(module: str, what: str) -> None:
    """The one-line UserError of :func:`require_module` when ``module`` cannot be found, without importing it (some
    packages take a second or more to import: ``onnx`` loads ``ml_dtypes``)."""
    if not is_installed(module):
        raise UserError(f"{what}: the Python package '{module}' is not installed ({install_hint(module)})")


def require_module(module: str, what: str) -> Any:
    """Import ``module`` or raise a one-line UserError: ``<what>: the Python package ... (<install hint>)``."""
    hint = install_hint(module)
    try:
        return importlib.import_module(module)
    except ImportError:
        raise UserError(f"{what}: the Python package '{module}' is not installed ({hint})") from None
    except (OSError, RuntimeError) as exc:  # installed, but its native libraries do not load
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(f"{what}: the Python package '{module}' is installed but does not load ({first}); "
                        f"reinstall it ({hint})") from None
