"""The one model resolver: a zoo name, an official ``model_id`` or a checkpoint -> a loaded model and its facts.

Every command and notebook that takes a model goes through here: ``slimrlfn eval`` (``--model``,
``--model_id`` / ``--use_prune`` as in ``test_demo.py``, ``--checkpoint`` / ``--config``), the
starting model of a pruning run, a distillation teacher, the models of the timing study, training's
``--init``. A :class:`ModelSpec` carries the model (eval mode, CPU, official weights SHA-256
checked, every checkpoint read with ``weights_only=True``), its architecture config, its results
key and label, and :meth:`ModelSpec.reference`: a small JSON-ready dict from which a worker process
resolves the same model again.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Optional

import torch.nn as nn

from slimrlfn.arch.checkpoints import load_checkpoint
from slimrlfn.arch.zoo import ZOO, find_checkpoint, load_zoo_model, zoo_entry
from slimrlfn.core.errors import UserError
from slimrlfn.core.files import PathLike

__all__ = ["OFFICIAL_IDS", "ModelSpec", "model_from_reference", "model_from_text", "resolve_model", "zoo_name_for_id"]

#: The official ``--model_id`` values of ``test_demo.py`` that this package holds.
OFFICIAL_IDS = (0, 21)


@dataclass
class ModelSpec:
    """A model ready to use: ``result_name`` is its key in results.json, ``label`` its display name.

    ``kind`` is ``zoo`` or ``checkpoint``; ``path`` the file its weights came from (absolute);
    ``source`` the zoo name or the checkpoint path as given.
    """

    result_name: str
    label: str
    model: nn.Module
    config: Dict[str, Any]
    source: str
    scale: int = 4
    extra: Dict[str, Any] = field(default_factory=dict)
    kind: str = "zoo"
    path: Optional[str] = None

    def reference(self) -> Dict[str, str]:
        """``{"model", "label", "kind", "path"}``: enough to resolve the same model in another process."""
        return {"model": self.source, "label": self.label, "kind": self.kind, "path": str(self.path)}


def zoo_name_for_id(model_id: Optional[int], use_prune: bool = False) -> str:
    """The zoo name of an official ``--model_id`` (0 RLFN, 21 SlimRLFN; ``use_prune``: SlimRLFN-prune)."""
    if model_id is None:
        model_id = 21
    if model_id == 0:
        return "rlfn"
    if model_id == 21:
        return "slimrlfn_prune" if use_prune else "slimrlfn"
    raise UserError(f"--model_id {model_id}: expected 0 (RLFN baseline) or 21 (SlimRLFN)")


def resolve_model(
    model: Optional[str] = None,
    checkpoint: Optional[PathLike] = None,
    config: Optional[PathLike] = None,
    model_id: Optional[int] = None,
    use_prune: bool = False,
    name: Optional[str] = None,
    zoo_path: Optional[PathLike] = None,
) -> ModelSpec:
    """Pick and load the model: ``checkpoint`` (+ ``config``), else zoo ``model``, else the official ``model_id``.

    ``model_id`` 0 is RLFN, 21 SlimRLFN (``use_prune`` -> SlimRLFN-prune), as in ``test_demo.py``;
    with nothing given it is SlimRLFN. ``name`` replaces the results key and label. UserError (one
    line) for an unknown name, a missing or unfitting file.
    """
    if checkpoint is not None:
        net, resolved = load_checkpoint(checkpoint, config)
        stem = Path(checkpoint).stem
        return ModelSpec(name or stem, name or stem, net, resolved, str(checkpoint), resolved["upscale"],
                         kind="checkpoint", path=str(Path(checkpoint).resolve()))
    if model is None:
        model = zoo_name_for_id(model_id, use_prune)
    entry = zoo_entry(model)  # one line for an unknown name
    path = find_checkpoint(model, path=zoo_path)
    net, _ = load_zoo_model(model, path=path)
    return ModelSpec(name or entry.result_name, entry.label, net, dict(entry.config), entry.name,
                     entry.config["upscale"], kind="zoo", path=str(Path(path).resolve()))


def model_from_text(text: str, what: str = "--model", noun: str = "model", alternatives: str = "") -> ModelSpec:
    """A zoo name or the path of a checkpoint ``.pth`` (config beside it), loaded.

    ``what`` names the flag in the one-line UserError for anything else (``noun``: what the flag
    takes, ``alternatives``: other accepted words, e.g. ``", or none"``); a missing ``.pth`` is
    "no such file".
    """
    text = str(text)
    if text in ZOO:
        return resolve_model(model=text)
    if Path(text).suffix == ".pth" or Path(text).exists():
        return resolve_model(checkpoint=text)
    raise UserError(f"{what} {text!r}: unknown {noun}; expected a zoo name ({', '.join(ZOO)}) or the path of "
                    f"a checkpoint .pth{alternatives}")


def model_from_reference(reference: Dict[str, str]) -> ModelSpec:
    """The model of a :meth:`ModelSpec.reference` (in a worker process): its file loaded again, checked as before."""
    if reference["kind"] == "zoo":
        return resolve_model(model=reference["model"], zoo_path=reference["path"])
    return resolve_model(checkpoint=reference["path"], name=reference["label"])
