"""Evaluation as the NTIRE 2024 ESR ``test_demo.py`` does it, with the same flags and results files.

Per image: read LR and HR (RGB uint8), LR -> float tensor in [0, 255], one whole-image forward
(or tiles with ``--tile``) timed alone (CUDA events + synchronize on GPU, ``perf_counter`` on CPU;
no warm-up, ``cudnn.benchmark = False``, as the challenge did), SR clamped and rounded to uint8,
HR mod-cropped to the scale, PSNR (and SSIM) on RGB with crop border = scale; Y-channel variants
are recorded beside them. Results per model go to ``save_dir/results.json`` (the official keys:
``valid_runtime`` (ms), ``valid_psnr`` (dB), ``valid_ave_runtime``, ``valid_ave_psnr``,
``valid_memory`` (MiB), ``flops`` (G), ``num_parameters`` (M), ``activations`` (M), ``num_conv``;
``test_*`` with ``--include_test``) and ``save_dir/results.txt`` (the official table), both by
:mod:`slimrlfn.evaluate.results`.
SR images go to ``save_dir/<model name>/<split>/NAME.png``.

Nothing is half-written: SR images are staged and moved into place when a split is done, and
the results files are replaced atomically, under a lock (:func:`slimrlfn.evaluate.results.merge_entry`), so that evaluations
running at once into one ``save_dir`` lose no entry. A stage left by a killed run (its process gone) is removed
by the next run. An entry already in ``results.json`` is kept unless ``overwrite`` is given.
"""
from __future__ import annotations

import math
import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Dict, Optional, Sequence, Union

import numpy as np
import torch

from slimrlfn.arch.rlfn import MIN_INPUT_SIZE
from slimrlfn.arch.spec import ModelSpec
from slimrlfn.core.devices import describe_device, peak_memory_mib, reset_peak_memory, resolve_device
from slimrlfn.core.errors import UserError
from slimrlfn.core.files import PathLike
from slimrlfn.core.outputs import check_output_dir, no_empty_folders_on_failure
from slimrlfn.data.images import image_size, modcrop, read_image, write_image
from slimrlfn.data.pairs import ImagePair, find_pairs
from slimrlfn.data.validation import check_pair_sizes
from slimrlfn.arch.contract import tensor_to_uint8, uint8_to_tensor
from slimrlfn.core.progress import tqdm
from slimrlfn.deploy.backends import PSNR_GATED, build_backend, resolve_backend
from slimrlfn.deploy.forward import forward_image
from slimrlfn.evaluate.results import load_results, merge_entry
from slimrlfn.metrics.counts_cache import cached_profile
from slimrlfn.metrics.latency import make_timer
from slimrlfn.metrics.quality import psnr_rgb_and_y, ssim, ssim_y

__all__ = ["evaluate", "evaluate_split", "remove_stale_stages"]


#: Side (LR pixels) of the centre crop of the first LR image on which an exported or compiled path is checked.
CHECK_CROP = 128


