"""Device choice, device description and peak memory.

``auto`` means CUDA when present, CPU otherwise. Every measurement of the workbook records
:func:`describe_device` next to its numbers.
"""
from __future__ import annotations

import platform
import resource
import sys
from typing import Any, Dict, Mapping, Optional, Union

import torch

from slimrlfn.core.errors import UserError

__all__ = ["describe_device", "device_text", "peak_memory_mib", "recorded_loads", "reset_peak_memory", "resolve_device",
           "synchronize"]


def resolve_device(name: Union[str, torch.device, None] = "auto") -> torch.device:
    """'auto' | 'cpu' | 'cuda' | 'cuda:N' -> torch.device; UserError when CUDA is asked for but absent."""
    if isinstance(name, torch.device):
        name = str(name)
    name = (name or "auto").strip().lower()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise UserError(f"--device {name}: CUDA is not available on this machine "
                            f"(torch {torch.__version__}); use --device cpu or auto")
        device = torch.device(name)
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise UserError(f"--device {name}: only {torch.cuda.device_count()} CUDA device(s) here")
        return device
    if name == "cpu":
        return torch.device("cpu")
    raise UserError(f"--device {name!r}: expected auto, cpu, cuda or cuda:N")


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def describe_device(device: torch.device) -> Dict[str, Any]:
    """Name, kind, torch / CUDA / cuDNN versions and CPU thread count of ``device``."""
    info: Dict[str, Any] = {
        "device": str(device),
        "device_type": device.type,
        "torch": torch.__version__,
        "python": sys.version.split()[0],
        "threads": torch.get_num_threads(),
        "cpu": _cpu_name(),
    }
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        info["device_name"] = torch.cuda.get_device_name(index)
        info["cuda"] = torch.version.cuda
        info["cudnn"] = torch.backends.cudnn.version()
        info["cudnn_benchmark"] = bool(torch.backends.cudnn.benchmark)
    else:
        info["device_name"] = info["cpu"]
    return info


def device_text(info: Optional[Mapping[str, Any]], measurement: bool = True) -> str:
    """'<name> (<device>, N threads, torch X)' from a :func:`describe_device` dict.

    ``measurement``: add ' - CPU, not a GPU measurement' on a CPU (every timing says where it was taken).
    """
    if not info:
        return "device not recorded"
    threads = info.get("threads", "?")
    text = (f"{info.get('device_name', '?')} ({info.get('device_type', info.get('device', '?'))}, {threads} "
            f"thread{'' if threads == 1 else 's'}, torch {info.get('torch', '?')})")
    return text + (" - CPU, not a GPU measurement" if measurement and info.get("device_type") == "cpu" else "")


def reset_peak_memory(device: torch.device) -> None:
    """Start a new peak-memory window on CUDA (CPU peak RSS cannot be reset; it is per process)."""
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)


def peak_memory_mib(device: torch.device) -> Dict[str, Any]:
    """Peak memory in MiB: CUDA max allocated (as NTIRE reports it) or the process's peak RSS on CPU."""
    if device.type == "cuda":
        return {"memory_mib": torch.cuda.max_memory_allocated(device) / 1024 ** 2,
                "memory_kind": "cuda_max_allocated"}
    rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return {"memory_mib": rss_kib / 1024, "memory_kind": "cpu_process_peak_rss"}


def synchronize(device: torch.device) -> None:
    """Wait for queued work on ``device`` (no-op on CPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def recorded_loads(value: Any) -> list:
    """Every ``load_avg_1min`` a result (JSON: dicts and lists, any depth) recorded: the machine's 1-minute load
    average that the timing and field workers write beside each run."""
    if isinstance(value, dict):
        found = [float(value["load_avg_1min"])] if isinstance(value.get("load_avg_1min"), (int, float)) else []
        return found + [x for k, v in value.items() if k != "load_avg_1min" for x in recorded_loads(v)]
    if isinstance(value, list):
        return [x for v in value for x in recorded_loads(v)]
    return []
