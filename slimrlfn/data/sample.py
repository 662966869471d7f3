"""The embedded sample data and real photos for checks: no download needed.

- :func:`make_sample`: the workbook's default data set, scikit-image's bundled colour photos
  (valid: 4, test: 2) written in the NTIRE layout (mod-cropped HR + MATLAB-bicubic x4 LR).
- :func:`example_images`: real LR images (+HR) for exactness checks of exported or compiled paths,
  from an NTIRE-layout folder or two scikit-image photos; :func:`real_input`: one real photo as a
  model input of a given LR size.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

import numpy as np
import torch

from slimrlfn.core.files import PathLike
from slimrlfn.data.bicubic import imresize_matlab
from slimrlfn.data.images import modcrop, read_image
from slimrlfn.data.pairs import ImagePair, find_pairs, write_pairs
from slimrlfn.data.validation import check_pairs
from slimrlfn.arch.contract import uint8_to_tensor

__all__ = ["SAMPLE_SPLITS", "example_images", "make_sample", "real_input", "sample_photos"]


#: The embedded default data: scikit-image's bundled colour photos (no download needed).
SAMPLE_SPLITS: Dict[str, Sequence[str]] = {
    "valid": ("astronaut", "chelsea", "coffee", "rocket"),
    "test": ("immunohistochemistry", "motorcycle"),
}


def _sample_image(name: str) -> np.ndarray:
    from skimage import data as skdata  # scikit-image takes a while to import: only when sample data are made

    if name == "motorcycle":
        return np.ascontiguousarray(skdata.stereo_motorcycle()[0])
    img = getattr(skdata, name)()
    if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
        raise RuntimeError(f"skimage.data.{name} is not an RGB uint8 image")
    return np.ascontiguousarray(img)


def sample_photos() -> List[tuple]:
    """``[(name, RGB uint8 (H, W, 3) HR)]`` of every photo of the embedded sample (valid, then test)."""
    return [(name, _sample_image(name)) for names in SAMPLE_SPLITS.values() for name in names]


def make_sample(out_dir: PathLike, scale: int = 4, progress: bool = True) -> Dict[str, List[ImagePair]]:
    """Write the embedded default set (valid: 4 photos, test: 2) in the NTIRE layout under ``out_dir``."""
    return {
        split: write_pairs(((n, _sample_image(n)) for n in names), out_dir, split, scale, progress)
        for split, names in SAMPLE_SPLITS.items()
    }


def example_images(data_dir: Optional[PathLike] = None, split: str = "valid", limit: int = 5,
                   flag: str = "--check_data") -> List[Dict[str, Any]]:
    """Real LR images (+HR when known) for exactness checks: ``[{name, lr, hr}]`` (+ ``lr_path`` from data), uint8
    RGB (H, W, 3).

    From ``data_dir`` (NTIRE layout) when given, else scikit-image's astronaut and coffee photos,
    bicubic-downscaled x4 with the MATLAB kernel (their HR kept for PSNR).
    """
    if data_dir is not None:
        pairs = find_pairs(data_dir, split, flag=flag)[:limit]
        check_pairs(pairs, 4, flag)  # unfit data is the data's fault, said before anything is exported
        return [{"name": p.name, "lr": read_image(p.lr_path), "hr": read_image(p.hr_path), "lr_path": str(p.lr_path)}
                for p in pairs]
    from skimage import data as skdata

    images = []
    for name in ("astronaut", "coffee")[:limit]:
        hr = modcrop(np.ascontiguousarray(getattr(skdata, name)()[:256, :256, :3]), 4)
        images.append({"name": name, "lr": imresize_matlab(hr, 0.25), "hr": hr})
    return images


def real_input(height: int, width: int, device: torch.device, data_range: float) -> torch.Tensor:
    """A real photo (scikit-image's astronaut) as a (1, 3, height, width) float32 LR input in [0, data_range]."""
    return uint8_to_tensor(imresize_matlab(example_images(limit=1)[0]["hr"], output_shape=(height, width)), device,
                           data_range)
