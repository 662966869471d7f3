"""The contestants of the backend comparison: one inference path, or the matmul peak, each timed on demand.

:func:`slimrlfn.deploy.bench.compare_backends` times every path in interleaved rounds. Each path
is a *contestant* with the same four verbs, so the comparison does not care where it runs:

* ``build(model, height, width)`` -> ``{"resolved", "setup_s", "first_ms"}``: load the model (its reference, JSON form),
  build the path on a real photo of that LR size (:func:`slimrlfn.data.sample.real_input`),
  time its first call;
* ``time()`` -> milliseconds of one call (device synchronised);
* ``difference()`` -> the largest |path - eager fp32| on the [0, 255] output of that photo;
* ``close()``.

The matmul peak is a contestant too (``build`` picks the fastest square fp32 product,
``time`` runs one), so the share of the peak is a ratio of medians taken in the same rounds.

:class:`InProcess` runs the path in this process. :class:`WorkerProcess` runs it in a process of
its own (``spawn``), as a user runs one path per process: the thread pools, allocators and
signal state of ONNX Runtime, OpenVINO, inductor and eager PyTorch then cannot slow each other
down. Measured on this project's 2-core CPU: with all paths in one process, OpenVINO ran
SlimRLFN-prune at 256x256 in 180 ms after eager and ONNX Runtime had run there, 145-155 ms in a
process of its own.
"""
from __future__ import annotations

import multiprocessing
import os
from typing import Any, Dict, Optional

import torch

from slimrlfn.arch.ref import load_model
from slimrlfn.core.errors import UserError
from slimrlfn.core.orphans import watch_parent
from slimrlfn.data.sample import real_input
from slimrlfn.deploy.backends import build_backend, difference_to_eager
from slimrlfn.metrics.latency import matmul_peak_gflops, timed_ms

__all__ = ["PEAK", "InProcess", "WorkerProcess", "make_contestant"]

PEAK = "matmul_peak"  # the contestant name of the fp32 matmul peak


class InProcess:
    """A path (or the matmul peak, ``name == PEAK``) run in this process."""

    def __init__(self, name: str, device: str) -> None:
        self.name, self.device = name, torch.device(device)
        self._state: Dict[str, Any] = {}
        self._peak_n: Optional[int] = None

    def build(self, model: Dict[str, Any], height: int, width: int) -> Dict[str, Any]:
        """Build the path for ``model`` (the JSON form of a :class:`slimrlfn.arch.ref.ModelRef`) at an LR size."""
        if self.name == PEAK:
            if self._peak_n is None:
                per_size = matmul_peak_gflops(self.device)["per_size"]
                self._peak_n = max(per_size, key=per_size.get)
            n = self._peak_n
            a, b = torch.randn(n, n, device=self.device), torch.randn(n, n, device=self.device)
            self._state = {"run": lambda x: a @ b, "x": None, "n": n}
            return {"resolved": PEAK, "setup_s": 0.0, "first_ms": timed_ms(self._state["run"], None, self.device), "n": n}
        spec = load_model(model)
        x = real_input(height, width, self.device, spec.data_range)
        net = spec.model.to(self.device)
        backend = build_backend(self.name, net, self.device, example=x, check=False, data_range=spec.data_range)
        self._state = {"run": backend, "x": x, "model": net, "data_range": spec.data_range}
        return {"resolved": backend.name, "setup_s": backend.setup_s,
                "first_ms": timed_ms(backend, x, self.device)}

    def time(self) -> float:
        return timed_ms(self._state["run"], self._state["x"], self.device)

    def difference(self) -> Optional[float]:
        if self.name == PEAK:
            return None
        return difference_to_eager(self._state["run"], self._state["model"], self._state["x"], self._state["data_range"])

    def close(self) -> None:
        self._state = {}


def _serve(connection: Any, name: str, device: str, threads: int, parent_pid: int) -> None:
    """The worker's loop: (verb, args) in, ("ok", value) or ("error", one line) out, until "close" (or until its
    parent ``parent_pid`` dies)."""
    watch_parent(parent_pid)
    torch.set_num_threads(threads)
    contestant = InProcess(name, device)
    while True:
        verb, args = connection.recv()
        if verb == "close":
            connection.send(("ok", None))
            return
        try:
            connection.send(("ok", getattr(contestant, verb)(*args)))
        except UserError as exc:
            connection.send(("error", str(exc)))
        except Exception as exc:  # reported in the parent with the path's name
            connection.send(("error", f"{type(exc).__name__}: {exc}"))


class WorkerProcess:
    """The same verbs as :class:`InProcess`, run in a process of its own (started with ``spawn``)."""

    def __init__(self, name: str, device: str) -> None:
        self.name = name
        context = multiprocessing.get_context("spawn")
        self._connection, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child, name, device, torch.get_num_threads(), os.getpid()),
                                        daemon=True, name=f"slimrlfn-{name}")
        self._process.start()
        child.close()

    def _call(self, verb: str, *args: Any) -> Any:
        self._connection.send((verb, args))
        try:
            status, value = self._connection.recv()
        except EOFError:
            raise UserError(f"backend {self.name}: its worker process died (exit code {self._process.exitcode})") from None
        if status == "error":
            raise UserError(f"backend {self.name}: {value}")
        return value

    def build(self, model: Dict[str, Any], height: int, width: int) -> Dict[str, Any]:
        return self._call("build", model, height, width)

    def time(self) -> float:
        return self._call("time")

    def difference(self) -> Optional[float]:
        return self._call("difference")

    def close(self) -> None:
        if self._process.is_alive():
            try:
                self._call("close")
            except (UserError, OSError, BrokenPipeError):
                pass
        self._process.join(timeout=10)
        if self._process.is_alive():
            self._process.kill()
        self._connection.close()


def make_contestant(name: str, device: str, isolate: bool) -> Any:
    """Path ``name`` (or :data:`PEAK`) as a contestant: in a worker process when ``isolate``, else here."""
    return WorkerProcess(name, device) if isolate else InProcess(name, device)
