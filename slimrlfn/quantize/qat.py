"""Quantization-aware fine-tuning (QAT) with NNCF: int8 with the drop trained away, exported as an OpenVINO IR.

Post-training quantization (:mod:`slimrlfn.deploy.int8`) of the official models loses 0.3-0.8 dB here. QAT starts
from the same quantization of the PyTorch model (``nncf.quantize`` with :func:`slimrlfn.deploy.int8.
quantization_options`: MIXED, first and last convolution in fp32, here with 8-bit weights, calibrated on
:func:`~slimrlfn.deploy.int8.calibration_inputs`; ``keep_fp32`` leaves more convolutions in fp32, mixed precision
chosen with :mod:`slimrlfn.quantize.sensitivity`), then fine-tunes weights and quantizer ranges through the fake
quantizers: L1 to the HR patch + ``distill_weight`` x L1 to the fp32 model it started from (frozen), Adam, cosine
decay, on MATLAB-bicubic patches of HR photos (:class:`slimrlfn.data.patches.PatchDataset`; batch 16 of 48x48 LR by
default). The model should be the fused (deploy) network: one 3x3 convolution per branch, as the official
checkpoints are.

The run folder (``--out``):

- ``run.json``: the settings, the fp32 model's weights digest and NNCF's config of the quantizers
  (``nncf.torch.get_config``), written before the first iteration;
- ``qat_state.pth``: the quantized model's state_dict, Adam's state, iterations and seconds done (``torch.load``
  with ``weights_only=True``), rewritten atomically every ``save_every`` iterations, so an interrupted run resumes
  from its last save (the patches of iteration ``t`` are a pure function of ``(seed, t)``, so an iteration-bounded
  run resumed gives the same weights as one straight run);
- when finished: :data:`~slimrlfn.deploy.int8.QAT_IR` (+ ``.bin``), the int8 OpenVINO IR (FakeQuantize nodes, dynamic
  H and W), and last :data:`~slimrlfn.deploy.int8.QAT_RECORD`, the record that
  ``--backend openvino_int8 --int8_model DIR`` reads.

NNCF compiles a small C++ extension on first use (30-60 s on this CPU, kept in ``~/.cache/torch_extensions``); its
load timeout is raised to 600 s here unless ``NNCF_EXTENSION_LOAD_TIMEOUT`` is set, and a build lock left by a killed
process is removed first (:func:`clear_stale_extension_locks`). One iteration of SlimRLFN at
batch 16 of 48x48 takes about 1 s on 2 threads of this CPU.
"""
from __future__ import annotations

import copy
import io
import json
import logging
import os
import sys
import tempfile
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import torch
from torch import nn

from slimrlfn.arch.checkpoints import weights_digest
from slimrlfn.arch.weights import load_weights_only
from slimrlfn.core.errors import UserError
from slimrlfn.core.files import PathLike, atomic_write_bytes, atomic_write_json, read_json
from slimrlfn.core.locks import output_lock
from slimrlfn.core.optional import require_module
from slimrlfn.core.outputs import check_output_dir
from slimrlfn.core.progress import tqdm
from slimrlfn.data.patches import PatchDataset
from slimrlfn.deploy.int8 import QAT_IR, QAT_RECORD, calibration_inputs, quantization_options
from slimrlfn.metrics.counts_cache import package_version
from slimrlfn.train.finetune import batch_of
from slimrlfn.train.loop import TrainStep
from slimrlfn.train.losses import SRLoss
from slimrlfn.train.state import cosine_factor

__all__ = ["QAT_SETTINGS", "QatSettings", "RUN_FILE", "STATE_FILE", "convolution_names", "prepare_qat", "qat_record",
           "quantize_for_qat", "run_qat"]

#: What :func:`prepare_qat` uses (recorded): post-training's settings with 8-bit weights.
QAT_SETTINGS = "preset=MIXED|model_type=TRANSFORMER|fp32=first,last conv|overflow_fix=DISABLE|then QAT"
RUN_FILE = "run.json"
STATE_FILE = "qat_state.pth"
_WHAT = "slimrlfn qat"


