"""Small data the tests make themselves."""
from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["assert_figure_files", "fake_timing_study", "textured_image"]


def textured_image(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A smooth-plus-noise RGB uint8 test image (H, W, 3)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width]
    base = 128 + 60 * np.sin(xx / 7.0)[..., None] * np.cos(yy / 5.0)[..., None] * np.array([1.0, 0.6, -0.8])
    return np.clip(base + rng.normal(0, 12, (height, width, 3)), 0, 255).astype(np.uint8)


def assert_figure_files(paths, out_dir: Path, stem: str) -> None:
    """PNG and PDF with the same stem exist, the PNG is not blank, the PDF is a PDF; no temp files left."""
    import matplotlib.image as mpimg  # after matplotlib.use in the test that needs it

    assert [p.name for p in paths] == [f"{stem}.png", f"{stem}.pdf"]
    png, pdf = paths
    pixels = mpimg.imread(png)
    assert pixels.ndim == 3 and pixels.shape[0] > 50 and pixels.shape[1] > 50
    assert float(pixels[..., :3].std()) > 0.01
    assert pdf.read_bytes()[:5] == b"%PDF-"
    assert pdf.stat().st_size > 1000
    assert not [p for p in out_dir.iterdir() if p.name.endswith(".tmp")]


def fake_timing_study(scenario: str, values: dict) -> dict:
    """A timing-study document (as slimrlfn.timing.study.run_study writes) with the given per-run means [ms]."""
    records = []
    for label, runs in values.items():
        for run, mean in enumerate(runs, 1):
            samples = [{"name": "x", "shape": [20, 20], "warmup": False, "ms": 2 * mean, "wall_ms": 2 * mean},
                       {"name": "y", "shape": [20, 20], "warmup": False, "ms": 0.0, "wall_ms": 0.0}]
            records.append({"model": label.lower(), "label": label, "run": run, "pid": 1 if scenario == "consecutive" else run,
                            "status": "ok", "error": None, "samples": samples, "device_info": {"device_name": "Test CPU",
                            "device_type": "cpu", "threads": 2, "torch": "x"},
                            "groups": {"images": {"n": 2, "mean_ms": mean, "median_ms": mean, "first_ms": 2 * mean}}})
    return {"scenario": scenario, "protocol": "ntire", "runs": len(next(iter(values.values()))),
            "models": [{"model": k.lower(), "label": k} for k in values], "records": records}
