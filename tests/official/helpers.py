"""Small organisers' files written by the tests: a results.json, a log in test_demo.py's format."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, List, Optional

__all__ = ["entry", "write_log", "write_results"]


def entry(valid: List[float], test: Optional[List[float]], flops: float, params: float, psnr: float = 27.0,
          test_psnr: Optional[float] = None) -> Dict:
    """One results.json entry as test_demo.py writes it (means computed from the lists)."""
    out = {"valid_runtime": valid, "valid_psnr": [psnr] * len(valid), "valid_memory": 100.0,
           "valid_ave_runtime": sum(valid) / len(valid), "valid_ave_psnr": psnr, "flops": flops,
           "num_parameters": params}
    if test is not None:
        tp = psnr if test_psnr is None else test_psnr
        out.update({"test_runtime": test, "test_psnr": [tp] * len(test), "test_memory": 120.0,
                    "test_ave_runtime": sum(test) / len(test), "test_ave_psnr": tp})
    return out


def write_results(folder: Path, entries: Optional[Dict[str, Dict]] = None) -> Path:
    """``folder/results.json``: by default a baseline, a three-digit id and a padded name."""
    entries = entries or {"00_Base": entry([100.0, 10.0, 10.0, 10.0], [10.0, 10.0], 10.0, 0.2),
                          "009_Three": entry([50.0, 8.0, 8.0, 8.0], [8.0, 8.0], 8.0, 0.1),
                          "         11_Padded": entry([9.0, 9.0, 9.0], [9.0], 5.0, 0.05)}
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "results.json"
    path.write_text(json.dumps(entries))
    return path


def _run(name: str, start: str, valid: float, test: Optional[float], images: int, unit: str = "milliseconds") -> str:
    lines = [f"{start}.100 : {name}"]
    for split, ave in (("valid", valid), ("test", test)):
        if ave is None:
            continue
        lines += [f"{start}.2{i:02d} : {i + 1:07d}.png - PSNR: 25.{i:02d} dB" for i in range(images)]
        lines += [f"{start}.300 :       Max Memory : 467.698 [M]",
                  f"{start}.300 : ------> Average runtime of ({split}) is : {ave:.6f} {unit}",
                  f"{start}.300 : ------> Average PSNR of ({split}) is : 26.955139 dB"]
    lines += [f"{start}.400 :     #Activations : 80.0452 [M]", f"{start}.400 :          #Conv2d : 39",
              f"{start}.400 :            FLOPs : 19.6749 [G]", f"{start}.400 :          #Params : 0.3172 [M]"]
    return "\n".join(lines) + "\n"


def write_log(path: Path, runs: List[tuple], unit: str = "milliseconds") -> Path:
    """A log of ``runs`` = [(name, valid ms, test ms or None, images per split)] in test_demo.py's logger format."""
    text = "".join(_run(name, f"25-02-08 17:{i:02d}:00", valid, test, images, unit)
                   for i, (name, valid, test, images) in enumerate(runs))
    path.write_text(text)
    return path
