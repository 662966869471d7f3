"""int8 on the CPU: NNCF post-training quantization of a model's OpenVINO graph, behind a PSNR gate.

The ``openvino_int8`` backend (:mod:`slimrlfn.deploy.backends`) is this module: the model's ONNX export
(:mod:`slimrlfn.deploy.export_cache`) is read by OpenVINO and quantized by ``nncf.quantize`` with the settings that
lost least on this project's CPU (``../shared/INT8.md`` and the sweep of issue 16):

- preset ``MIXED`` (symmetric weights, asymmetric activations), ``model_type=TRANSFORMER`` (which keeps NNCF off the
  inputs of the ESA's sigmoid x features multiply: quantizing them cost 7-8 dB on Set5);
- the first and the last convolution kept in fp32 (they see the [0, 255] image and make the SR);
- ``overflow_fix=ENABLE`` (7-bit weights: an AVX2 CPU without VNNI saturates int16 sums of 8-bit products; on this
  CPU it lost 0.53 dB on SlimRLFN / Set5 against 0.75 dB without).

Calibration: LR images made from HR photos (mod-cropped, MATLAB bicubic / scale) and their mirror images; default the
embedded sample's six photos, or every image of a folder (``--int8_calibration``). The quantized graph is kept in
``$SLIMRLFN_CACHE_DIR/int8`` (OpenVINO IR, written atomically), keyed by the export's digest, the calibration images,
the settings and the nncf / openvino versions; quantizing takes 5-10 s here, reading it back a fraction of a second.

int8 is lossy, so it is not held to the 1e-3 exactness gate of the exported paths but to a PSNR gate:
:func:`psnr_drop` measures the mean RGB PSNR (SR rounded to uint8, border = scale) of eager fp32 minus that of the
int8 path on check pairs, and :func:`refuse_if_drop_exceeds` refuses with the measured drop above the gate (default
:data:`DEFAULT_MAX_DROP_DB` = 0.05 dB). Post-training quantization alone measured drops of 0.3-0.8 dB on the official
models, so at the default gate it is refused; a larger gate (``--int8_max_drop 1``) accepts it knowingly.

Quantization-aware fine-tuning (``slimrlfn qat``, :mod:`slimrlfn.quantize`) is the other source of the int8 graph:
its folder (``--int8_model``) holds the OpenVINO IR it exported (:data:`QAT_IR`) and a record (:data:`QAT_RECORD`)
naming the weights digest of the fp32 model it started from; :func:`qat_model` reads that IR instead of quantizing,
after checking that the model being evaluated is that fp32 model, so that the gate measures the drop against it.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence

import numpy as np
import torch
from torch import nn

from slimrlfn.arch.checkpoints import weights_digest
from slimrlfn.core.errors import UserError
from slimrlfn.core.files import PathLike, cache_root
from slimrlfn.core.optional import require_module
from slimrlfn.data.bicubic import imresize_matlab
from slimrlfn.data.images import list_images, modcrop, read_image
from slimrlfn.data.sample import sample_photos
from slimrlfn.arch.contract import tensor_to_uint8, uint8_to_tensor
from slimrlfn.metrics.counts_cache import package_version
from slimrlfn.metrics.quality import psnr

__all__ = ["DEFAULT_MAX_DROP_DB", "QAT_IR", "QAT_RECORD", "QUANTIZATION_SETTINGS", "calibration_inputs", "psnr_drop",
           "qat_model", "quantization_options", "quantize_openvino", "quantized_model", "refuse_if_drop_exceeds"]

#: The default PSNR gate of the int8 path: largest accepted drop against eager fp32, dB.
DEFAULT_MAX_DROP_DB = 0.05
#: What :func:`quantize_openvino` uses (part of the cache key).
QUANTIZATION_SETTINGS = "preset=MIXED|model_type=TRANSFORMER|fp32=first,last conv|overflow_fix=ENABLE"
_MIN_SIDE = 32  # LR pixels: smaller calibration images are skipped
#: The int8 OpenVINO IR in a QAT folder (with its ``.bin``), and the record written after it.
QAT_IR = "model_int8.xml"
QAT_RECORD = "int8.json"


def calibration_inputs(folder: Optional[PathLike] = None, *, data_range: float, scale: int = 4,
                       limit: int = 32) -> List[np.ndarray]:
    """Calibration inputs: (1, 3, h, w) float32 arrays in [0, ``data_range``], LR made from HR photos by MATLAB bicubic
    / ``scale``, each followed by its mirror image; at most ``limit`` in all.

    ``folder``: a folder of HR images (any size; those under 32 LR pixels a side are skipped), default the embedded
    sample's six photos. UserError naming the folder when it holds no usable image.
    """
    if folder is not None:
        paths = list_images(folder) if Path(folder).is_dir() else []
        if not paths:
            raise UserError(f"--int8_calibration {folder}: expected a folder of HR images")
        photos = [(p.stem, read_image(p)) for p in paths[: max(1, limit // 2)]]
    else:
        photos = sample_photos()
    inputs = []
    for _, hr in photos:
        hr = modcrop(hr, scale)
        if min(hr.shape[:2]) // scale < _MIN_SIDE:
            continue
        lr = uint8_to_tensor(imresize_matlab(hr, 1.0 / scale), torch.device("cpu"), data_range).numpy()
        inputs += [lr, np.ascontiguousarray(lr[..., ::-1])]
    if not inputs:
        raise UserError(f"--int8_calibration {folder}: no image of at least {_MIN_SIDE * scale}x{_MIN_SIDE * scale} "
                        f"pixels; expected HR photos")
    return inputs[:limit]


def quantization_options(nncf: Any, convolutions: Sequence[str], overflow_fix: bool = True,
                         keep_fp32: Sequence[str] = ()) -> Dict[str, Any]:
    """The keyword arguments of ``nncf.quantize`` for :data:`QUANTIZATION_SETTINGS`, given the node names of the
    model's convolutions in graph order (the first and the last are kept in fp32, and any of ``keep_fp32``: mixed
    precision, :mod:`slimrlfn.quantize.sensitivity`). The same for the OpenVINO graph (post-training) and the PyTorch
    model (:mod:`slimrlfn.quantize`, quantization-aware, which keeps 8-bit weights: ``overflow_fix=False``, measured
    0.32 against 0.57 dB lost on Set5 by SlimRLFN's starting point)."""
    keep = [convolutions[0], convolutions[-1]] if convolutions else []
    keep += [name for name in keep_fp32 if name not in keep]
    fix = nncf.OverflowFix.ENABLE if overflow_fix else nncf.OverflowFix.DISABLE
    return {"preset": nncf.QuantizationPreset.MIXED, "model_type": nncf.ModelType.TRANSFORMER,
            "ignored_scope": nncf.IgnoredScope(names=keep),
            "advanced_parameters": nncf.AdvancedQuantizationParameters(overflow_fix=fix)}


def quantize_openvino(ov_model: Any, inputs: Sequence[np.ndarray]) -> Any:
    """``nncf.quantize`` of an OpenVINO model (input 0: (1, 3, H, W) float32) on ``inputs``, with
    :data:`QUANTIZATION_SETTINGS`; returns the quantized OpenVINO model."""
    nncf = require_module("nncf", "--backend openvino_int8")
    import logging

    nncf.set_log_level(logging.ERROR)
    convs = [op.get_friendly_name() for op in ov_model.get_ordered_ops() if op.get_type_name() == "Convolution"]
    return nncf.quantize(ov_model, nncf.Dataset(list(inputs)), subset_size=len(inputs),
                         **quantization_options(nncf, convs))


def qat_model(core: Any, folder: PathLike, model: nn.Module) -> tuple:
    """The int8 OpenVINO model a finished ``slimrlfn qat`` run wrote to ``folder``: ``(model, details)``.

    UserError (one line, naming ``--int8_model``) when the folder holds no finished run, or when ``model`` is not
    the fp32 model that run started from (another weights digest): the gate's drop is measured against ``model``.
    """
    folder = Path(folder)
    record_path, xml = folder / QAT_RECORD, folder / QAT_IR
    if not (record_path.is_file() and xml.is_file() and xml.with_suffix(".bin").is_file()):
        raise UserError(f"--int8_model {folder}: expected the folder of a finished `slimrlfn qat` run "
                        f"({QAT_RECORD}, {QAT_IR} and its .bin)")
    try:
        record = json.loads(record_path.read_text())
        source = record["source_digest"]
    except (ValueError, KeyError, TypeError):
        raise UserError(f"--int8_model {record_path}: not a QAT record (expected JSON with source_digest)") from None
    digest = weights_digest(model)
    if digest != source:
        raise UserError(f"--int8_model {folder}: made from another fp32 model (weights {source[:12]}, this model "
                        f"{digest[:12]}); pass the model that `slimrlfn qat` started from")
    try:
        ov_model = core.read_model(str(xml))
    except Exception as exc:
        first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise UserError(f"--int8_model {xml}: OpenVINO cannot read it ({first})") from None
    return ov_model, {"int8_model": str(folder), "quantization": f"QAT: {record.get('quantization', '')}",
                      "qat_iterations": record.get("iterations"), "int8_cache": "qat"}


def _calibration_identity(folder: Optional[PathLike]) -> str:
    if folder is None:
        return f"embedded sample photos|scikit-image={package_version('scikit-image')}"
    digest = hashlib.sha256()
    for path in list_images(folder) if Path(folder).is_dir() else []:
        digest.update(path.name.encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _key(onnx_path: Path, calibration: Optional[PathLike], data_range: float) -> str:
    digest = hashlib.sha256(Path(onnx_path).read_bytes())
    digest.update("|".join([QUANTIZATION_SETTINGS, _calibration_identity(calibration), repr(data_range),
                            *(f"{p}={package_version(p)}" for p in ("nncf", "openvino"))]).encode())
    return digest.hexdigest()


def quantized_model(core: Any, onnx_path: PathLike, calibration: Optional[PathLike] = None, *, data_range: float,
                    folder: Optional[PathLike] = None) -> tuple:
    """The quantized OpenVINO model of ``onnx_path``, calibrated on :func:`calibration_inputs` of ``calibration``:
    ``(model, details)``, from the int8 cache when the same export was quantized on the same calibration images
    before (``details``: ``int8_cache`` hit/miss/off, ``quantize_s``, ``calibration``)."""
    ov = require_module("openvino", "--backend openvino_int8")
    folder = Path(folder) if folder is not None else cache_root() / "int8"
    xml = folder / f"{_key(Path(onnx_path), calibration, data_range)}.xml"
    details: Dict[str, Any] = {"calibration": "embedded sample photos" if calibration is None else str(calibration),
                               "quantization": QUANTIZATION_SETTINGS}
    if xml.is_file() and xml.with_suffix(".bin").is_file():
        try:
            return core.read_model(str(xml)), {**details, "int8_cache": "hit", "quantize_s": 0.0}
        except Exception:
            pass  # quantized again below
    begin = time.perf_counter()
    inputs = calibration_inputs(calibration, data_range=data_range)
    quantized = quantize_openvino(core.read_model(str(onnx_path)), inputs)
    details.update(quantize_s=time.perf_counter() - begin, calibration_inputs=len(inputs))
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".int8-", dir=folder) as staged:
            ov.save_model(quantized, str(Path(staged) / "model.xml"), compress_to_fp16=False)
            os.replace(Path(staged) / "model.bin", xml.with_suffix(".bin"))  # the weights first, then the graph
            os.replace(Path(staged) / "model.xml", xml)
        details["int8_cache"] = "miss"
    except OSError:
        details["int8_cache"] = "off"
    return quantized, details


def psnr_drop(run: Callable[[torch.Tensor], torch.Tensor], model: nn.Module, pairs: Sequence[Dict[str, Any]],
              device: torch.device, data_range: float) -> Dict[str, float]:
    """Mean RGB PSNR (dB; SR clamped and rounded to uint8, border = scale, HR mod-cropped) of eager fp32 ``model`` and
    of ``run`` on ``pairs`` (``[{lr, hr}]``, RGB uint8): ``{fp32_db, int8_db, drop_db, images}``; drop = fp32 - int8."""
    if not pairs:
        raise UserError("int8 check: no check images (expected LR/HR pairs)")
    fp32, int8 = [], []
    with torch.no_grad():
        for pair in pairs:
            lr = uint8_to_tensor(pair["lr"], device, data_range)
            reference = model(lr)
            scale = reference.shape[-1] // lr.shape[-1]
            hr = modcrop(pair["hr"], scale)
            fp32.append(psnr(tensor_to_uint8(reference, data_range), hr, border=scale))
            int8.append(psnr(tensor_to_uint8(run(lr), data_range), hr, border=scale))
    return {"fp32_db": float(np.mean(fp32)), "int8_db": float(np.mean(int8)),
            "drop_db": float(np.mean(fp32) - np.mean(int8)), "images": len(pairs)}


def refuse_if_drop_exceeds(drop: Dict[str, float], max_drop_db: Optional[float] = None, name: str = "openvino_int8") -> None:
    """One-line UserError when the measured drop exceeds the gate (default :data:`DEFAULT_MAX_DROP_DB`)."""
    gate = DEFAULT_MAX_DROP_DB if max_drop_db is None else max_drop_db
    if drop["drop_db"] > gate:
        raise UserError(f"--backend {name}: refused: PSNR drop {drop['drop_db']:.3f} dB against eager fp32 "
                        f"({drop['fp32_db']:.3f} -> {drop['int8_db']:.3f} dB on {drop['images']} check images) exceeds "
                        f"the gate of {gate:g} dB (--int8_max_drop)")
