"""Evaluation as the NTIRE 2024 ESR ``test_demo.py`` does it, with the same flags and results files.

Per image: read LR and HR (RGB uint8), LR -> float tensor in [0, 255], one whole-image forward
(or tiles with ``--tile``) timed alone (CUDA events + synchronize on GPU, ``perf_counter`` on CPU;
no warm-up, ``cudnn.benchmark = False``, as the challenge did), SR clamped and rounded to uint8,
HR mod-cropped to the scale, PSNR (and SSIM) on RGB with crop border = scale; Y-channel variants
are recorded beside them. Results per model go to ``save_dir/results.json`` (the official keys:
``valid_runtime`` (ms), ``valid_psnr`` (dB), ``valid_ave_runtime``, ``valid_ave_psnr``,
``valid_memory`` (MiB), ``flops`` (G), ``num_parameters`` (M), ``activations`` (M), ``num_conv``;
``test_*`` with ``--include_test``) and ``save_dir/results.txt`` (the official table).
SR images go to ``save_dir/<model name>/<split>/NAME.png``.

Nothing is half-written: SR images are staged and moved into place when a split is done, and
the results files are replaced atomically. An entry already in ``results.json`` is kept unless
``overwrite`` is given.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Union

import numpy as np
import torch
import torch.nn as nn

from . import metrics
from .checkpoints import load_checkpoint
from .data import ImagePair, find_pairs, modcrop, read_image, write_image
from .devices import describe_device, peak_memory_mib, reset_peak_memory, resolve_device, synchronize
from .errors import UserError
from .files import atomic_write_json, atomic_write_text
from .models import MIN_INPUT_SIZE
from .backends import BACKENDS, build_backend
from .profile import profile_model
from .zoo import ZOO, load_zoo_model

__all__ = [
    "ModelSpec",
    "add_arguments",
    "evaluate",
    "evaluate_split",
    "forward_image",
    "format_results_table",
    "load_results",
    "main",
    "resolve_model",
    "run_from_args",
    "tensor_to_uint8",
    "uint8_to_tensor",
]

PathLike = Union[str, Path]


@dataclass
class ModelSpec:
    """A model ready to evaluate: ``result_name`` is its key in results.json."""

    result_name: str
    label: str
    model: nn.Module
    config: Dict[str, Any]
    source: str
    scale: int = 4
    extra: Dict[str, Any] = field(default_factory=dict)


def resolve_model(
    model: Optional[str] = None,
    checkpoint: Optional[PathLike] = None,
    config: Optional[PathLike] = None,
    model_id: Optional[int] = None,
    use_prune: bool = False,
    name: Optional[str] = None,
    zoo_path: Optional[PathLike] = None,
) -> ModelSpec:
    """Pick the model: ``checkpoint`` (+config), else zoo ``model``, else the official ``model_id``.

    ``model_id`` 0 is RLFN, 21 SlimRLFN (``use_prune`` -> SlimRLFN-prune), as in ``test_demo.py``.
    """
    if checkpoint is not None:
        net, resolved = load_checkpoint(checkpoint, config)
        stem = Path(checkpoint).stem
        return ModelSpec(name or stem, name or stem, net, resolved, str(checkpoint), resolved["upscale"])
    if model is None:
        if model_id is None:
            model_id = 21
        if model_id == 0:
            model = "rlfn"
        elif model_id == 21:
            model = "slimrlfn_prune" if use_prune else "slimrlfn"
        else:
            raise UserError(f"--model_id {model_id}: expected 0 (RLFN baseline) or 21 (SlimRLFN)")
    net, entry = load_zoo_model(model, path=zoo_path)
    return ModelSpec(name or entry.result_name, entry.label, net, dict(entry.config), entry.name,
                     entry.config["upscale"])


def uint8_to_tensor(img: np.ndarray, device: torch.device) -> torch.Tensor:
    """RGB uint8 (H, W, 3) -> float32 (1, 3, H, W) in [0, 255] on ``device``."""
    return torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1).float().unsqueeze(0).to(device)


def tensor_to_uint8(tensor: torch.Tensor) -> np.ndarray:
    """(1, 3, H, W) float in [0, 255] -> RGB uint8 (H, W, 3): clamp to [0, 255], round half to even."""
    img = tensor.detach().squeeze(0).float().clamp(0, 255).cpu().numpy()
    return np.uint8(np.transpose(img, (1, 2, 0)).round())


def forward_image(model: nn.Module, lr: torch.Tensor, tile: Optional[int] = None,
                  tile_overlap: int = 32, scale: int = 4) -> torch.Tensor:
    """SR of (1, 3, H, W): whole image, or overlapping ``tile`` x ``tile`` LR tiles averaged."""
    if tile is None:
        return model(lr)
    b, c, h, w = lr.size()
    tile = min(tile, h, w)
    stride = max(tile - tile_overlap, 1)
    h_starts = list(range(0, h - tile, stride)) + [h - tile]
    w_starts = list(range(0, w - tile, stride)) + [w - tile]
    out = torch.zeros(b, c, h * scale, w * scale, dtype=lr.dtype, device=lr.device)
    weight = torch.zeros_like(out)
    for top in h_starts:
        for left in w_starts:
            patch = model(lr[..., top:top + tile, left:left + tile])
            out[..., top * scale:(top + tile) * scale, left * scale:(left + tile) * scale].add_(patch)
            weight[..., top * scale:(top + tile) * scale, left * scale:(left + tile) * scale].add_(1)
    return out.div_(weight)


def _timed_forward(model: nn.Module, lr: torch.Tensor, device: torch.device, tile: Optional[int],
                   scale: int) -> tuple:
    """(SR tensor, milliseconds): CUDA events on GPU, perf_counter on CPU; includes no copies."""
    if device.type == "cuda":
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        sr = forward_image(model, lr, tile, scale=scale)
        end.record()
        torch.cuda.synchronize(device)
        return sr, start.elapsed_time(end)
    begin = time.perf_counter()
    sr = forward_image(model, lr, tile, scale=scale)
    synchronize(device)
    return sr, (time.perf_counter() - begin) * 1000.0


def _checked_lr(path: Path) -> np.ndarray:
    lr_img = read_image(path)
    if min(lr_img.shape[:2]) < MIN_INPUT_SIZE:
        raise UserError(f"LR image {path}: {lr_img.shape[1]}x{lr_img.shape[0]} is smaller than "
                        f"the {MIN_INPUT_SIZE}x{MIN_INPUT_SIZE} the ESA branch needs")
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
) -> Dict[str, Any]:
    """Run one split; returns the official ``{mode}_*`` keys plus ``{mode}_names`` and Y-channel lists.

    Raises UserError naming the file for an LR smaller than the model takes or an HR whose size
    does not match the SR output.
    """
    from tqdm.auto import tqdm

    results: Dict[str, Any] = {f"{mode}_names": [], f"{mode}_runtime": [], f"{mode}_psnr": [],
                               f"{mode}_psnr_y": []}
    if with_ssim:
        results[f"{mode}_ssim"] = []
        results[f"{mode}_ssim_y"] = []
    bar = tqdm(pairs, desc=f"eval {mode}", unit="img", disable=not progress)
    for pair in bar:
        lr_img = _checked_lr(pair.lr_path)
        if tile is not None and tile < MIN_INPUT_SIZE:
            raise UserError(f"--tile {tile}: tiles must be at least {MIN_INPUT_SIZE} LR pixels")
        sr_tensor, ms = _timed_forward(model, uint8_to_tensor(lr_img, device), device, tile, scale)
        sr = tensor_to_uint8(sr_tensor)
        hr = modcrop(read_image(pair.hr_path), scale)
        if hr.shape != sr.shape:
            raise UserError(f"HR image {pair.hr_path}: {hr.shape[1]}x{hr.shape[0]} after modcrop, expected "
                            f"{sr.shape[1]}x{sr.shape[0]} ({scale}x its LR {pair.lr_path.name})")
        results[f"{mode}_names"].append(pair.name)
        results[f"{mode}_runtime"].append(ms)
        psnr_rgb, psnr_y = metrics.psnr_rgb_and_y(sr, hr, border=scale)
        results[f"{mode}_psnr"].append(psnr_rgb)
        results[f"{mode}_psnr_y"].append(psnr_y)
        if with_ssim:
            results[f"{mode}_ssim"].append(metrics.ssim(sr, hr, border=scale))
            results[f"{mode}_ssim_y"].append(metrics.ssim_y(sr, hr, border=scale))
        if image_dir is not None:
            write_image(Path(image_dir) / f"{pair.name}.png", sr)
        bar.set_postfix(psnr=f"{results[f'{mode}_psnr'][-1]:.2f}")
    count = len(results[f"{mode}_psnr"])
    for key in ("runtime", "psnr", "psnr_y", "ssim", "ssim_y"):
        if f"{mode}_{key}" in results:
            results[f"{mode}_ave_{key}"] = sum(results[f"{mode}_{key}"]) / count
    return results


def load_results(save_dir: PathLike) -> Dict[str, Any]:
    """``save_dir/results.json`` as a dict ({} when absent); UserError when it is not valid JSON."""
    path = Path(save_dir) / "results.json"
    if not path.exists():
        return {}
    try:
        results = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise UserError(f"results file {path}: not valid JSON ({exc}); move it away or choose another --save_dir") from None
    if not isinstance(results, dict):
        raise UserError(f"results file {path}: expected a JSON object keyed by model name")
    return results


def format_results_table(results: Dict[str, Any]) -> str:
    """The official ``results.txt`` table (tab-separated); test columns when every entry has them."""
    include_test = bool(results) and all("test_ave_psnr" in v for v in results.values())
    if include_test:
        fmt = "{:20s}\t{:10s}\t{:10s}\t{:14s}\t{:14s}\t{:14s}\t{:10s}\t{:10s}\t{:8s}\t{:8s}\t{:8s}\n"
        text = fmt.format("Model", "Val PSNR", "Test PSNR", "Val Time [ms]", "Test Time [ms]", "Ave Time [ms]",
                          "Params [M]", "FLOPs [G]", "Acts [M]", "Mem [M]", "Conv")
    else:
        fmt = "{:20s}\t{:10s}\t{:14s}\t{:10s}\t{:10s}\t{:8s}\t{:8s}\t{:8s}\n"
        text = fmt.format("Model", "Val PSNR", "Val Time [ms]", "Params [M]", "FLOPs [G]", "Acts [M]", "Mem [M]", "Conv")
    for name, v in results.items():
        common = dict(num_param=f"{v['num_parameters']:2.3f}", flops=f"{v['flops']:2.2f}",
                      acts=f"{v['activations']:2.2f}", mem=f"{v['valid_memory']:2.2f}", conv=f"{v['num_conv']:4d}")
        if include_test:
            ave = (v["valid_ave_runtime"] + v["test_ave_runtime"]) / 2
            text += fmt.format(name, f"{v['valid_ave_psnr']:2.2f}", f"{v['test_ave_psnr']:2.2f}",
                               f"{v['valid_ave_runtime']:3.2f}", f"{v['test_ave_runtime']:3.2f}", f"{ave:3.2f}",
                               common["num_param"], common["flops"], common["acts"], common["mem"], common["conv"])
        else:
            text += fmt.format(name, f"{v['valid_ave_psnr']:2.2f}", f"{v['valid_ave_runtime']:3.2f}",
                               common["num_param"], common["flops"], common["acts"], common["mem"], common["conv"])
    return text


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
) -> Dict[str, Any]:
    """Evaluate ``spec`` on the valid (and test) split of ``data_dir``; merge into ``save_dir``.

    ``backend`` is the inference path (:mod:`slimrlfn.backends`; ``auto`` = the fastest exact path of
    the device, ``eager`` = PyTorch as test_demo.py). An exported or compiled path is checked on the
    first LR image against eager before anything is timed and refused when off by more than
    ``tolerance`` on the [0, 255] output; its set-up (export, compile, that first run) is recorded
    as ``backend_info.setup_s`` and not in the per-image runtimes, so for those paths the first
    timed image is not cold (for eager it is, as in test_demo.py). Work a path does at a new input
    size (a torch.compile recompile, a CUDA graph capture) stays in that image's runtime.

    Returns the model's results entry (also written to ``save_dir/results.json`` and ``.txt``).
    """
    save_dir = Path(save_dir)
    splits = ["valid", "test"] if include_test else ["valid"]
    pairs = {split: find_pairs(data_dir, split, spec.scale) for split in splits}  # fail before any work
    existing = load_results(save_dir)
    if spec.result_name in existing and not overwrite:
        raise UserError(f"{save_dir / 'results.json'} already has an entry {spec.result_name!r}; "
                        f"pass --overwrite to replace it, or use another --save_dir or --name")
    torch_device = resolve_device(device)
    if torch_device.type == "cuda":
        torch.backends.cudnn.benchmark = False
        torch.cuda.empty_cache()
    model = spec.model.to(torch_device).eval()
    for param in model.parameters():
        param.requires_grad_(False)
    first_lr = uint8_to_tensor(_checked_lr(pairs[splits[0]][0].lr_path), torch_device)
    runner = build_backend(backend, model, torch_device, example=first_lr, tolerance=tolerance)
    del first_lr
    reset_peak_memory(torch_device)
    entry: Dict[str, Any] = {}
    staged: Dict[str, Path] = {}
    try:
        for split in splits:
            stage = save_dir / f".partial-{spec.result_name}-{split}-{os.getpid()}"
            if save_images:
                staged[split] = stage
            entry.update(evaluate_split(runner, pairs[split], torch_device, split,
                                        stage if save_images else None, tile, with_ssim, spec.scale, progress))
            memory = peak_memory_mib(torch_device)
            entry[f"{split}_memory"] = memory["memory_mib"]
            entry["memory_kind"] = memory["memory_kind"]
    except BaseException:
        for stage in staged.values():
            shutil.rmtree(stage, ignore_errors=True)
        raise
    counts = profile_model(model)
    entry.update({k: counts[k] for k in ("activations", "num_conv", "flops", "num_parameters")})
    entry["macs_ptflops_pytorch"] = counts["macs_ptflops_pytorch"]
    entry.update({"model": spec.label, "source": spec.source, "config": spec.config, "scale": spec.scale,
                   "tile": tile, "data_dir": str(data_dir), "device_info": describe_device(torch_device),
                   "backend_info": runner.describe()})
    for split, stage in staged.items():
        final = save_dir / spec.result_name / split
        if final.exists():
            shutil.rmtree(final)
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(stage, final)
    results = load_results(save_dir)
    results[spec.result_name] = entry
    atomic_write_json(save_dir / "results.json", results)
    atomic_write_text(save_dir / "results.txt", format_results_table(results))
    return entry


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The ``test_demo.py`` flags plus the workbook's own."""
    parser.add_argument("--data_dir", default="data/sample",
                        help="folder with DIV2K_LSDIR_<split>_HR/ and _LR/ (default: the embedded sample, data/sample)")
    parser.add_argument("--save_dir", default="results", help="where SR images, results.json and results.txt go")
    parser.add_argument("--model_id", type=int, choices=[0, 21], default=None,
                        help="official model id: 0 RLFN baseline, 21 SlimRLFN (default when no --model/--checkpoint)")
    parser.add_argument("--use_prune", action="store_true", help="with --model_id 21: SlimRLFN-prune")
    parser.add_argument("--include_test", action="store_true", help="also the test split")
    parser.add_argument("--ssim", action="store_true", help="also SSIM (and SSIM on Y)")
    parser.add_argument("--model", choices=sorted(ZOO), default=None, help="a zoo model by name")
    parser.add_argument("--checkpoint", default=None, help="a state_dict .pth (config from the .json beside it)")
    parser.add_argument("--config", default=None, help="config JSON for --checkpoint (default: beside it)")
    parser.add_argument("--zoo_path", default=None, help="explicit path of the zoo file for --model/--model_id")
    parser.add_argument("--name", default=None, help="results entry name (default: official name or file stem)")
    parser.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda or cuda:N")
    parser.add_argument("--tile", type=int, default=None, help="LR tile size for tiled inference (default: whole image)")
    parser.add_argument("--backend", default="auto", choices=BACKENDS,
                        help="inference path (default auto: the fastest exact path of the device -- OpenVINO on CPU "
                             "when installed, else channels_last; eager on CUDA). eager = PyTorch as test_demo.py")
    parser.add_argument("--tolerance", type=float, default=None,
                        help="largest accepted difference to eager on the [0, 255] output for exported/compiled "
                             "backends (default 1e-3)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing entry of the same name")
    parser.add_argument("--no_images", action="store_true", help="do not write SR PNGs")
    return parser


