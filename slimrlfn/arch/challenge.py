"""Entries of an NTIRE Efficient SR challenge repository, loaded through the repository's own code.

The organisers publish, each year, a repository with ``test_demo.py`` (its ``select_model(args,
device)`` registry keyed by ``--model_id``), ``models/teamXX_*.py`` and ``model_zoo/``. A
:class:`ChallengeRepo` reads that folder where the user keeps it (nothing of it is copied) and:

- lists the ``model_id`` values that ``select_model`` handles, negative ones and every style of test included
  (read from its source, not assumed: :mod:`slimrlfn.arch.registry_source`);
- checks what an entry needs before running it: the ``models/...`` file it imports and the
  ``model_zoo/...`` checkpoint it names, where the source names them literally, and a branch that makes no model;
- loads an entry by calling ``select_model`` itself, with the repository folder as working directory
  and on ``sys.path``, and three shims of the environment: ``torch.load`` maps to the chosen device
  and always loads ``weights_only=True`` (a checkpoint that needs more is refused, never unpickled), and
  a ``load_state_dict(..., strict=False)`` is recorded with its missing and unexpected keys;
  on a CPU, ``.cuda()`` calls (some entries fuse their branches on CUDA in their constructor) move to
  the CPU instead; a program the entry's code would run (2026's entry 22 builds its CUDA operator with
  ``python setup.py build_ext --inplace`` inside the repository) is refused, so the repository is never written to; and when torchvision cannot be imported (the CPU build of torch 2.13 has no matching
  torchvision: its C extension needs ``libtorch_cuda``), imports of ``torchvision.*`` get a stand-in
  whose classes and functions raise when used (the 2024 repository imports ``make_grid`` in its utils
  and ``ops`` in one entry, and uses neither in a forward pass);
- says in one line why an entry cannot load: a missing file, a missing package (with the install
  command; CUDA-only packages say so), a checkpoint that needs a pickle load, an error of the entry;
- records what the entry's code did while it loaded (:func:`slimrlfn.arch.loadwork.watch_loading`): its forward
  passes (a hidden warm-up before the first timed image) and the global torch settings it changed.

An entry that ``test_demo.py``'s ``run`` forwards through its own function (``if args.model_id == 34:
forward_team34(...)``) is wrapped in :class:`RepositoryForward`, so that it is evaluated, timed and exported
as the challenge ran it.

``select_model`` returns ``(model, name, data_range, tile)``; the name (e.g. ``38_SPAN``) is the
entry's results key, ``data_range`` its input / output range (1.0 or 255.0), ``tile`` its tile size.
"""
from __future__ import annotations

import ast
import contextlib
import importlib.abc
import importlib.machinery
import importlib.util
import io
import os
import subprocess
import sys
import types
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import torch
import torch.nn as nn

from slimrlfn.arch.contract import check_data_range
from slimrlfn.arch.loadwork import watch_loading
from slimrlfn.arch.registry_source import precheck, read_branches, read_forwards
from slimrlfn.arch.weights import load_weights_only
from slimrlfn.core.errors import UserError
from slimrlfn.core.fence import fence
from slimrlfn.core.files import PathLike
from slimrlfn.core.optional import install_hint

__all__ = ["CUDA_ONLY_PACKAGES", "ChallengeEntry", "ChallengeRepo", "RepositoryForward", "failure_reason"]

#: Packages that build CUDA kernels and have no CPU path: an entry that needs one cannot run on a CPU.
CUDA_ONLY_PACKAGES = ("mamba_ssm", "causal_conv1d", "selective_scan", "flash_attn", "triton")
_REPO_PACKAGES = ("models", "utils")  # the top-level packages a challenge repository brings


@dataclass
class ChallengeEntry:
    """One loaded entry: the model (eval mode, no gradients, on the device) and what ``select_model`` said."""

    model_id: int
    name: str
    data_range: float
    tile: Optional[int]
    model: nn.Module
    repo: str
    non_strict_load: Optional[Dict[str, List[str]]] = None  # missing / unexpected keys of a strict=False load
    printed: str = ""  # what the entry's code printed while it loaded
    load_forwards: List[Dict[str, Any]] = field(default_factory=list)  # its forward passes while it loaded
    torch_state: Dict[str, List[Any]] = field(default_factory=dict)  # global settings it changed (put back)


