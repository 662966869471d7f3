"""``slimrlfn train``: SlimRLFN with reparameterizable SRLFBs and distillation, one device or many.

Follows the SlimRLFN recipe of the NTIRE 2024 ESR challenge (team 21): train-time blocks with
parallel branches (:mod:`slimrlfn.reparam`), a pixel loss plus distillation to a frozen teacher
(:mod:`slimrlfn.losses`, RLFN by default), Adam with linear warm-up and cosine decay, optional EMA
of the weights, AMP on CUDA. By default the blocks fuse their branch weights on every forward
(``online_fusion``): the same function and gradients as summing the branches, at about the cost
of the deploy model (``bench/train_throughput.py``); ``--set online_fusion=false`` sums them. The final model is exported fused, as config + ``state_dict``
(``OUT/model_final.pth`` + ``.json``), loadable by ``slimrlfn eval --checkpoint``.

Configuration: :class:`TrainConfig` defaults, then a JSON or YAML file (``--config``), then the
explicit flags, then each ``--set key=value`` in order (values are JSON, e.g. ``--set lr=2e-4``,
``--set model.prune_channels=[28,28,...]``; bare words are strings).

Files under ``out_dir`` (written by rank 0 only): ``config.json`` (the resolved config),
``train.log``, ``history.json`` (validation PSNR per iteration), ``train_state.pt`` (model,
optimiser, scheduler, EMA, AMP scaler, RNG states, history; loadable with ``weights_only=True``),
``checkpoints/iter_NNNNNNN.pth`` + ``.json`` (fused deploy weights every ``ckpt_every``
iterations; EMA weights when EMA is on), ``model_final.pth`` + ``.json``, ``summary.json``.

Resume (``--resume`` or ``--resume PATH``) restores everything in ``train_state.pt``; since the
patches are a pure function of (seed, patch number) (:mod:`slimrlfn.train_data`), a resumed run
reproduces an uninterrupted one. Ctrl-C finishes the current step, writes ``train_state.pt`` and
exits with status 130 (a second Ctrl-C exits at once).

Several devices: ``torchrun --nproc_per_node=K -m slimrlfn.train ...`` trains with
DistributedDataParallel (NCCL on CUDA, Gloo on CPU); ``batch_size`` is per rank, every rank draws
its own shard of patches, rank 0 validates and writes every file.
"""
from __future__ import annotations

import argparse
import copy
import io
import json
import math
import os
import random
import signal
import sys
import threading
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Union, get_type_hints

import numpy as np
import torch
import torch.distributed as dist
import torch.nn as nn

from . import metrics
from .checkpoints import load_checkpoint, save_checkpoint
from .devices import describe_device, resolve_device
from .errors import UserError
from .files import atomic_write_bytes, atomic_write_json
from .losses import SRLoss, load_teacher
from .models import SlimRLFN, validate_config
from .reparam import REP_DEFAULTS, build_train_model, deploy_config_of, export_deploy, from_deploy
from .train_data import PatchDataset, ShardSampler, ValidationImage, load_validation
from .zoo import ZOO, load_zoo_model

__all__ = [
    "STATE_KIND",
    "ModelEMA",
    "TrainConfig",
    "add_arguments",
    "load_config",
    "main",
    "run_from_args",
    "train",
    "validate",
    "warmup_cosine",
]

PathLike = Union[str, Path]
#: The ``kind`` entry of every ``train_state.pt``.
STATE_KIND = "slimrlfn-train-state"