def run_from_args(args: argparse.Namespace) -> Dict[str, Any]:
    """Evaluate as the parsed arguments say; prints the results table."""
    if args.checkpoint and (args.model or args.model_id is not None):
        raise UserError("--checkpoint: give either --checkpoint or --model/--model_id, not both")
    if args.model and args.model_id is not None:
        raise UserError("--model: give either --model or --model_id, not both")
    if args.use_prune and args.model_id not in (None, 21):
        raise UserError("--use_prune: only with --model_id 21")
    if args.tile is not None and args.tile < MIN_INPUT_SIZE:
        raise UserError(f"--tile {args.tile}: expected at least {MIN_INPUT_SIZE} LR pixels")
    spec = resolve_model(args.model, args.checkpoint, args.config, args.model_id, args.use_prune,
                         args.name, args.zoo_path)
    entry = evaluate(spec, args.data_dir, args.save_dir, args.include_test, args.device, args.tile,
                     args.ssim, args.overwrite, save_images=not args.no_images, backend=args.backend,
                     tolerance=args.tolerance)
    print(format_results_table(load_results(args.save_dir)), end="")
    backend = entry["backend_info"]
    print(f"{spec.result_name}: valid PSNR {entry['valid_ave_psnr']:.3f} dB on "
          f"{entry['device_info']['device_name']}, backend {backend['backend']} (set-up {backend['setup_s']:.2f} s) "
          f"-> {Path(args.save_dir) / 'results.json'}")
    return entry


def main(argv: Optional[List[str]] = None) -> int:
    """``python -m slimrlfn.evaluate``: the same as ``slimrlfn eval``."""
    from .cli import main as cli_main

    return cli_main(["eval", *(argv if argv is not None else __import__("sys").argv[1:])])


if __name__ == "__main__":
    raise SystemExit(main())
