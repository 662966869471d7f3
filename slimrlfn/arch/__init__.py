"""Architectures: RLFN and SlimRLFN, their configs, checkpoints, the official zoo, and the one model reference.

Modules, each over the ones before it: :mod:`~slimrlfn.arch.rlfn` (the networks),
:mod:`~slimrlfn.arch.config` (architectures as JSON configs), :mod:`~slimrlfn.arch.widths` (per-layer
widths of a config), :mod:`~slimrlfn.arch.weights` (the one weights reader, ``weights_only``),
:mod:`~slimrlfn.arch.checkpoints` (config + state_dict), :mod:`~slimrlfn.arch.zoo` (the official checkpoints,
SHA-256 checked), :mod:`~slimrlfn.arch.contract` (a model's range, scale, tile, smallest input),
:mod:`~slimrlfn.arch.kinds` (the kinds of model, one row each), :mod:`~slimrlfn.arch.ref` (:class:`ModelRef`,
the one parser, :func:`load_model`), :mod:`~slimrlfn.arch.arguments` (the model flags of every command),
:mod:`~slimrlfn.arch.repconv`, :mod:`~slimrlfn.arch.reparam` and :mod:`~slimrlfn.arch.reparam_checks` (the
train-time form and its checks).
"""
from slimrlfn.arch.checkpoints import load_checkpoint, save_checkpoint
from slimrlfn.arch.config import build_model, config_of, default_config, validate_config
from slimrlfn.arch.contract import Contract
from slimrlfn.arch.ref import ModelRef, load_model, resolve_model
from slimrlfn.arch.reparam import build_train_model, export_deploy, from_deploy, reparameterize
from slimrlfn.arch.rlfn import MIN_INPUT_SIZE, RLFN, SlimRLFN
from slimrlfn.arch.spec import ModelSpec
from slimrlfn.arch.weights import read_weights
from slimrlfn.arch.zoo import ZOO, find_checkpoint, load_zoo_model

__all__ = ["MIN_INPUT_SIZE", "RLFN", "SlimRLFN", "ZOO", "Contract", "ModelRef", "ModelSpec", "build_model",
           "build_train_model", "config_of", "default_config", "export_deploy", "find_checkpoint", "from_deploy",
           "load_checkpoint", "load_model", "load_zoo_model", "read_weights", "reparameterize", "resolve_model",
           "save_checkpoint", "validate_config"]