@dataclass
class TrainConfig:
    """Every setting of a training run (see the module docstring for how they are set)."""

    hr_dirs: List[str] = field(default_factory=list)  # folders of HR training images
    val_dir: Optional[str] = None  # NTIRE-layout validation data (DIV2K_LSDIR_<split>_HR/_LR)
    val_split: str = "valid"
    val_max_images: Optional[int] = None  # validate on the first N pairs only
    out_dir: str = "runs/train"
    model: Dict[str, Any] = field(default_factory=lambda: {"arch": "slimrlfn"})  # deploy config (slimrlfn.models)
    init: Optional[str] = None  # start from deploy weights: a zoo name or a checkpoint .pth
    use_1x1: bool = REP_DEFAULTS["use_1x1"]  # branches of every block conv (slimrlfn.reparam)
    use_identity: bool = REP_DEFAULTS["use_identity"]
    expand_ratio: float = REP_DEFAULTS["expand_ratio"]  # 0: no 1x1-3x3 branch
    use_edge: bool = REP_DEFAULTS["use_edge"]  # Sobel-x, Sobel-y, Laplacian branches (ECB)
    online_fusion: bool = True  # fuse the branch weights on every forward: same function and gradients, ~3x faster
    lr_patch: int = 64  # LR patch side; HR patch = scale * lr_patch
    batch_size: int = 16  # per rank
    iterations: int = 10000
    lr: float = 5e-4
    min_lr: float = 1e-6  # end of the cosine
    warmup: int = 500  # linear warm-up iterations
    betas: List[float] = field(default_factory=lambda: [0.9, 0.99])
    weight_decay: float = 0.0
    grad_clip: float = 0.0  # max gradient norm; 0: off
    loss: str = "l1"  # l1, charbonnier, l2
    charbonnier_eps: float = 1e-3
    teacher: Optional[str] = "rlfn"  # zoo name or checkpoint .pth; none: no distillation
    distill_weight: float = 1.0  # lambda of the distillation term
    distill_loss: Optional[str] = None  # default: the same as loss
    ema_decay: float = 0.0  # 0: no EMA; e.g. 0.999
    amp: bool = True  # mixed precision on CUDA (ignored on CPU)
    amp_dtype: str = "bf16"  # bf16 or fp16 (fp16 uses a gradient scaler)
    seed: int = 0
    deterministic: bool = False  # cuDNN deterministic kernels (CUDA)
    workers: int = 2  # DataLoader worker processes per rank
    lr_cache_dir: Optional[str] = None  # keep LR images as PNG here instead of in memory
    device: str = "auto"
    log_every: int = 50
    val_every: int = 1000
    ckpt_every: int = 1000
    val_at_start: bool = True  # validate the initial model (iteration 0) too
    stop_at: Optional[int] = None  # stop (and save) at this iteration; the schedule still spans `iterations`
    max_minutes: Optional[float] = None  # stop (and save) after this much training time (validation excluded)
    resume: Optional[str] = None  # "auto" (out_dir/train_state.pt) or a train_state.pt path
    overwrite: bool = False  # allow a new run in an out_dir that already has one
    progress: bool = True

    def rep_options(self) -> Dict[str, Any]:
        """The :data:`slimrlfn.reparam.REP_DEFAULTS` keys of this config."""
        return {key: getattr(self, key) for key in REP_DEFAULTS}


# ---------------------------------------------------------------------------------------------
# configuration


