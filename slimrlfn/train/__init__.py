"""Training: settings, the one optimisation step, losses, validation, fine-tuning, several devices, the run.

Modules, each over the ones before it: :mod:`~slimrlfn.train.config` (:class:`TrainConfig`),
:mod:`~slimrlfn.train.state` (schedule, EMA, RNG states), :mod:`~slimrlfn.train.dist` (torchrun, Ctrl-C),
:mod:`~slimrlfn.train.losses` (pixel losses, distillation, the teacher), :mod:`~slimrlfn.train.loop`
(:class:`TrainStep`, the one step), :mod:`~slimrlfn.train.validation` (the one PSNR validation loop),
:mod:`~slimrlfn.train.finetune` (fine-tuning after a pruning step), :mod:`~slimrlfn.train.run`
(``slimrlfn train``), :mod:`~slimrlfn.train.command` (its flags).
"""
from slimrlfn.train.config import TrainConfig, load_config
from slimrlfn.train.finetune import finetune
from slimrlfn.train.loop import TrainStep
from slimrlfn.train.losses import SRLoss, build_loss, load_teacher
from slimrlfn.train.run import train
from slimrlfn.train.state import ModelEMA, warmup_cosine
from slimrlfn.train.validation import validate_psnr

__all__ = ["ModelEMA", "SRLoss", "TrainConfig", "TrainStep", "build_loss", "finetune", "load_config",
           "load_teacher", "train", "validate_psnr", "warmup_cosine"]
