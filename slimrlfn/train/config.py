"""The settings of a training run: :class:`TrainConfig`, read from defaults, a JSON/YAML file, flags and ``--set``.

:func:`load_config` applies, in order: the :class:`TrainConfig` defaults, a JSON or YAML file
(``--config``), the explicit flags, then each ``--set key=value`` (values are JSON, e.g.
``--set lr=2e-4``, ``--set model.prune_channels=[28,28,...]``; bare words are strings). A dotted key
sets one entry of a mapping. Every value is coerced to its field's type, and a wrong key or type is
one :class:`~slimrlfn.core.errors.UserError` line.
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Union, get_type_hints

from slimrlfn.arch.repconv import REP_DEFAULTS
from slimrlfn.core.errors import UserError
from slimrlfn.core.files import PathLike

__all__ = ["TrainConfig", "describe_model", "load_config"]


@dataclass
class TrainConfig:
    """Every setting of a training run (see the module docstring for how they are set)."""

    hr_dirs: List[str] = field(default_factory=list)  # folders of HR training images
    val_dir: Optional[str] = None  # NTIRE-layout validation data (DIV2K_LSDIR_<split>_HR/_LR)
    val_split: str = "valid"
    val_max_images: Optional[int] = None  # validate on the first N pairs only
    out_dir: str = "runs/train"
    model: Dict[str, Any] = field(default_factory=lambda: {"arch": "slimrlfn"})  # deploy config (slimrlfn.arch.config)
    init: Optional[str] = None  # start from deploy weights: a zoo name or a checkpoint .pth
    use_1x1: bool = REP_DEFAULTS["use_1x1"]  # branches of every block conv (slimrlfn.arch.reparam)
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
        """The :data:`slimrlfn.arch.repconv.REP_DEFAULTS` keys of this config."""
        return {key: getattr(self, key) for key in REP_DEFAULTS}


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
    if {"config", "model_config"} <= set(document) and isinstance(document["config"], dict):
        return document["config"]  # a run's own config.json: its settings, under "config"
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
    for key, value in asdict(config).items():  # NaN and infinities pass every comparison below: refused first
        numbers = value if isinstance(value, (list, tuple)) else [value]
        if any(isinstance(v, float) and not math.isfinite(v) for v in numbers):
            raise UserError(f"config key {key!r}: expected a finite number, got {value}")
    if config.stop_at is not None and config.stop_at < 1:
        raise UserError(f"config key 'stop_at': expected an iteration >= 1, got {config.stop_at}")
    if config.max_minutes is not None and not config.max_minutes > 0:
        raise UserError(f"config key 'max_minutes': expected a positive number of minutes, got {config.max_minutes}")
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


def describe_model(config: Dict[str, Any], rep: Dict[str, Any]) -> str:
    """One line naming a model: architecture, widths and reparameterization branches."""
    branches = {k: v for k, v in rep.items() if k != "online_fusion"}
    return (f"{config['arch']} features={config['feature_channels']} blocks={config['num_blocks']} "
            f"prune_channels={config['prune_channels']} branches={branches}")