def _parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _coerce(key: str, value: Any, hint: Any) -> Any:
    """``value`` as the type ``hint`` of config key ``key``; UserError with one line otherwise."""
    origin = getattr(hint, "__origin__", None)
    args = getattr(hint, "__args__", ())
    if origin is Union and type(None) in args:
        if value is None or (isinstance(value, str) and value.lower() in ("none", "null", "")):
            return None
        return _coerce(key, value, next(a for a in args if a is not type(None)))
    bad = UserError(f"config key {key!r}: expected {getattr(hint, '__name__', str(hint).replace('typing.', ''))}, "
                    f"got {value!r}")
    if hint is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "yes", "on", "1", "false", "no", "off", "0"):
            return value.lower() in ("true", "yes", "on", "1")
        raise bad
    if hint is int:
        if isinstance(value, str):
            value = _parse_value(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise bad
    if hint is float:
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                raise bad from None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise bad
    if hint is str:
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return str(value)
        raise bad
    if origin in (list, List):
        items = [value] if isinstance(value, (str, int, float)) and not isinstance(value, bool) else value
        if not isinstance(items, (list, tuple)):
            raise bad
        return [_coerce(key, item, args[0]) for item in items]
    if origin in (dict, Dict):
        if not isinstance(value, dict):
            raise bad
        return dict(value)
    raise bad


def _read_config_file(path: Path) -> Dict[str, Any]:
    if not path.is_file():
        raise UserError(f"--config {path}: no such file")
    text = path.read_text()
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError:
            raise UserError(f"--config {path}: reading YAML needs PyYAML (pip install pyyaml), or use JSON") from None
        try:
            document = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise UserError(f"--config {path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    else:
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UserError(f"--config {path}: not valid JSON ({exc})") from None
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise UserError(f"--config {path}: expected a mapping of settings, got {type(document).__name__}")
    return document


def load_config(
    path: Optional[PathLike] = None,
    overrides: Optional[Dict[str, Any]] = None,
    sets: Optional[List[str]] = None,
) -> TrainConfig:
    """Defaults, then the file ``path`` (JSON or YAML), then ``overrides``, then ``key=value`` strings.

    A dotted key (``model.feature_channels=16``) sets one entry of a mapping. UserError with one
    line for an unknown key or a value of the wrong type.
    """
    hints = get_type_hints(TrainConfig)
    values: Dict[str, Any] = asdict(TrainConfig())

    def apply(key: str, value: Any, source: str) -> None:
        head, _, rest = key.partition(".")
        if head not in hints:
            raise UserError(f"{source}: unknown config key {head!r}; expected one of {', '.join(hints)}")
        if rest:
            if not isinstance(values[head], dict):
                raise UserError(f"{source}: config key {head!r} is not a mapping; cannot set {key!r}")
            values[head] = {**values[head], rest: value}
        else:
            values[head] = _coerce(head, value, hints[head])

    if path is not None:
        for key, value in _read_config_file(Path(path)).items():
            apply(str(key), value, f"--config {path}")
    for key, value in (overrides or {}).items():
        if value is not None:
            apply(key, value, f"--{key}")
    for item in sets or []:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise UserError(f"--set {item!r}: expected key=value")
        apply(key.strip(), _parse_value(text.strip()), f"--set {item}")
    config = TrainConfig(**values)
    _check_config(config)
    return config


def _check_config(config: TrainConfig) -> None:
    positive = ("lr_patch", "batch_size", "iterations", "log_every", "val_every", "ckpt_every")
    for key in positive:
        if getattr(config, key) < 1:
            raise UserError(f"config key {key!r}: expected a positive integer, got {getattr(config, key)}")
    for key in ("warmup", "workers"):
        if getattr(config, key) < 0:
            raise UserError(f"config key {key!r}: expected an integer >= 0, got {getattr(config, key)}")
    if config.lr <= 0 or config.min_lr < 0:
        raise UserError(f"config keys 'lr' / 'min_lr': expected lr > 0 and min_lr >= 0, got {config.lr} / {config.min_lr}")
    if len(config.betas) != 2 or not all(0 <= b < 1 for b in config.betas):
        raise UserError(f"config key 'betas': expected two numbers in [0, 1), got {config.betas}")
    if not 0 <= config.ema_decay < 1:
        raise UserError(f"config key 'ema_decay': expected a number in [0, 1), got {config.ema_decay}")
    if config.amp_dtype not in ("bf16", "fp16"):
        raise UserError(f"config key 'amp_dtype': expected bf16 or fp16, got {config.amp_dtype!r}")
    if config.distill_weight < 0:
        raise UserError(f"config key 'distill_weight': expected a number >= 0, got {config.distill_weight}")


def warmup_cosine(iterations: int, warmup: int, lr: float, min_lr: float) -> Callable[[int], float]:
    """Factor of ``lr`` at step ``t``: linear warm-up to 1 over ``warmup`` steps, then cosine to ``min_lr``."""
    floor = min_lr / lr

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        span = max(1, iterations - warmup)
        progress = min(1.0, (step - warmup) / span)
        return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))

    return factor


# ---------------------------------------------------------------------------------------------
# EMA, RNG states, distributed set-up


class ModelEMA:
    """Exponential moving average of a model's floating-point state; decay warms up as in timm."""

    def __init__(self, model: nn.Module, decay: float) -> None:
        self.module = copy.deepcopy(model).eval()
        for param in self.module.parameters():
            param.requires_grad_(False)
        self.decay = decay
        self.updates = 0

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        self.updates += 1
        decay = min(self.decay, (1 + self.updates) / (10 + self.updates))
        for ema, value in zip(self.module.state_dict().values(), model.state_dict().values()):
            if ema.dtype.is_floating_point:
                ema.mul_(decay).add_(value.detach(), alpha=1.0 - decay)
            else:
                ema.copy_(value)

    def state_dict(self) -> Dict[str, Any]:
        return {"module": self.module.state_dict(), "updates": self.updates}

    def load_state_dict(self, state: Dict[str, Any]) -> None:
        self.module.load_state_dict(state["module"], strict=True)
        self.updates = int(state["updates"])


def _rng_state(device: torch.device) -> Dict[str, Any]:
    """Python, NumPy, torch (and CUDA) RNG states as tensors and lists (``weights_only``-safe)."""
    np_state = np.random.get_state()
    py_state = random.getstate()
    state = {
        "python": [py_state[0], list(py_state[1]), py_state[2]],
        "numpy": [np_state[0], torch.from_numpy(np_state[1].astype(np.int64)), int(np_state[2]),
                  int(np_state[3]), float(np_state[4])],
        "torch": torch.get_rng_state(),
    }
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def _set_rng_state(state: Dict[str, Any], device: torch.device) -> None:
    version, values, gauss = state["python"]
    random.setstate((version, tuple(values), gauss))
    name, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(state["torch"])
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"], device)


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