def _centre_window(img: np.ndarray, side: int) -> tuple:
    """``(top, left)`` of the centre ``side`` x ``side`` window of an (H, W, C) image."""
    h, w = img.shape[:2]
    return max(0, (h - side) // 2), max(0, (w - side) // 2)


def _centre_crop(img: np.ndarray, side: int) -> np.ndarray:
    """The centre ``side`` x ``side`` window of an (H, W, C) image (each side kept whole where it is shorter)."""
    top, left = _centre_window(img, side)
    return np.ascontiguousarray(img[top:top + side, left:left + side])


#: How many pairs (centre crops) the PSNR gate of a lossy path is measured on.
GATE_PAIRS = 4


def _gate_pairs(pairs: Sequence[ImagePair], scale: int, side: int) -> list:
    """``[{lr, hr}]``: the centre ``side`` x ``side`` LR crop of each pair and the HR window it maps to."""
    out = []
    for pair in pairs:
        lr, hr = read_image(pair.lr_path), modcrop(read_image(pair.hr_path), scale)
        top, left = _centre_window(lr, side)
        lr_crop = _centre_crop(lr, side)
        hr_crop = hr[top * scale:(top + lr_crop.shape[0]) * scale, left * scale:(left + lr_crop.shape[1]) * scale]
        out.append({"lr": lr_crop, "hr": np.ascontiguousarray(hr_crop)})
    return out


def _checked_lr(path: Path, min_size: int = MIN_INPUT_SIZE) -> np.ndarray:
    lr_img = read_image(path)
    if min(lr_img.shape[:2]) < min_size:
        raise UserError(f"LR image {path}: {lr_img.shape[1]}x{lr_img.shape[0]} is smaller than "
                        f"the {min_size}x{min_size} the model takes")
    return lr_img


@torch.no_grad()
def evaluate_split(
    model: Callable[[torch.Tensor], torch.Tensor],
    pairs: Sequence[ImagePair],
    device: torch.device,
    mode: str = "valid",
    image_dir: Optional[PathLike] = None,
    tile: Optional[int] = None,
    with_ssim: bool = False,
    scale: int = 4,
    progress: bool = True,
    *,
    data_range: float,
    min_size: int = MIN_INPUT_SIZE,
    label: str = "",
) -> Dict[str, Any]:
    """Run one split; returns the official ``{mode}_*`` keys plus ``{mode}_names`` and Y-channel lists.

    ``model`` takes and gives values in [0, ``data_range``] (converted as ``test_demo.py`` does);
    ``min_size`` is the smallest LR side it takes (default: RLFN's 15); ``label`` names the model on the progress bar.

    Raises UserError naming the file for an LR smaller than the model takes, an output with NaN or inf
    values (the first image that gave them), or an HR whose size does not match the SR output.
    """
    results: Dict[str, Any] = {f"{mode}_names": [], f"{mode}_runtime": [], f"{mode}_psnr": [],
                               f"{mode}_psnr_y": []}
    if with_ssim:
        results[f"{mode}_ssim"] = []
        results[f"{mode}_ssim_y"] = []
    timer = make_timer(device)  # CUDA events on a GPU, perf_counter on a CPU; the device synchronised around it
    bar = tqdm(pairs, desc=f"eval {label + ' ' if label else ''}{mode}", unit="img", disable=not progress)
    # An SR image is encoded and written on a second thread while the HR is read and the PSNR computed, and always
    # finished before the next timed forward starts: nothing of the workbook's own runs inside a timed region.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="slimrlfn-write") as writer:
        pending = None
        for pair in bar:
            lr_img = _checked_lr(pair.lr_path, min_size)
            if tile is not None and tile < min_size:
                raise UserError(f"--tile {tile}: tiles must be at least {min_size} LR pixels")
            lr_tensor = uint8_to_tensor(lr_img, device, data_range)
            if pending is not None:
                pending.result()  # the previous image is written (or its error raised) before the clock starts
                pending = None
            sr_tensor, ms, _ = timer(forward_image, model, lr_tensor, tile, 32, scale)
            if not math.isfinite(float(sr_tensor.sum())):  # a NaN or inf anywhere makes the sum NaN or inf
                raise UserError(f"LR image {pair.lr_path}: the model's output holds NaN or inf values (are its "
                                f"weights finite?); expected finite values in [0, {data_range:g}]")
            sr = tensor_to_uint8(sr_tensor, data_range)
            if image_dir is not None:
                pending = writer.submit(write_image, Path(image_dir) / f"{pair.name}.png", sr)
            hr = modcrop(read_image(pair.hr_path), scale)
            if hr.shape != sr.shape:
                raise UserError(f"HR image {pair.hr_path}: {hr.shape[1]}x{hr.shape[0]} after modcrop, expected "
                                f"{sr.shape[1]}x{sr.shape[0]} ({scale}x its LR {pair.lr_path.name})")
            results[f"{mode}_names"].append(pair.name)
            results[f"{mode}_runtime"].append(ms)
            psnr_rgb, psnr_y = psnr_rgb_and_y(sr, hr, border=scale)
            results[f"{mode}_psnr"].append(psnr_rgb)
            results[f"{mode}_psnr_y"].append(psnr_y)
            if with_ssim:
                results[f"{mode}_ssim"].append(ssim(sr, hr, border=scale))
                results[f"{mode}_ssim_y"].append(ssim_y(sr, hr, border=scale))
            bar.set_postfix(psnr=f"{results[f'{mode}_psnr'][-1]:.2f}")
        if pending is not None:
            pending.result()
    count = len(results[f"{mode}_psnr"])
    for key in ("runtime", "psnr", "psnr_y", "ssim", "ssim_y"):
        if f"{mode}_{key}" in results:
            results[f"{mode}_ave_{key}"] = sum(results[f"{mode}_{key}"]) / count
    return results


def evaluate(
    spec: ModelSpec,
    data_dir: PathLike,
    save_dir: PathLike,
    include_test: bool = False,
    device: Union[str, torch.device] = "auto",
    tile: Optional[int] = None,
    with_ssim: bool = False,
    overwrite: bool = False,
    save_images: bool = True,
    progress: bool = True,
    backend: str = "auto",
    tolerance: Optional[float] = None,
    recount: bool = False,
    int8_max_drop: Optional[float] = None,
    int8_calibration: Optional[PathLike] = None,
    int8_model: Optional[PathLike] = None,
) -> Dict[str, Any]:
    """Evaluate ``spec`` on the valid (and test) split of ``data_dir``; merge into ``save_dir``.

    ``backend`` is the inference path (:mod:`slimrlfn.deploy.backends`; ``auto`` = the fastest exact path of
    the device, ``eager`` = PyTorch as test_demo.py). An exported or compiled path is checked against eager on
    the centre :data:`CHECK_CROP` x :data:`CHECK_CROP` crop of the first LR image (real data at a fraction of a
    whole image's cost) before anything is timed and refused when off by more than ``tolerance`` on the [0, 255]
    output; its set-up (export, compile, that first run) is recorded
    as ``backend_info.setup_s`` and not in the per-image runtimes, so for those paths the first
    timed image is not cold (for eager it is, as in test_demo.py). Work a path does at a new input
    size (a torch.compile recompile, a CUDA graph capture) stays in that image's runtime.

    A lossy path (``openvino_int8``) is held instead to its PSNR drop against eager fp32 on the centre crops of the
    first :data:`GATE_PAIRS` pairs (refused above ``int8_max_drop`` dB, default 0.05); ``int8_calibration``: a folder
    of HR photos to calibrate it on (default the embedded sample's); ``int8_model``: the folder of a ``slimrlfn qat``
    run of this model, whose quantization-aware int8 IR is run instead of post-training quantization.

    The counts (params, FLOPs, activations, convs) come from the counts cache when the same architecture was
    counted before (``recount``: count afresh); ``counts_cache`` in the entry says which.

    Returns the model's results entry (also written to ``save_dir/results.json`` and ``.txt``).
    """
    save_dir = check_output_dir(save_dir, "--save_dir")
    with no_empty_folders_on_failure(save_dir):  # an image that fails to decode leaves no empty --save_dir behind
        return _evaluate(spec, data_dir, save_dir, include_test, device, tile, with_ssim, save_images, overwrite,
                         progress, backend, tolerance, recount, int8_max_drop, int8_calibration, int8_model)


def _evaluate(spec, data_dir, save_dir, include_test, device, tile, with_ssim, save_images, overwrite, progress,
              backend, tolerance, recount, int8_max_drop, int8_calibration, int8_model) -> Dict[str, Any]:
    splits = ["valid", "test"] if include_test else ["valid"]
    pairs = {split: find_pairs(data_dir, split, spec.scale) for split in splits}  # fail before any work
    for split in splits:
        check_pair_sizes(pairs[split], spec.scale, "--data_dir", spec.min_size)
    existing = load_results(save_dir)
    if spec.result_name in existing and not overwrite:
        raise UserError(f"{save_dir / 'results.json'} already has an entry {spec.result_name!r}; "
                        f"pass --overwrite to replace it, or use another --save_dir or --name")
    remove_stale_stages(save_dir)
    torch_device = resolve_device(device)
    if torch_device.type == "cuda":
        torch.backends.cudnn.benchmark = False
        torch.cuda.empty_cache()
    model = spec.model.to(torch_device).eval()
    for param in model.parameters():
        param.requires_grad_(False)
    tile = spec.tile if tile is None else tile  # the entry's own tile (select_model's) unless --tile
    first_lr = _checked_lr(pairs[splits[0]][0].lr_path, spec.min_size)
    example = uint8_to_tensor(_centre_crop(first_lr, max(CHECK_CROP, spec.min_size)), torch_device, spec.data_range)
    lr_pixels = sum(h * w for split in splits for h, w in map(image_size, (p.lr_path for p in pairs[split])))
    gated = resolve_backend(backend, torch_device, lr_pixels) in PSNR_GATED
    check_pairs = _gate_pairs(pairs[splits[0]][:GATE_PAIRS], spec.scale, max(CHECK_CROP, spec.min_size)) if gated else None
    runner = build_backend(backend, model, torch_device, example=example, tolerance=tolerance,
                           data_range=spec.data_range, lr_pixels=lr_pixels, check_pairs=check_pairs,
                           max_psnr_drop_db=int8_max_drop,
                           calibration=None if int8_calibration is None else str(int8_calibration),
                           int8_model=None if int8_model is None else str(int8_model))
    del first_lr, example
    reset_peak_memory(torch_device)
    entry: Dict[str, Any] = {}
    staged: Dict[str, Path] = {}
    try:
        for split in splits:
            stage = save_dir / f".partial-{spec.folder}-{split}-{os.getpid()}"
            if save_images:
                staged[split] = stage
            entry.update(evaluate_split(runner, pairs[split], torch_device, split,
                                        stage if save_images else None, tile, with_ssim, spec.scale, progress,
                                        data_range=spec.data_range, min_size=spec.min_size, label=spec.result_name))
            memory = peak_memory_mib(torch_device)
            entry[f"{split}_memory"] = memory["memory_mib"]
            entry["memory_kind"] = memory["memory_kind"]
    except BaseException:
        for stage in staged.values():
            shutil.rmtree(stage, ignore_errors=True)
        raise
    counts = cached_profile(model, refresh=recount)  # once per architecture (slimrlfn.metrics.counts_cache)
    entry.update({k: counts[k] for k in ("activations", "num_conv", "flops", "num_parameters")})
    entry["macs_ptflops_pytorch"] = counts["macs_ptflops_pytorch"]
    entry["fvcore_skipped"], entry["fvcore_uncounted"] = counts["fvcore_skipped"], counts["fvcore_uncounted"]
    entry["counts_cache"] = counts["counts_cache"]
    entry.update({**spec.record(), "images": spec.folder, "tile": tile, "data_dir": str(data_dir), "device_info": describe_device(torch_device),
                   "backend_info": runner.describe()})

    def move_images_into_place() -> None:
        for split, stage in staged.items():
            final = save_dir / spec.folder / split
            if final.exists():
                shutil.rmtree(final)
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(stage, final)

    merge_entry(save_dir, spec.result_name, entry, move_images_into_place)  # locked: other evaluations may merge too
    return entry


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def remove_stale_stages(save_dir: PathLike) -> list:
    """Remove the ``.partial-<name>-<split>-<pid>`` folders of ``save_dir`` whose process is gone (a killed run's
    staged SR images); a live process's stage is left alone. Returns the removed paths."""
    removed = []
    folder = Path(save_dir)
    if not folder.is_dir():
        return removed
    for stage in folder.glob(".partial-*"):
        pid_text = stage.name.rsplit("-", 1)[-1]
        if stage.is_dir() and pid_text.isdigit() and not _pid_alive(int(pid_text)):
            shutil.rmtree(stage, ignore_errors=True)
            removed.append(stage)
    return removed