@dataclass(frozen=True)
class QatSettings:
    """What a QAT run does. ``iterations``: optimizer steps; ``minutes``: a wall-clock cap on the fine-tune (None:
    none; the cosine follows whichever end is nearer); ``lr``: Adam's peak learning rate (decays to 0.1 x);
    ``lr_patch``: LR patch side, pixels; ``keep_fp32``: NNCF node names of convolutions kept in fp32 besides the first
    and the last (mixed precision; :func:`convolution_names` lists them, :mod:`slimrlfn.quantize.sensitivity` ranks
    them); ``save_every``: iterations between saves (not part of the run's identity)."""

    iterations: int = 600
    minutes: Optional[float] = None
    lr: float = 5e-5
    batch_size: int = 16
    lr_patch: int = 48
    distill_weight: float = 1.0
    seed: int = 0
    save_every: int = 25
    keep_fp32: Tuple[str, ...] = ()

    def __post_init__(self) -> None:
        checks = {"iterations": self.iterations >= 1, "lr": self.lr > 0, "batch_size": self.batch_size >= 1,
                  "save_every": self.save_every >= 1, "distill_weight": self.distill_weight >= 0,
                  "minutes": self.minutes is None or self.minutes > 0}
        for name, ok in checks.items():
            if not ok:
                raise UserError(f"--{name} {getattr(self, name)}: expected a positive value")

    def identity(self) -> Dict[str, Any]:
        """The settings that decide the result (a resumed run must have the same)."""
        identity = {k: v for k, v in asdict(self).items() if k != "save_every"}
        identity["keep_fp32"] = list(self.keep_fp32)  # as JSON holds it
        if not self.keep_fp32:
            del identity["keep_fp32"]  # runs made before the option compare equal
        return identity


#: A build lock of NNCF's C++ extension older than this is a leftover of a killed process, never a build in progress
#: (the build takes 30-60 s here): PyTorch's build waits for it to go, for ever, so NNCF times out after 600 s.
STALE_LOCK_SECONDS = 20 * 60


def extension_roots() -> List[Path]:
    """The folders PyTorch builds C++ extensions under (``TORCH_EXTENSIONS_DIR``, else its per-user cache)."""
    root = os.environ.get("TORCH_EXTENSIONS_DIR")
    if root:
        return [Path(root)]
    from torch.utils.cpp_extension import get_default_build_root

    return sorted(Path(get_default_build_root()).glob("py*"))


def clear_stale_extension_locks(roots: Optional[Sequence[Path]] = None, now: Optional[float] = None,
                                stale_after: float = STALE_LOCK_SECONDS, say: Callable[[str], None] = print
                                ) -> List[Path]:
    """Remove the build locks of NNCF's extensions under ``roots`` older than ``stale_after`` seconds, saying so in
    one line each (what NNCF's own timeout message tells the user to do by hand); the removed paths.

    A process killed while PyTorch checked or built the extension leaves ``lock`` behind, and every later QAT run
    then hangs for NNCF's whole load timeout. A younger lock is left alone: it may be a build in progress."""
    now = time.time() if now is None else now
    removed = []
    for root in extension_roots() if roots is None else roots:
        for lock in sorted(Path(root).glob("nncf/*/*/lock")):
            try:
                age = now - lock.stat().st_mtime
            except OSError:
                continue
            if age < stale_after:
                continue
            try:
                lock.unlink()
            except OSError as error:
                say(f"{lock}: a stale build lock of NNCF's extension ({age / 60:.0f} min old) that could not be "
                    f"removed ({error.strerror}); remove it by hand, or QAT waits for it")
                continue
            say(f"{lock}: removed a stale build lock of NNCF's extension ({age / 60:.0f} min old, left by a killed "
                f"process)")
            removed.append(lock)
    return removed


