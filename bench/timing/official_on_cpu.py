"""Run an NTIRE ESR repository's own ``test_demo.py`` on a CPU, unchanged: its CUDA calls are shimmed at run time.

``test_demo.py`` calls ``torch.cuda.current_device()``, ``empty_cache()``, ``Event(enable_timing=True)``,
``synchronize()`` and ``max_memory_allocated()`` unconditionally, so on a machine without CUDA it stops at
its first line of ``main``. This launcher replaces those five (and nothing else) before running the
script from where the user keeps it (nothing is copied):

- ``Event.record()`` reads ``time.perf_counter()`` and ``elapsed_time`` gives milliseconds, so the
  runtimes it logs are CPU wall times of each forward, as the challenge timed them (no warm-up);
- ``synchronize``, ``empty_cache`` do nothing, ``current_device`` is 0, ``max_memory_allocated`` is 0;
- when torchvision cannot be imported (the CPU build of torch 2.13 has no matching one), ``torchvision.utils``
  is a stand-in whose ``make_grid`` raises: the 2024 ``utils_image`` imports it and never calls it.

The script runs with the checkout on ``sys.path`` and the working directory ``--work_dir`` (where it
writes ``results.json``, ``results.txt`` and its log), which gets a ``model_zoo`` link to the checkout's,
since the script names its checkpoints relative to the working directory. Its own ``--data_dir`` and
``--save_dir`` are made absolute first, so relative paths mean what they meant where the launcher was started
(without that, the script found no images and stopped on a division by zero:
:func:`slimrlfn.core.script_args.absolute_path_options`).

    python bench/timing/official_on_cpu.py --repo ../shared/ntire2024_esr --work_dir /tmp/w -- \
        --data_dir DATA --save_dir /tmp/w/results --model_id 21
"""
from __future__ import annotations

import argparse
import os
import runpy
import sys
import time
import types

from slimrlfn.core.script_args import absolute_path_options


def _install_cuda_shims() -> None:
    import torch

    class CpuEvent:
        """``torch.cuda.Event(enable_timing=True)`` on a CPU: ``record`` reads the wall clock."""

        def __init__(self, enable_timing: bool = False, **_: object) -> None:
            self.seconds = None

        def record(self, stream: object = None) -> None:
            self.seconds = time.perf_counter()

        def synchronize(self) -> None:
            pass

        def elapsed_time(self, end: "CpuEvent") -> float:
            return (end.seconds - self.seconds) * 1000.0  # milliseconds, as CUDA events give them

    torch.cuda.Event = CpuEvent
    torch.cuda.synchronize = lambda device=None: None
    torch.cuda.empty_cache = lambda: None
    torch.cuda.current_device = lambda: 0
    torch.cuda.max_memory_allocated = lambda device=None: 0.0


def _install_torchvision_stand_in() -> None:
    try:
        import torchvision.utils  # noqa: F401
        return
    except Exception:
        pass

    def make_grid(*args: object, **kwargs: object) -> None:
        raise RuntimeError("torchvision is not importable here (official_on_cpu.py stand-in)")

    package = types.ModuleType("torchvision")
    utils = types.ModuleType("torchvision.utils")
    utils.make_grid = make_grid
    package.utils = utils
    package.__path__ = []
    sys.modules["torchvision"], sys.modules["torchvision.utils"] = package, utils


def main(argv: list) -> None:
    if "--" in argv:
        split = argv.index("--")
        own, script_args = argv[:split], argv[split + 1:]
    else:
        own, script_args = argv, []
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", required=True, help="checkout of the challenge repository (holds test_demo.py)")
    parser.add_argument("--work_dir", required=True, help="working directory of the script (results.json goes here)")
    args = parser.parse_args(own)
    repo = os.path.abspath(args.repo)
    script = os.path.join(repo, "test_demo.py")
    if not os.path.isfile(script):
        parser.error(f"--repo {args.repo}: no test_demo.py there; expected a challenge repository checkout")
    os.makedirs(args.work_dir, exist_ok=True)
    zoo_link = os.path.join(args.work_dir, "model_zoo")
    if not os.path.lexists(zoo_link):
        os.symlink(os.path.join(repo, "model_zoo"), zoo_link)
    sys.dont_write_bytecode = True  # the checkout stays as the user keeps it: no __pycache__ written into it
    _install_cuda_shims()
    _install_torchvision_stand_in()
    script_args = absolute_path_options(script_args)  # before chdir: relative paths are the caller's
    os.chdir(args.work_dir)
    sys.path.insert(0, repo)
    sys.argv = [script] + script_args
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main(sys.argv[1:])