@dataclass
class _Dist:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")
    initialised: bool = False

    @property
    def main(self) -> bool:
        return self.rank == 0


def _init_distributed(device_name: str) -> _Dist:
    """Read torchrun's environment; initialise NCCL (CUDA) or Gloo (CPU) when WORLD_SIZE > 1."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return _Dist(device=resolve_device(device_name))
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    wanted = (device_name or "auto").lower()
    use_cuda = wanted != "cpu" and torch.cuda.is_available()
    if wanted.startswith("cuda") and not use_cuda:
        resolve_device(wanted)  # raises the usual one-line error
    if use_cuda:
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    else:
        device = torch.device("cpu")
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if use_cuda else "gloo")
    return _Dist(rank, world_size, local_rank, device, True)


class _Interrupts:
    """While active, the first Ctrl-C only sets ``requested`` (the loop saves and stops)."""

    def __init__(self) -> None:
        self.requested = False
        self._previous = None

    def _handler(self, signum, frame) -> None:  # noqa: ARG002 (signal API)
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __enter__(self) -> "_Interrupts":
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handler)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


def _ignore_sigint(worker_id: int) -> None:  # noqa: ARG001 (DataLoader API)
    """DataLoader workers leave Ctrl-C to the main process, which stops after the current step."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


# ---------------------------------------------------------------------------------------------
# validation


@torch.no_grad()
def validate(model: nn.Module, images: List[ValidationImage], device: torch.device, scale: int) -> Dict[str, Any]:
    """PSNR (RGB, border = scale, SR clamped and rounded to uint8, as NTIRE) of the fused ``model``."""
    deploy = export_deploy(model).float().to(device)
    values = []
    for image in images:
        x = torch.from_numpy(np.ascontiguousarray(image.lr)).permute(2, 0, 1).float().unsqueeze(0).to(device)
        sr = deploy(x).squeeze(0).clamp(0, 255).round().byte().permute(1, 2, 0).cpu().numpy()
        values.append(metrics.psnr(sr, image.hr, border=scale))
    return {"psnr": float(np.mean(values)) if values else float("nan"),
            "psnr_per_image": dict(zip((i.name for i in images), values))}


# ---------------------------------------------------------------------------------------------
# the run


def _describe_model(config: Dict[str, Any], rep: Dict[str, Any]) -> str:
    branches = {k: v for k, v in rep.items() if k != "online_fusion"}
    return (f"{config['arch']} features={config['feature_channels']} blocks={config['num_blocks']} "
            f"prune_channels={config['prune_channels']} branches={branches}")


def _read_state(path: Path) -> Dict[str, Any]:
    if not path.is_file():
        raise UserError(f"--resume {path}: no such file")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # corrupt file, pickled objects
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(f"--resume {path}: cannot be read as a weights-only training state ({first})") from None
    if not isinstance(state, dict) or state.get("kind") != STATE_KIND:
        raise UserError(f"--resume {path}: not a training state written by slimrlfn train (a train_state.pt); "
                        f"to start from deploy weights use --init")
    return state