def _nncf() -> Any:
    os.environ.setdefault("NNCF_EXTENSION_LOAD_TIMEOUT", "600")
    clear_stale_extension_locks(say=lambda line: print(line, file=sys.stderr))
    nncf = require_module("nncf", _WHAT)
    nncf.set_log_level(logging.ERROR)
    return nncf


def convolution_names(model: nn.Module, example: Optional[torch.Tensor] = None) -> List[str]:
    """NNCF's node names of ``model``'s convolutions in graph order (the names ``keep_fp32`` takes), traced on
    ``example`` (default a (1, 3, 32, 32) input)."""
    _nncf()
    from nncf.torch.function_hook.nncf_graph.nncf_graph_builder import build_nncf_graph

    example = torch.zeros(1, 3, 32, 32) if example is None else example
    graph = build_nncf_graph(copy.deepcopy(model).cpu().float().eval(), example)
    return [node.node_name for node in graph.topological_sort() if node.node_type == "conv2d"]


def quantize_for_qat(model: nn.Module, inputs: Sequence[torch.Tensor], keep_fp32: Sequence[str] = (),
                     convolutions: Optional[Sequence[str]] = None) -> nn.Module:
    """A quantized copy of ``model`` (fake quantizers inserted by ``nncf.quantize``, ranges calibrated on ``inputs``,
    (1, 3, h, w) tensors), the convolutions named in ``keep_fp32`` left in fp32 besides the first and the last;
    ``model`` is not changed. UserError naming ``--keep_fp32`` for a name that is not one of its convolutions."""
    nncf = _nncf()
    start = copy.deepcopy(model).cpu().float().eval()
    convolutions = list(convolutions) if convolutions is not None else convolution_names(start, inputs[0])
    unknown = [name for name in keep_fp32 if name not in convolutions]
    if unknown:
        raise UserError(f"--keep_fp32 {unknown[0]}: not a convolution of this model; expected one of "
                        f"{', '.join(convolutions[1:4])}, ... ({len(convolutions)} in all, `slimrlfn int8-sensitivity` "
                        f"lists them)")
    options = quantization_options(nncf, convolutions, overflow_fix=False, keep_fp32=keep_fp32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return nncf.quantize(start, nncf.Dataset(list(inputs)), subset_size=len(inputs), **options)


def prepare_qat(model: nn.Module, calibration: Optional[PathLike] = None, *, data_range: float,
                keep_fp32: Sequence[str] = ()) -> nn.Module:
    """A quantized copy of ``model`` (:func:`quantize_for_qat`) calibrated on
    :func:`~slimrlfn.deploy.int8.calibration_inputs` of ``calibration``; ``model`` is not changed."""
    inputs = [torch.from_numpy(array) for array in calibration_inputs(calibration, data_range=data_range)]
    return quantize_for_qat(model, inputs, keep_fp32)


#: What ``qat_state.pth`` holds, with the type each value must have.
_STATE_KEYS = {"model": dict, "optimizer": dict, "done": int, "seconds": float, "losses": list}


def _read_run(out: Path) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    """``run.json`` and ``qat_state.pth`` of an interrupted run, checked: a damaged or foreign one is refused in one
    line naming the file (the state is read weights-only: nothing in it runs)."""
    damaged = "; delete the folder or choose another --out"
    run = read_json(out / RUN_FILE, "QAT run record")
    if not isinstance(run, dict) or not isinstance(run.get("nncf_config"), dict):
        raise UserError(f"--out {out}: {RUN_FILE} is not a QAT run record (no nncf_config){damaged}")
    state = load_weights_only(out / STATE_FILE, "QAT state")
    wrong = [key for key, kind in _STATE_KEYS.items()
             if not isinstance(state, dict) or not isinstance(state.get(key), (kind, int) if kind is float else kind)]
    if wrong:
        raise UserError(f"--out {out}: {STATE_FILE} is not a QAT state (missing or wrong: {', '.join(wrong)})"
                        f"{damaged}")
    return run, state


def _restore(model: nn.Module, run: Dict[str, Any], state: Dict[str, Any]) -> nn.Module:
    nncf = _nncf()
    try:
        quantized = nncf.torch.load_from_config(copy.deepcopy(model).cpu().float().eval(), run["nncf_config"])
        quantized.load_state_dict(state["model"])
    except (KeyError, ValueError, TypeError, RuntimeError) as exc:
        raise UserError(f"{RUN_FILE} / {STATE_FILE}: do not fit this model ({str(exc).splitlines()[0]}); delete the "
                        f"folder or choose another --out") from None
    return quantized


def _save_state(out: Path, quantized: nn.Module, optimizer: torch.optim.Optimizer, done: int, seconds: float,
                losses: List[float]) -> None:
    buffer = io.BytesIO()
    torch.save({"model": quantized.state_dict(), "optimizer": optimizer.state_dict(), "done": done,
                "seconds": seconds, "losses": losses}, buffer)
    atomic_write_bytes(out / STATE_FILE, buffer.getvalue())


def _export(out: Path, quantized: nn.Module, data_range: float) -> None:
    ov = require_module("openvino", _WHAT)
    example = torch.linspace(0, data_range, 3 * 64 * 64).reshape(1, 3, 64, 64)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the tracer's own check: fake quantizers round differently on re-run
        ov_model = ov.convert_model(quantized.eval(), example_input=example)
    with tempfile.TemporaryDirectory(prefix=".qat-", dir=out) as staged:
        ov.save_model(ov_model, str(Path(staged) / QAT_IR), compress_to_fp16=False)
        xml = out / QAT_IR
        os.replace(Path(staged) / xml.with_suffix(".bin").name, xml.with_suffix(".bin"))  # weights first
        os.replace(Path(staged) / QAT_IR, xml)


def qat_record(out_dir: PathLike) -> Optional[Dict[str, Any]]:
    """The record of the finished run in ``out_dir``, or None when there is none."""
    path = Path(out_dir) / QAT_RECORD
    try:
        return json.loads(path.read_text()) if path.is_file() else None
    except ValueError:
        return None


def _check_resume(out: Path, run: Dict[str, Any], settings: QatSettings, digest: str) -> None:
    theirs, ours = run.get("settings", {}), settings.identity()
    differ = sorted(k for k in set(theirs) | set(ours) if theirs.get(k) != ours.get(k))
    if differ:
        raise UserError(f"--out {out}: holds a QAT run with other settings ({', '.join(differ)}); "
                        f"use another --out or the same settings to resume it")
    if run.get("source_digest") != digest:
        raise UserError(f"--out {out}: holds a QAT run of another fp32 model; use another --out")


def run_qat(model: nn.Module, hr_dirs: Sequence[PathLike], out_dir: PathLike, settings: QatSettings = QatSettings(),
            calibration: Optional[PathLike] = None, source: str = "", *, data_range: float,
            progress: bool = True, on_save: Optional[Callable[[int], None]] = None) -> Dict[str, Any]:
    """Fine-tune an int8 ``model`` (the fp32 deploy network, [0, ``data_range``] in and out, on the CPU) in
    ``out_dir``; resumes an interrupted run there; returns the record (:data:`QAT_RECORD`) of the finished run.

    ``hr_dirs``: folders of HR photos for the patches; ``calibration``: HR photos for the initial ranges (default
    the embedded sample's); ``source``: how the fp32 model was named (recorded); ``on_save(done)`` is called after
    every save. A folder that already holds the same finished run is returned as it is.
    """
    out = check_output_dir(out_dir, "--out")
    with output_lock(out, "--out"):  # a second run into the same folder is refused at once
        return _run_qat(model, hr_dirs, out, settings, calibration, source, data_range, progress, on_save)


def _run_qat(model: nn.Module, hr_dirs: Sequence[PathLike], out: Path, settings: QatSettings,
             calibration: Optional[PathLike], source: str, data_range: float, progress: bool,
             on_save: Optional[Callable[[int], None]]) -> Dict[str, Any]:
    model = copy.deepcopy(model).cpu().float().eval()
    digest = weights_digest(model)
    record = qat_record(out)
    if record is not None and record.get("settings") == settings.identity() and record.get("source_digest") == digest:
        return record
    dataset = PatchDataset(hr_dirs, lr_patch=settings.lr_patch, seed=settings.seed)  # bad data fails before any work
    run_path = out / RUN_FILE
    state: Optional[Dict[str, Any]] = None
    if run_path.is_file() and (out / STATE_FILE).is_file():
        run, state = _read_run(out)
        _check_resume(out, run, settings, digest)
        quantized = _restore(model, run, state)
    else:
        quantized = prepare_qat(model, calibration, data_range=data_range, keep_fp32=settings.keep_fp32)
        run = {"source": source, "source_digest": digest, "settings": settings.identity(),
               "quantization": QAT_SETTINGS + (f"|fp32 also: {','.join(settings.keep_fp32)}" if settings.keep_fp32
                                               else ""), "calibration": str(calibration or "embedded sample photos"),
               "nncf_config": _nncf().torch.get_config(quantized),
               "versions": {p: package_version(p) for p in ("torch", "nncf", "openvino")}}
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_json(run_path, run)
    teacher = model.requires_grad_(False)
    loss_fn = SRLoss("l1", "l1", settings.distill_weight, data_range=data_range)
    trainable = [p for p in quantized.parameters() if p.is_floating_point()]
    for param in trainable:
        param.requires_grad_(True)
    optimizer = torch.optim.Adam(trainable, lr=settings.lr, betas=(0.9, 0.99))
    done, seconds, losses = 0, 0.0, []
    if state is not None:
        try:
            optimizer.load_state_dict(state["optimizer"])
        except (KeyError, ValueError, TypeError) as exc:
            raise UserError(f"--out {out}: {STATE_FILE} does not fit this run's optimizer ({exc}); delete the folder "
                            f"or choose another --out") from None
        done, seconds, losses = int(state["done"]), float(state["seconds"]), list(state["losses"])
    step = TrainStep(quantized, optimizer, loss_fn, torch.device("cpu"),
                     teacher=teacher if settings.distill_weight else None)
    budget = settings.minutes * 60.0 if settings.minutes is not None else None
    quantized.train()
    begin = time.perf_counter() - seconds
    bar = tqdm(total=settings.iterations, initial=done, desc="QAT", unit="it", leave=False, disable=not progress)
    try:
        while done < settings.iterations:
            seconds = time.perf_counter() - begin
            if budget is not None and seconds >= budget:
                break
            frac = max(done / settings.iterations, seconds / budget if budget else 0.0)
            for group in optimizer.param_groups:
                group["lr"] = settings.lr * cosine_factor(frac, 0.1)
            first = done * settings.batch_size
            terms = step(*batch_of(dataset, first, settings.batch_size, torch.device("cpu"), data_range))
            losses.append(float(terms["total"]))
            done += 1
            bar.update(1)
            if done % settings.save_every == 0 or done == settings.iterations:
                _save_state(out, quantized, optimizer, done, time.perf_counter() - begin, losses)
                if on_save is not None:
                    on_save(done)
    finally:
        bar.close()
    seconds = time.perf_counter() - begin
    _save_state(out, quantized, optimizer, done, seconds, losses)
    _export(out, quantized, data_range)
    tail = losses[-max(1, len(losses) // 10):]
    record = {**{k: run[k] for k in ("source", "source_digest", "settings", "quantization", "calibration", "versions")},
              "iterations": done, "seconds": seconds, "loss_first": losses[0] if losses else None,
              "loss_last": sum(tail) / len(tail) if tail else None, "threads": torch.get_num_threads()}
    atomic_write_json(out / QAT_RECORD, record)
    return record