class _Missing:
    """A stand-in class or function of a package that cannot be imported: using it raises (its class attributes are
    stand-ins too, :class:`_MissingMeta`)."""

    _what = "torchvision"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError(f"{self._what} is not importable here (a stand-in was used); install a torchvision that "
                           f"matches torch {torch.__version__}")


def _stand_in(owner: Any, owner_name: str, name: str) -> Any:
    """The stand-in class ``owner_name.name``, kept on ``owner`` (a dunder is no stand-in: AttributeError)."""
    if name.startswith("__"):
        raise AttributeError(name)
    stand_in = _MissingMeta(name, (_Missing,), {"_what": f"{owner_name}.{name}"})
    setattr(owner, name, stand_in)
    return stand_in


class _MissingMeta(type):
    """The class of the stand-in classes: an attribute of one is a stand-in too (timm reads
    ``InterpolationMode.NEAREST`` when it is imported), created on first use."""

    def __getattr__(cls, name: str) -> Any:
        return _stand_in(cls, cls._what, name)


class _StandInModule(types.ModuleType):
    """A module whose every attribute is a :class:`_Missing` subclass named after it."""

    def __getattr__(self, name: str) -> Any:
        return _stand_in(self, self.__name__, name)


class _StandInFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves ``torchvision`` and all its submodules as :class:`_StandInModule` s."""

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Optional[importlib.machinery.ModuleSpec]:
        if fullname == "torchvision" or fullname.startswith("torchvision."):
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        return None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        module = _StandInModule(spec.name)
        module.__path__ = []
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        return None


def _torchvision_usable() -> bool:
    try:
        import torchvision  # noqa: F401 (an optional package, imported only to see whether it works)
    except Exception:  # ImportError, or RuntimeError from a build that does not match torch
        for name in [n for n in sys.modules if n == "torchvision" or n.startswith("torchvision.")]:
            del sys.modules[name]
        return False
    return True


def failure_reason(exc: BaseException, repo: Optional[Path] = None) -> str:
    """One line saying why an entry could not load (see the module docstring)."""
    if isinstance(exc, UserError):
        return str(exc)
    if isinstance(exc, ModuleNotFoundError) and exc.name:
        top = exc.name.split(".")[0]
        if top in _REPO_PACKAGES and repo is not None:
            return f"missing file {exc.name.replace('.', '/')}.py in {repo}"
        if top in CUDA_ONLY_PACKAGES:
            return (f"needs the Python package '{top}', which runs on CUDA only ({install_hint(top)} on a machine "
                    f"with a CUDA device)")
        return f"missing package '{top}' ({install_hint(top)})"
    if isinstance(exc, FileNotFoundError):
        return f"missing file {exc.filename or exc}"
    if isinstance(exc, UnboundLocalError) and "model" in str(exc):
        return f"no model in select_model (its branch makes none: {str(exc).strip().splitlines()[0]})"
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if "CUDA" in text or "cuda" in text:
        return f"needs a CUDA device ({type(exc).__name__}: {text})"
    return f"{type(exc).__name__}: {text}"


class RepositoryForward(nn.Module):
    """An entry whose ``test_demo.py`` runs it through its own function (e.g. ``forward_team34``: pad to the
    window size, forward, crop): ``forward(x)`` is ``function(x, network)``, the network is ``.network``."""

    def __init__(self, network: nn.Module, function: Any, name: str) -> None:
        super().__init__()
        self.network = network
        self._function = function
        self.function_name = name

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._function(x, self.network)


class ChallengeRepo:
    """An NTIRE ESR challenge repository at ``folder`` (``test_demo.py``, ``models/``, ``model_zoo/``)."""

    def __init__(self, folder: PathLike, what: str = "--challenge_repo") -> None:
        self.folder = Path(folder).resolve()
        self.test_demo = self.folder / "test_demo.py"
        if not self.folder.is_dir():
            raise UserError(f"{what} {folder}: no such folder")
        if not self.test_demo.is_file():
            raise UserError(f"{what} {folder}: no test_demo.py in it; expected a clone of an NTIRE Efficient SR "
                            f"challenge repository (test_demo.py, models/, model_zoo/)")
        try:
            tree = ast.parse(self.test_demo.read_text(), filename=str(self.test_demo))
        except SyntaxError as exc:
            raise UserError(f"{self.test_demo}: not valid Python ({exc.msg} at line {exc.lineno})") from None
        select = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "select_model"]
        if not select:
            raise UserError(f"{self.test_demo}: has no select_model(args, device); expected the challenge's registry")
        self._select = select[0]
        self._branches = read_branches(self._select)
        self.reads_use_prune = any(isinstance(n, ast.Attribute) and n.attr == "use_prune" for n in ast.walk(self._select))
        self.forwards = read_forwards(tree)

    def ids(self) -> List[int]:
        """Every ``model_id`` that ``select_model`` has a branch for, ascending."""
        return sorted(self._branches)

    def precheck(self, model_id: int) -> Optional[str]:
        """Why entry ``model_id`` cannot load, read from its branch without running it; None when nothing is seen
        (:func:`slimrlfn.arch.registry_source.precheck`)."""
        return precheck(self.folder, self._branches[model_id])

    def check_id(self, model_id: int, what: str = "--model_id") -> None:
        """UserError (one line) unless ``select_model`` has a branch for ``model_id``."""
        if model_id not in self._branches:
            raise UserError(f"{what} {model_id}: {self.test_demo} has no entry {model_id}; it has "
                            f"{', '.join(map(str, self.ids()))}")

    # -- loading -------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _environment(self, device: torch.device) -> Iterator[None]:
        """The repository on sys.path and as working directory, and the shims of the module docstring."""
        inside = os.path.join(str(self.folder), "")  # with the separator: a sibling folder "esr2" is not in "esr"
        for name in [n for n in sys.modules if n.split(".")[0] in _REPO_PACKAGES]:
            module_file = getattr(sys.modules[name], "__file__", None) or ""
            if not module_file.startswith(inside):  # another repository's (or package's) models/utils
                del sys.modules[name]
        for package in _REPO_PACKAGES:  # a folder without __init__.py is a namespace package, which a regular package
            where = self.folder / package  # of that name anywhere on sys.path (pip's "utils") would shadow: bound here
            if where.is_dir() and not (where / "__init__.py").is_file():
                spec = importlib.machinery.ModuleSpec(package, None, is_package=True)
                spec.submodule_search_locations = [str(where)]
                sys.modules[package] = importlib.util.module_from_spec(spec)
        finder = None
        if not _torchvision_usable():
            finder = _StandInFinder()
            sys.meta_path.insert(0, finder)
        original_load = torch.load
        original_cuda = (torch.Tensor.cuda, nn.Module.cuda)

        def weights_only_load(f: Any, *args: Any, **kwargs: Any) -> Any:
            if kwargs.get("weights_only") is False:
                raise UserError("it loads a checkpoint with weights_only=False; refused (checkpoints load with "
                                "weights_only=True only)")
            if isinstance(f, (str, os.PathLike)) and not os.path.isfile(f):
                raise FileNotFoundError(2, "No such file or directory", str(f))
            return load_weights_only(f, "checkpoint", kwargs.get("map_location", args[0] if args else device))

        original_load_state_dict = nn.Module.load_state_dict
        self._non_strict = None
        original_programs = (subprocess.Popen, os.system)

        def refuse_program(*args: Any, **kwargs: Any) -> Any:
            command = args[0] if args else kwargs.get("args", "")
            text = " ".join(map(str, command)) if isinstance(command, (list, tuple)) else str(command)
            raise UserError(f"it runs a program while it loads ({text[:120]}); refused: an entry's code runs no "
                            f"program here (a custom operator to build? build it where the repository is yours)")

        def reporting_load_state_dict(module: nn.Module, state_dict: Any, strict: bool = True, *args: Any, **kwargs: Any):
            result = original_load_state_dict(module, state_dict, strict, *args, **kwargs)
            if not strict:
                self._non_strict = {"missing": list(result.missing_keys), "unexpected": list(result.unexpected_keys)}
            return result

        cwd = os.getcwd()
        bytecode = sys.dont_write_bytecode
        sys.dont_write_bytecode = True  # the repository stays as the user keeps it: no __pycache__ written into it
        sys.path.insert(0, str(self.folder))
        torch.load = weights_only_load
        nn.Module.load_state_dict = reporting_load_state_dict
        subprocess.Popen, os.system = refuse_program, refuse_program
        if device.type == "cpu":
            torch.Tensor.cuda = lambda tensor, *args, **kwargs: tensor.to(device)
            nn.Module.cuda = lambda module, *args, **kwargs: module.to(device)
        try:
            os.chdir(self.folder)
            yield
        finally:
            os.chdir(cwd)
            sys.dont_write_bytecode = bytecode
            torch.load = original_load
            nn.Module.load_state_dict = original_load_state_dict
            subprocess.Popen, os.system = original_programs
            torch.Tensor.cuda, nn.Module.cuda = original_cuda
            if str(self.folder) in sys.path:
                sys.path.remove(str(self.folder))
            if finder is not None:  # the stand-ins go with it: a later import must not find them
                sys.meta_path.remove(finder)
                for name in [n for n, m in sys.modules.items() if isinstance(m, _StandInModule)]:
                    del sys.modules[name]

    def _test_demo_module(self) -> types.ModuleType:
        name = "_slimrlfn_challenge_test_demo"
        spec = importlib.util.spec_from_file_location(name, self.test_demo)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    def import_file(self, relative: str) -> types.ModuleType:
        """A module of the repository (e.g. ``utils/utils_image.py``) run in its environment (above); for
        comparing with the repository's own pipeline. UserError when the file is missing."""
        path = self.folder / relative
        if not path.is_file():
            raise UserError(f"{self.folder}: no {relative} in it")
        name = "_slimrlfn_challenge_" + "_".join(Path(relative).with_suffix("").parts)
        with self._environment(torch.device("cpu")):
            spec = importlib.util.spec_from_file_location(name, path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
        return module

    def load(self, model_id: int, device: torch.device = torch.device("cpu"), use_prune: bool = False) -> ChallengeEntry:
        """Entry ``model_id`` through ``select_model``; UserError (one line, :func:`failure_reason`) when it cannot load."""
        self.check_id(model_id)
        if use_prune and not self.reads_use_prune:
            raise UserError(f"--use_prune: {self.test_demo}'s select_model does not read args.use_prune; "
                            f"this repository has no pruned variant to select")
        reason = self.precheck(model_id)
        if reason is not None:
            raise UserError(f"entry {model_id}: {reason}")
        args = types.SimpleNamespace(model_id=model_id, use_prune=use_prune, data_dir=str(self.folder),
                                     save_dir=str(self.folder), include_test=False, ssim=False)
        printed = io.StringIO()  # what the entry's code prints while it loads (kept, not shown)
        with fence(f"entry {model_id}", lambda exc: failure_reason(exc, self.folder)), \
                self._environment(torch.device(device)), contextlib.redirect_stdout(printed), \
                contextlib.redirect_stderr(printed), warnings.catch_warnings(), watch_loading() as work:
            warnings.simplefilter("ignore")  # the entry's deprecation notices are its own, not the user's
            module = self._test_demo_module()
            model, name, data_range, tile = module.select_model(args, torch.device(device))
            name, data_range, tile = self._checked_facts(model_id, model, name, data_range, tile)
        model = model.to(device).eval()
        for param in model.parameters():
            param.requires_grad_(False)
        if model_id in self.forwards and hasattr(module, self.forwards[model_id]):
            model = RepositoryForward(model, getattr(module, self.forwards[model_id]), self.forwards[model_id])
        return ChallengeEntry(model_id, name, data_range, tile, model,
                              str(self.folder), self._non_strict, printed.getvalue(), work["load_forwards"],
                              work["torch_state"])

    @staticmethod
    def _checked_facts(model_id: int, model: Any, name: Any, data_range: Any, tile: Any) -> Tuple[str, float, Optional[int]]:
        """What ``select_model`` returned, checked: a module, a name, a range of 1 or 255, a tile of None or a positive
        integer; UserError (one line) otherwise."""
        if not isinstance(model, nn.Module):
            raise UserError(f"select_model returned {type(model).__name__} as the model, expected an nn.Module")
        if not isinstance(name, str) or not name.strip():
            raise UserError(f"select_model returned the name {name!r}, expected a text")
        range_value = check_data_range(data_range, "select_model's data_range")
        if tile is not None and (isinstance(tile, bool) or not isinstance(tile, int) or tile < 1):
            raise UserError(f"select_model returned the tile {tile!r}, expected None or a positive integer")
        return name, range_value, tile

    def entries(self, device: torch.device = torch.device("cpu")) -> Iterator[Tuple[int, Optional[ChallengeEntry], Optional[str]]]:
        """``(model_id, entry or None, reason or None)`` for every id, in order."""
        for model_id in self.ids():
            try:
                yield model_id, self.load(model_id, device), None
            except UserError as exc:
                yield model_id, None, str(exc).removeprefix(f"entry {model_id}: ")