class _Run:
    """One training run: everything is checked in ``__init__`` before ``run`` writes anything."""

    def __init__(self, config: TrainConfig, env: _Dist, callback: Optional[Callable[[int, Dict[str, Any]], None]]):
        self.config, self.env, self.callback = config, env, callback
        self.device = env.device
        self.out_dir = Path(config.out_dir)
        self.state_path = self.out_dir / "train_state.pt"
        self.rep = config.rep_options()
        resume_state = self._check_outputs()
        self.loss_fn = SRLoss(config.loss, config.distill_loss, config.distill_weight, config.charbonnier_eps)
        _seed_everything(config.seed)
        self.model = self._build_model()
        self.model_config = deploy_config_of(self.model)
        self.scale = self.model_config["upscale"]
        if resume_state is not None:
            self._check_resume_model(resume_state)
        self.teacher, self.teacher_label = None, None
        if config.teacher is not None and config.teacher.lower() != "none" and config.distill_weight > 0:
            self.teacher, self.teacher_label = load_teacher(config.teacher, self.scale, self.device)
        self.dataset = PatchDataset(config.hr_dirs, self.scale, config.lr_patch, config.seed, True,
                                    config.lr_cache_dir, progress=config.progress and env.main)
        self.val_images: List[ValidationImage] = []
        if config.val_dir is not None:
            self.val_images = load_validation(config.val_dir, config.val_split, self.scale, config.val_max_images)
        self._build_optimisation()
        self.iteration = 0
        self.train_seconds = 0.0  # training wall time over every session of this run
        self.history: List[Dict[str, Any]] = []
        if resume_state is not None:
            self._load_state(resume_state)

    # -- set-up -----------------------------------------------------------------------------------

    def _check_outputs(self) -> Optional[Dict[str, Any]]:
        resume = self.config.resume
        if resume is None:
            if self.state_path.exists() and not self.config.overwrite:
                raise UserError(f"--out_dir {self.out_dir}: already holds a run ({self.state_path.name}); pass --resume "
                                f"to continue it, --overwrite to start over, or choose another --out_dir")
            return None
        path = self.state_path if resume == "auto" else Path(resume)
        return _read_state(path)

    def _build_model(self) -> nn.Module:
        config = self.config
        try:
            if config.init is not None:
                deploy = self._load_init(config.init)
                model = from_deploy(deploy, self.rep)
                if validate_config(config.model) != deploy_config_of(deploy) and config.model != {"arch": "slimrlfn"}:
                    warnings.warn(f"--init {config.init}: the model comes from that checkpoint; the 'model' setting "
                                  f"{config.model} is ignored", UserWarning, stacklevel=2)
            else:
                model = build_train_model(config.model, self.rep)
        except ValueError as exc:
            raise UserError(f"model: {exc}") from None
        return model.to(self.device).train()

    def _load_init(self, spec: str) -> nn.Module:
        if spec in ZOO:
            deploy, _ = load_zoo_model(spec)
        elif Path(spec).suffix == ".pth" or Path(spec).exists():
            deploy, _ = load_checkpoint(spec)
        else:
            raise UserError(f"--init {spec!r}: expected a zoo name ({', '.join(ZOO)}) or a checkpoint .pth")
        if not isinstance(deploy, SlimRLFN):
            raise UserError(f"--init {spec}: is a {type(deploy).__name__}; training starts only from a SlimRLFN")
        return deploy

    def _check_resume_model(self, state: Dict[str, Any]) -> None:
        stored_config = state.get("model_config")
        stored_rep = {k: v for k, v in dict(state.get("rep", {})).items() if k != "online_fusion"}
        own_rep = {k: v for k, v in self.rep.items() if k != "online_fusion"}
        if stored_config != self.model_config or stored_rep != own_rep:
            where = self.config.resume if self.config.resume != "auto" else self.state_path
            raise UserError(f"--resume {where}: the checkpoint is a {_describe_model(stored_config, dict(state.get('rep', {})))}"
                            f", this run builds a {_describe_model(self.model_config, self.rep)}; "
                            f"resume with the model settings it was trained with")

    def _build_optimisation(self) -> None:
        config = self.config
        self.net: nn.Module = self.model
        if self.env.world_size > 1:
            device_ids = [self.device.index] if self.device.type == "cuda" else None
            self.net = nn.parallel.DistributedDataParallel(self.model, device_ids=device_ids)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=config.lr, betas=tuple(config.betas),
                                          weight_decay=config.weight_decay)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, warmup_cosine(config.iterations, config.warmup, config.lr, config.min_lr))
        self.use_amp = config.amp and self.device.type == "cuda"
        self.amp_dtype = torch.bfloat16 if config.amp_dtype == "bf16" else torch.float16
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.use_amp and self.amp_dtype == torch.float16)
        self.ema = ModelEMA(self.model, config.ema_decay) if config.ema_decay > 0 else None
        if self.device.type == "cuda":
            torch.backends.cudnn.benchmark = not config.deterministic
            torch.backends.cudnn.deterministic = config.deterministic

    def _load_state(self, state: Dict[str, Any]) -> None:
        try:
            self.model.load_state_dict(state["model"], strict=True)
            self.optimizer.load_state_dict(state["optimizer"])
            self.scheduler.load_state_dict(state["scheduler"])
            self.scaler.load_state_dict(state["scaler"])
            if self.ema is not None:
                if state.get("ema") is None:
                    raise UserError("--resume: the checkpoint has no EMA weights but ema_decay > 0; "
                                    "resume with ema_decay 0 or start a new run")
                self.ema.load_state_dict(state["ema"])
        except (KeyError, RuntimeError, ValueError) as exc:
            first = str(exc).strip().splitlines()[0]
            raise UserError(f"--resume: the training state does not fit this run ({first})") from None
        self.iteration = int(state["iteration"])
        self.train_seconds = float(state.get("train_seconds", 0.0))
        self.history = list(state.get("history", []))
        _set_rng_state(state["rng"], self.device)

    # -- files --------------------------------------------------------------------------------

    def _log(self, message: str, console: bool = False) -> None:
        if not self.env.main:
            return
        with open(self.out_dir / "train.log", "a") as handle:
            handle.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {message}\n")
        if console:
            from tqdm.auto import tqdm

            tqdm.write(message)

    def _eval_model(self) -> nn.Module:
        return self.ema.module if self.ema is not None else self.model

    def _state(self) -> Dict[str, Any]:
        return {
            "kind": STATE_KIND, "version": 1, "iteration": self.iteration,
            "model_config": self.model_config, "rep": dict(self.rep),
            "model": {k: v.detach().cpu() for k, v in self.model.state_dict().items()},
            "ema": self.ema.state_dict() if self.ema is not None else None,
            "optimizer": self.optimizer.state_dict(), "scheduler": self.scheduler.state_dict(),
            "scaler": self.scaler.state_dict(), "rng": _rng_state(self.device),
            "history": self.history, "train_seconds": self.train_seconds, "config": asdict(self.config),
        }

    def save_state(self) -> None:
        """Write ``train_state.pt`` atomically (rank 0)."""
        if self.env.main:
            buffer = io.BytesIO()
            torch.save(self._state(), buffer)
            atomic_write_bytes(self.state_path, buffer.getvalue())

    def _export(self, path: Path) -> Path:
        deploy = export_deploy(self._eval_model()).float().cpu()
        last = self.history[-1] if self.history else {}
        meta = {"source": "slimrlfn train", "iteration": self.iteration, "ema": self.ema is not None,
                "val_psnr": last.get("psnr") if last.get("iteration") == self.iteration else None,
                "teacher": self.teacher_label, "distill_weight": self.config.distill_weight}
        return save_checkpoint(deploy, path, extra=meta)

    def checkpoint(self) -> None:
        """Training state plus the fused deploy weights of this iteration (rank 0)."""
        if self.env.main:
            self.save_state()
            self._export(self.out_dir / "checkpoints" / f"iter_{self.iteration:07d}.pth")
            self._log(f"checkpoint at iteration {self.iteration}")

    def validate_now(self) -> Optional[float]:
        if not self.env.main or not self.val_images:
            return None
        begin = time.perf_counter()
        result = validate(self._eval_model(), self.val_images, self.device, self.scale)
        record = {"iteration": self.iteration, "psnr": result["psnr"], "seconds": round(time.perf_counter() - begin, 3),
                  "train_minutes": round(self.train_seconds / 60.0, 4), "lr": self.optimizer.param_groups[0]["lr"]}
        self.history = [h for h in self.history if h["iteration"] != self.iteration] + [record]
        atomic_write_json(self.out_dir / "history.json", self.history)
        self._log(f"validation at iteration {self.iteration}: PSNR {result['psnr']:.3f} dB "
                  f"({len(self.val_images)} images)", console=True)
        return result["psnr"]

    # -- the loop -----------------------------------------------------------------------------

    def _step(self, lr: torch.Tensor, hr: torch.Tensor) -> Dict[str, torch.Tensor]:
        lr = lr.to(self.device, non_blocking=True)
        hr = hr.to(self.device, non_blocking=True)
        with torch.autocast(device_type=self.device.type, dtype=self.amp_dtype, enabled=self.use_amp):
            sr = self.net(lr)
            teacher_sr = None
            if self.teacher is not None:
                with torch.no_grad():
                    teacher_sr = self.teacher(lr)
        loss, terms = self.loss_fn(sr, hr, teacher_sr)
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        if self.config.grad_clip > 0:
            self.scaler.unscale_(self.optimizer)
            nn.utils.clip_grad_norm_(self.model.parameters(), self.config.grad_clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.scheduler.step()
        if self.ema is not None:
            self.ema.update(self.model)
        return terms

    def _stop_requested(self, interrupts: _Interrupts) -> bool:
        """Ctrl-C, or this session's training time (validation excluded) past ``max_minutes``.

        Under DDP every rank takes the same decision (rank clocks differ).
        """
        limit = self.config.max_minutes
        elapsed = self.train_seconds - self.session_start_seconds
        flags = torch.tensor([float(interrupts.requested), float(limit is not None and elapsed > 60.0 * limit)])
        if self.env.world_size > 1:
            flags = flags.to(self.device)
            dist.all_reduce(flags, op=dist.ReduceOp.MAX)
        if flags[0]:
            self.stop_reason = "interrupt"
        elif flags[1]:
            self.stop_reason = "max_minutes"
        return bool(flags.max())

    def _replica_max_abs_diff(self) -> Optional[float]:
        if self.env.world_size <= 1:
            return None
        flat = torch.cat([p.detach().float().reshape(-1) for p in self.model.parameters()])
        high, low = flat.clone(), flat.clone()
        dist.all_reduce(high, op=dist.ReduceOp.MAX)
        dist.all_reduce(low, op=dist.ReduceOp.MIN)
        return float((high - low).abs().max())

    def run(self) -> Dict[str, Any]:
        from torch.utils.data import DataLoader
        from tqdm.auto import tqdm

        config, env = self.config, self.env
        start = self.iteration
        end = min(config.iterations, config.stop_at) if config.stop_at is not None else config.iterations
        resumed = config.resume is not None
        if env.main:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            if not resumed and (self.out_dir / "train.log").exists():
                (self.out_dir / "train.log").unlink()
            atomic_write_json(self.out_dir / "config.json", {
                "config": asdict(config), "model_config": self.model_config, "rep": self.rep,
                "world_size": env.world_size, "device_info": describe_device(self.device)})
        self._log(f"{'resumed at' if resumed else 'started at'} iteration {start} of {config.iterations}: "
                  f"{_describe_model(self.model_config, self.rep)}, {len(self.dataset.sources)} training images, "
                  f"{len(self.val_images)} validation images, teacher {self.teacher_label}, "
                  f"world size {env.world_size}, device {self.device}")
        for skipped in self.dataset.skipped:
            self._log(f"skipped (smaller than the HR patch): {skipped}")
        self.session_start_seconds = self.train_seconds
        self.stop_reason = "done"
        if config.val_at_start and not resumed and start == 0:
            self.validate_now()
        sampler = ShardSampler(config.batch_size, start, end, env.rank, env.world_size)
        loader = DataLoader(self.dataset, batch_size=config.batch_size, sampler=sampler, drop_last=True,
                            num_workers=config.workers, pin_memory=self.device.type == "cuda",
                            worker_init_fn=_ignore_sigint if config.workers else None)
        bar = tqdm(total=config.iterations, initial=start, desc="train", unit="it",
                   disable=not (config.progress and env.main), dynamic_ncols=True)
        window = time.perf_counter()
        self.net.train()
        with _Interrupts() as interrupts:
            try:
                for lr_batch, hr_batch in loader:
                    terms = self._step(lr_batch, hr_batch)
                    self.iteration += 1
                    bar.update(1)
                    if self.callback is not None:
                        self.callback(self.iteration, terms)
                    if self.iteration % config.log_every == 0 or self.iteration == end:
                        values = {k: float(v) for k, v in terms.items()}
                        bar.set_postfix(loss=f"{values['total']:.4f}", lr=f"{self.optimizer.param_groups[0]['lr']:.2e}")
                        self._log(f"iteration {self.iteration}: " + " ".join(f"{k} {v:.5f}" for k, v in values.items())
                                  + f" lr {self.optimizer.param_groups[0]['lr']:.3e}")
                    self.train_seconds += time.perf_counter() - window
                    if self.iteration % config.val_every == 0 and self.iteration != end:
                        self.validate_now()
                    if self.iteration % config.ckpt_every == 0 and self.iteration != end:
                        self.checkpoint()
                    window = time.perf_counter()
                    if self._stop_requested(interrupts):
                        break
            except KeyboardInterrupt:
                if interrupts.requested:  # a second Ctrl-C: leave at once, write nothing
                    raise
                self.stop_reason = "interrupt"  # raised between steps (e.g. by the callback)
            finally:
                bar.close()
        if self.stop_reason == "interrupt":
            self.checkpoint()
            self._log(f"interrupted at iteration {self.iteration}; state saved to {self.state_path}", console=True)
            raise KeyboardInterrupt
        return self._finish(start)

    def _finish(self, start: int) -> Dict[str, Any]:
        config, env = self.config, self.env
        replica_diff = self._replica_max_abs_diff()
        psnr = self.validate_now()
        done = self.iteration >= config.iterations
        seconds = self.train_seconds - self.session_start_seconds
        summary: Dict[str, Any] = {
            "iteration": self.iteration, "iterations": config.iterations, "completed": done,
            "stop_reason": self.stop_reason if not done else "done",
            "train_seconds": round(self.train_seconds, 3), "session_train_seconds": round(seconds, 3),
            "patches_per_second": ((self.iteration - start) * config.batch_size * env.world_size / seconds
                                   if seconds > 0 else None),
            "val_psnr": psnr, "history": self.history, "world_size": env.world_size,
            "replica_max_abs_diff": replica_diff, "out_dir": str(self.out_dir),
            "device_info": describe_device(self.device),
        }
        if env.main:
            self.save_state()
            name = "model_final.pth" if done else f"model_iter_{self.iteration:07d}.pth"
            summary["checkpoint"] = str(self._export(self.out_dir / name))
            atomic_write_json(self.out_dir / "summary.json", summary)
            self._log(f"finished at iteration {self.iteration} ({summary['stop_reason']}); "
                      f"fused model -> {summary['checkpoint']}", console=config.progress)
        return summary


def train(config: TrainConfig, callback: Optional[Callable[[int, Dict[str, Any]], None]] = None) -> Dict[str, Any]:
    """Run (or resume) the training ``config`` describes; returns the summary (also ``summary.json``).

    Under torchrun (``WORLD_SIZE`` > 1) every rank calls this. ``callback(iteration, loss_terms)``
    runs after every step (tests use it). Raises UserError before writing anything when an input
    is wrong; KeyboardInterrupt after saving ``train_state.pt`` on Ctrl-C.
    """
    env = _init_distributed(config.device)
    try:
        return _Run(config, env, callback).run()
    finally:
        if env.initialised and dist.is_initialized():
            dist.destroy_process_group()


# ---------------------------------------------------------------------------------------------
# command line

#: Explicit flags -> config keys (everything else through --config or --set).
_FLAGS = {
    "hr_dir": ("hr_dirs", dict(nargs="+", help="folder(s) of HR training images")),
    "val_dir": ("val_dir", dict(help="NTIRE-layout validation data (DIV2K_LSDIR_valid_HR / _LR)")),
    "out_dir": ("out_dir", dict(help="where logs, checkpoints and the final model go (default runs/train)")),
    "init": ("init", dict(help="start from deploy weights: a zoo name or a checkpoint .pth")),
    "iterations": ("iterations", dict(type=int, help="training iterations (default 10000)")),
    "batch_size": ("batch_size", dict(type=int, help="patches per iteration and rank (default 16)")),
    "lr_patch": ("lr_patch", dict(type=int, help="LR patch side (default 64)")),
    "lr": ("lr", dict(type=float, help="peak learning rate (default 5e-4)")),
    "loss": ("loss", dict(help="l1 (default), charbonnier or l2")),
    "teacher": ("teacher", dict(help="zoo name or checkpoint .pth (default rlfn); none: no distillation")),
    "distill_weight": ("distill_weight", dict(type=float, help="lambda of the distillation term (default 1)")),
    "ema_decay": ("ema_decay", dict(type=float, help="EMA decay, e.g. 0.999 (default 0: off)")),
    "device": ("device", dict(help="auto (CUDA when present), cpu, cuda or cuda:N")),
    "workers": ("workers", dict(type=int, help="DataLoader workers per rank (default 2)")),
    "seed": ("seed", dict(type=int, help="seed of the initialisation and the patch stream (default 0)")),
    "stop_at": ("stop_at", dict(type=int, help="stop and save at this iteration (the schedule still spans --iterations)")),
    "max_minutes": ("max_minutes", dict(type=float, help="stop and save after this many minutes of training")),
}


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The ``slimrlfn train`` flags."""
    parser.add_argument("--config", default=None, help="a JSON or YAML file of settings (keys of TrainConfig)")
    for flag, (_, kwargs) in _FLAGS.items():
        parser.add_argument(f"--{flag}", default=None, **kwargs)
    parser.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                        help="any setting, value as JSON (repeatable; applied last)")
    parser.add_argument("--resume", nargs="?", const="auto", default=None, metavar="STATE",
                        help="continue the run in --out_dir (or from this train_state.pt)")
    parser.add_argument("--overwrite", action="store_true", default=None, help="start over in an --out_dir that has a run")
    parser.add_argument("--no_progress", dest="progress", action="store_false", default=None, help="no progress bar")
    return parser


def run_from_args(args: argparse.Namespace) -> int:
    """Train as the parsed arguments say; returns 0 (UserError on bad input)."""
    overrides = {key: getattr(args, flag) for flag, (key, _) in _FLAGS.items()}
    overrides.update(resume=args.resume, overwrite=args.overwrite, progress=args.progress)
    config = load_config(args.config, overrides, args.sets)
    summary = train(config)
    if int(os.environ.get("RANK", "0")) == 0:
        psnr = summary["val_psnr"]
        print(f"trained to iteration {summary['iteration']} of {summary['iterations']}"
              f"{f', validation PSNR {psnr:.3f} dB' if psnr is not None else ''}; "
              f"fused model: {summary.get('checkpoint')}")
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    """``python -m slimrlfn.train`` / ``torchrun -m slimrlfn.train``: the same as ``slimrlfn train``."""
    from .cli import main as cli_main

    return cli_main(["train", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    raise SystemExit(main())
