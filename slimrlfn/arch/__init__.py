"""Architectures: RLFN and SlimRLFN, their configs, checkpoints, the official zoo and the one model resolver.

Modules, each over the ones before it: :mod:`~slimrlfn.arch.rlfn` (the networks),
:mod:`~slimrlfn.arch.config` (architectures as JSON configs), :mod:`~slimrlfn.arch.widths` (per-layer
widths of a config), :mod:`~slimrlfn.arch.checkpoints` (config + state_dict, ``weights_only``),
:mod:`~slimrlfn.arch.zoo` (the official checkpoints, SHA-256 checked), :mod:`~slimrlfn.arch.source`
(zoo name, ``model_id`` or checkpoint -> :class:`ModelSpec`), :mod:`~slimrlfn.arch.repconv`,
:mod:`~slimrlfn.arch.reparam` and :mod:`~slimrlfn.arch.reparam_checks` (the train-time form and its checks).
"""
from slimrlfn.arch.checkpoints import load_checkpoint, read_state_dict, save_checkpoint
from slimrlfn.arch.config import build_model, config_of, default_config, validate_config
from slimrlfn.arch.reparam import build_train_model, export_deploy, from_deploy, reparameterize
from slimrlfn.arch.rlfn import MIN_INPUT_SIZE, RLFN, SlimRLFN
from slimrlfn.arch.source import ModelSpec, model_from_text, resolve_model
from slimrlfn.arch.zoo import ZOO, find_checkpoint, load_zoo_model

__all__ = ["MIN_INPUT_SIZE", "RLFN", "SlimRLFN", "ZOO", "ModelSpec", "build_model", "build_train_model",
           "config_of", "default_config", "export_deploy", "find_checkpoint", "from_deploy", "load_checkpoint",
           "load_zoo_model", "model_from_text", "read_state_dict", "reparameterize", "resolve_model",
           "save_checkpoint", "validate_config"]
