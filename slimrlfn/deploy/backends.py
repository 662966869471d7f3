"""Inference paths ("backends") for any workbook model: the same SR, computed different ways.

Every backend is a callable ``(1, 3, H, W) float32 in [0, 255] on the device -> (1, 3, sH, sW)
float32`` (fp16 computes in half precision and returns float32). Built with :func:`build_backend`,
which also measures the set-up time (export, compile, graph build) and, on an example image, the
largest absolute difference to eager fp32 on the [0, 255] output.

=================  ======  =================================================================
name               device  what it is
=================  ======  =================================================================
``eager``          any     the model as it is (what NTIRE's test_demo.py runs)
``channels_last``  any     NHWC memory layout for weights and input
``compile``        any     ``torch.compile`` (inductor, weights frozen), channels_last
``onnxruntime``    CPU     ONNX export (opset 17, dynamic H/W) run by ONNX Runtime
``openvino``       CPU     the same ONNX export run by OpenVINO (fp32 precision hint)
``openvino_int8``  CPU     that OpenVINO graph quantized to int8 by NNCF (lossy: a PSNR gate, see deploy.int8)
``fp16``           CUDA    half precision (not exact: its difference is reported, not refused)
``cuda_graphs``    CUDA    one captured CUDA graph per input shape
``tensorrt``       CUDA    torch_tensorrt, fp32 (only when it is installed)
``auto``           any     the default: the fastest exact path this device has (see below)
=================  ======  =================================================================

The facts of each path (device, the packages it needs, whether it is checked against eager) are
one :class:`BackendSpec` in :data:`REGISTRY`, registered with its builder by :func:`register`.
``auto`` picks ``openvino`` on CPU when the ``openvino`` package is installed (the ``deploy``
extra; the fastest exact CPU path in ``bench/deploy/backends.py``), ``channels_last`` otherwise or when the run is
known to be small (under :data:`AUTO_OPENVINO_MIN_LR_PIXELS` LR pixels in all: OpenVINO's import and set-up
would not be paid back), and ``eager`` on CUDA (no GPU comparison has been run by the workbook yet, so it keeps the
challenge's path). Exported and compiled paths (``compile``, ``onnxruntime``, ``openvino``,
``tensorrt``) are refused with one line when their difference to eager exceeds ``tolerance``.
The ONNX-based paths use as many threads as PyTorch (``torch.get_num_threads()``); their export is kept by
:mod:`slimrlfn.deploy.export_cache` (keyed by architecture, weights and code), and OpenVINO keeps its compiled
model in ``$SLIMRLFN_CACHE_DIR/openvino`` (:mod:`slimrlfn.deploy.openvino_runtime`), so a second run of the same model skips both (``details``:
``export_cache`` hit/miss/off).
"""
from __future__ import annotations

import copy
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import torch
from torch import nn

from slimrlfn.arch.rlfn import MIN_INPUT_SIZE
from slimrlfn.core.errors import UserError
from slimrlfn.core.optional import is_installed, require_installed, require_module
from slimrlfn.core.signal_stack import keep_signal_stack
from slimrlfn.data.sample import example_images
from slimrlfn.arch.contract import uint8_to_tensor
from slimrlfn.deploy.export_cache import cached_onnx, load_cached_onnx
from slimrlfn.deploy.int8 import psnr_drop, qat_model, quantized_model, refuse_if_drop_exceeds
from slimrlfn.deploy.onnx import DEFAULT_TOLERANCE, max_abs_difference
from slimrlfn.deploy.openvino_runtime import openvino_core, openvino_run, openvino_settings

__all__ = ["BACKENDS", "CPU_ONLY", "CUDA_ONLY", "EXACT_CHECKED", "PSNR_GATED", "REGISTRY", "Backend", "BackendSpec",
           "available_backends", "build_backend", "difference_to_eager", "refuse_if_inexact", "register",
           "resolve_backend"]

#: A builder: (model copy on the device, device, scratch folder, example input or None, the model's data range)
#: -> the path's callable.
Builder = Callable[[nn.Module, torch.device, Path, Optional[torch.Tensor], float],
                   Callable[[torch.Tensor], torch.Tensor]]


@dataclass(frozen=True)
class BackendSpec:
    """The facts of one inference path.

    ``device``: ``any``, ``cpu`` or ``cuda``; ``packages``: optional packages it needs (checked in
    order); ``onnx_export``: it runs the ONNX export (needs ``onnx``, uses torch's thread count);
    ``exact_checked``: exported or compiled, so it is run once in the set-up and refused when it is
    off eager by more than the tolerance; ``needs_example``: its builder needs an example input;
    ``psnr_gated``: lossy (int8), so held to a PSNR drop on check pairs instead (its builder takes ``calibration``
    and ``int8_model``, the folder of a ``slimrlfn qat`` run whose IR replaces post-training quantization).
    """

    name: str
    build: Builder
    device: str = "any"
    packages: Tuple[str, ...] = ()
    onnx_export: bool = False
    exact_checked: bool = False
    needs_example: bool = False
    psnr_gated: bool = False


#: name -> spec, in the order of the table in the module docstring.
REGISTRY: Dict[str, BackendSpec] = {}


def register(name: str, device: str = "any", packages: Tuple[str, ...] = (), onnx_export: bool = False,
             exact_checked: bool = False, needs_example: bool = False,
             psnr_gated: bool = False) -> Callable[[Builder], Builder]:
    """Decorator: register a builder as backend ``name`` with its facts (see :class:`BackendSpec`)."""
    def decorator(builder: Builder) -> Builder:
        REGISTRY[name] = BackendSpec(name, builder, device, packages, onnx_export, exact_checked, needs_example,
                                     psnr_gated)
        return builder
    return decorator


@dataclass
class Backend:
    """A ready inference path. ``setup_s``: export/compile/build seconds; ``max_abs_diff``: to eager fp32."""

    name: str
    requested: str
    device: torch.device
    run: Callable[[torch.Tensor], torch.Tensor]
    setup_s: float = 0.0
    max_abs_diff: Optional[float] = None
    details: Dict[str, Any] = field(default_factory=dict)

    def __call__(self, lr: torch.Tensor) -> torch.Tensor:
        return self.run(lr)

    def describe(self) -> Dict[str, Any]:
        """JSON-ready summary recorded beside every measurement."""
        return {"backend": self.name, "requested": self.requested, "setup_s": self.setup_s,
                "max_abs_diff_to_eager": self.max_abs_diff, **self.details}


# --------------------------------------------------------------------------- the paths


@register("eager")
def _build_eager(model: nn.Module, device: torch.device, workdir: Path,
                 example: Optional[torch.Tensor], data_range: float) -> Callable:
    return model


@register("channels_last")
def _build_channels_last(model: nn.Module, device: torch.device, workdir: Path,
                         example: Optional[torch.Tensor], data_range: float) -> Callable:
    model = model.to(memory_format=torch.channels_last)
    return lambda x: model(x.contiguous(memory_format=torch.channels_last))


@register("compile", exact_checked=True)
def _build_compile(model: nn.Module, device: torch.device, workdir: Path,
                   example: Optional[torch.Tensor], data_range: float) -> Callable:
    import torch._inductor.config as inductor_config  # heavy: only when this path is built

    model = model.to(memory_format=torch.channels_last)
    compiled = torch.compile(model)

    def run(x: torch.Tensor) -> torch.Tensor:
        with inductor_config.patch(freezing=True):
            return compiled(x.contiguous(memory_format=torch.channels_last))
    return run


@register("onnxruntime", device="cpu", packages=("onnxruntime",), onnx_export=True, exact_checked=True)
def _build_onnxruntime(model: nn.Module, device: torch.device, workdir: Path,
                       example: Optional[torch.Tensor], data_range: float) -> Callable:
    ort = require_module("onnxruntime", "--backend onnxruntime")
    options = ort.SessionOptions()
    options.intra_op_num_threads = torch.get_num_threads()
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # idle worker threads must not spin after a call: they would take the cores from whatever runs next
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session, cache_state = load_cached_onnx(
        model, workdir, lambda path: ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"]),
        data_range=data_range)

    def run(x: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(session.run(None, {"lr": x.detach().cpu().numpy()})[0])
    run.details = {"export_cache": cache_state}
    return run


@register("openvino", device="cpu", packages=("openvino",), onnx_export=True, exact_checked=True)
def _build_openvino(model: nn.Module, device: torch.device, workdir: Path,
                    example: Optional[torch.Tensor], data_range: float) -> Callable:
    core, compiled_cache = openvino_core("--backend openvino")
    with keep_signal_stack():
        compiled, cache_state = load_cached_onnx(
            model, workdir, lambda path: core.compile_model(str(path), "CPU", openvino_settings()),
            data_range=data_range)
    run = openvino_run(compiled)
    run.details = {"export_cache": cache_state, "compiled_cache": compiled_cache is not None}
    return run


@register("openvino_int8", device="cpu", packages=("openvino", "nncf"), onnx_export=True, psnr_gated=True)
def _build_openvino_int8(model: nn.Module, device: torch.device, workdir: Path, example: Optional[torch.Tensor],
                         data_range: float, calibration: Optional[str] = None,
                         int8_model: Optional[str] = None) -> Callable:
    core, _ = openvino_core("--backend openvino_int8")
    if int8_model is not None:  # the IR of a quantization-aware fine-tune (slimrlfn qat)
        quantized, details = qat_model(core, int8_model, model)
        cache_state = "not used"
    else:
        onnx_path, cache_state = cached_onnx(model, workdir, data_range=data_range)
        quantized, details = quantized_model(core, onnx_path, calibration, data_range=data_range)
    with keep_signal_stack():
        compiled = core.compile_model(quantized, "CPU", openvino_settings())
    run = openvino_run(compiled)
    run.details = {"export_cache": cache_state, **details}
    return run


@register("fp16", device="cuda")
def _build_fp16(model: nn.Module, device: torch.device, workdir: Path,
                example: Optional[torch.Tensor], data_range: float) -> Callable:
    model = model.half()
    return lambda x: model(x.half()).float()


@register("cuda_graphs", device="cuda")
def _build_cuda_graphs(model: nn.Module, device: torch.device, workdir: Path,
                       example: Optional[torch.Tensor], data_range: float) -> Callable:
    graphs: Dict[tuple, tuple] = {}
    pool = torch.cuda.graph_pool_handle()  # one memory pool for the graphs of every shape

    def run(x: torch.Tensor) -> torch.Tensor:
        key = tuple(x.shape)
        if key not in graphs:  # a new shape: warm-up and capture happen in this call
            static_in = x.clone()
            stream = torch.cuda.Stream(device)
            stream.wait_stream(torch.cuda.current_stream(device))
            with torch.cuda.stream(stream):
                for _ in range(2):  # warm-up on a side stream, as torch.cuda.graphs documents
                    model(static_in)
            torch.cuda.current_stream(device).wait_stream(stream)
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph, pool=pool):
                static_out = model(static_in)
            graphs[key] = (graph, static_in, static_out)
        graph, static_in, static_out = graphs[key]
        static_in.copy_(x)
        graph.replay()
        return static_out.clone()
    return run


@register("tensorrt", device="cuda", packages=("torch_tensorrt",), exact_checked=True, needs_example=True)
def _build_tensorrt(model: nn.Module, device: torch.device, workdir: Path,
                    example: Optional[torch.Tensor], data_range: float) -> Callable:
    trt = require_module("torch_tensorrt", "--backend tensorrt")
    h, w = example.shape[-2:]
    shape = trt.Input(min_shape=(1, 3, MIN_INPUT_SIZE, MIN_INPUT_SIZE), opt_shape=tuple(example.shape),
                      max_shape=(1, 3, max(2048, h), max(2048, w)), dtype=torch.float32)
    return trt.compile(model, ir="dynamo", inputs=[shape], enabled_precisions={torch.float32}, disable_tf32=True)


#: Every name ``--backend`` takes: ``auto``, then the registered paths.
BACKENDS: Tuple[str, ...] = ("auto", *REGISTRY)
CUDA_ONLY: Tuple[str, ...] = tuple(n for n, s in REGISTRY.items() if s.device == "cuda")
CPU_ONLY: Tuple[str, ...] = tuple(n for n, s in REGISTRY.items() if s.device == "cpu")
PSNR_GATED: Tuple[str, ...] = tuple(n for n, s in REGISTRY.items() if s.psnr_gated)
EXACT_CHECKED: Tuple[str, ...] = tuple(n for n, s in REGISTRY.items() if s.exact_checked)


# --------------------------------------------------------------------------- choosing and building


def _runs_on(spec: BackendSpec, device: torch.device) -> bool:
    return spec.device == "any" or spec.device == device.type


def available_backends(device: torch.device, lossy: bool = False) -> List[str]:
    """Backends that can run on ``device`` with the packages installed here (``auto`` excluded); the lossy
    (``PSNR_GATED``: int8) paths only with ``lossy``, so that comparisons of the same SR (``slimrlfn backends``
    without ``--backends``) stay exact: ask for ``openvino_int8`` by name (or ``bench/deploy/int8_report.py``)."""
    return [name for name, spec in REGISTRY.items()
            if _runs_on(spec, device) and all(is_installed(p) for p in spec.packages)
            and (not spec.onnx_export or is_installed("onnx")) and (lossy or not spec.psnr_gated)]


#: ``auto`` on a CPU takes OpenVINO only for runs of at least this many LR pixels (all images together; about 23
#: DIV2K-sized LR images of 510x339). Measured on this project's 2-core CPU (bench/timing/vs_test_demo.py): OpenVINO's
#: import, compile (from its cache) and check cost 0.6-1.0 s a process, and it ran SlimRLFN's forwards 0-18% faster
#: than channels_last; a whole ``slimrlfn eval`` of 10 such images took 15.4-15.5 s with OpenVINO, 14.6-14.9 s with
#: channels_last.
AUTO_OPENVINO_MIN_LR_PIXELS = 4_000_000


def resolve_backend(name: str, device: torch.device, lr_pixels: Optional[int] = None) -> str:
    """``auto`` -> the concrete default for ``device``; UserError for unknown or impossible choices.

    ``lr_pixels``: the LR pixels of the whole run, when known (``slimrlfn eval`` reads them from the image headers);
    ``auto`` on a CPU is ``channels_last`` below :data:`AUTO_OPENVINO_MIN_LR_PIXELS` (no set-up to pay back),
    OpenVINO at or above it or when unknown (when installed).
    """
    if name not in BACKENDS:
        raise UserError(f"--backend {name!r}: expected one of {', '.join(BACKENDS)}")
    if name == "auto":
        if device.type == "cuda":
            return "eager"
        if lr_pixels is not None and lr_pixels < AUTO_OPENVINO_MIN_LR_PIXELS:
            return "channels_last"
        return "openvino" if is_installed("openvino") and is_installed("onnx") else "channels_last"
    spec = REGISTRY[name]
    if spec.device == "cuda" and device.type != "cuda":
        raise UserError(f"--backend {name}: needs a CUDA device, but the device is {device}")
    if spec.device == "cpu" and device.type != "cpu":
        raise UserError(f"--backend {name}: runs on the CPU only (device is {device}); use --device cpu")
    for package in spec.packages:  # found, not imported: the builder imports what it uses
        require_installed(package, f"--backend {name}")
    if spec.onnx_export:
        require_installed("onnx", f"--backend {name} (the ONNX export)")
    return name


def difference_to_eager(backend: Backend, model: nn.Module, example: torch.Tensor, data_range: float,
                        output: Optional[torch.Tensor] = None) -> float:
    """Largest |backend(example) - eager fp32 model(example)|, in [0, 255] units of the output (the model's
    [0, ``data_range``] output scaled by 255 / ``data_range``); ``output``: the backend's, when already computed."""
    eager = copy.deepcopy(model).to(backend.device).float().eval()
    with torch.no_grad():
        reference = eager(example.to(backend.device))
        if output is None:
            output = backend(example.to(backend.device))
    return max_abs_difference(output, reference) * 255.0 / data_range


def refuse_if_inexact(backend: Backend, tolerance: Optional[float] = None) -> None:
    """UserError (one line) when an exported/compiled backend's measured difference exceeds ``tolerance``."""
    tolerance = DEFAULT_TOLERANCE if tolerance is None else tolerance
    if REGISTRY[backend.name].exact_checked and backend.max_abs_diff is not None and backend.max_abs_diff > tolerance:
        raise UserError(f"--backend {backend.name}: not exact, refused: max abs difference to eager "
                        f"{backend.max_abs_diff:.3g} on the [0, 255] output (tolerance {tolerance:g})")


def build_backend(name: str, model: nn.Module, device: torch.device, example: Optional[torch.Tensor] = None,
                  tolerance: Optional[float] = None, check: bool = True, measure_all: bool = False,
                  *, data_range: float, lr_pixels: Optional[int] = None,
                  check_pairs: Optional[List[Dict[str, Any]]] = None, max_psnr_drop_db: Optional[float] = None,
                  calibration: Optional[str] = None, int8_model: Optional[str] = None) -> Backend:
    """Build backend ``name`` (or ``auto``) for a copy of ``model`` on ``device`` (the model is not changed).

    ``setup_s`` is the export/compile/build time. With ``check``, an exported or compiled path
    (``EXACT_CHECKED``) is run once on ``example`` -- a real (1, 3, H, W) float32 [0, 255] LR image;
    default :func:`slimrlfn.data.sample.example_images`' first -- inside the set-up (so lazy compilation
    is part of ``setup_s``), compared with eager, and refused with a one-line UserError when it is off by
    more than ``tolerance`` (default :data:`slimrlfn.deploy.onnx.DEFAULT_TOLERANCE`). Other paths are not
    run here, so that their first call stays cold, unless ``measure_all`` (the benchmark) asks for
    the difference of every path. The model takes and gives values in [0, ``data_range``]; differences
    are in [0, 255] units. ``auto`` whose path cannot export the model, or runs it off by more than the
    tolerance, falls back to ``eager`` (``details["auto_fallback"]`` says why).
    """
    resolved = resolve_backend(name, device, lr_pixels)
    if name == "auto" and resolved != "eager":
        try:
            backend = _build(resolved, name, model, device, example, tolerance, True, measure_all, data_range, {})
            if lr_pixels is not None:
                backend.details["auto_lr_pixels"] = int(lr_pixels)
            return backend
        except Exception as exc:  # a model the default path cannot export or runs inexactly: eager is exact
            backend = _build("eager", name, model, device, example, tolerance, check, measure_all, data_range, {})
            reason = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
            backend.details["auto_fallback"] = f"{resolved}: {reason}"
            return backend
    gate = {"check_pairs": check_pairs, "max_psnr_drop_db": max_psnr_drop_db, "calibration": calibration,
            "int8_model": int8_model}
    return _build(resolved, name, model, device, example, tolerance, check, measure_all, data_range, gate)


def _build(resolved: str, name: str, model: nn.Module, device: torch.device, example: Optional[torch.Tensor],
           tolerance: Optional[float], check: bool, measure_all: bool, data_range: float,
           gate: Dict[str, Any]) -> Backend:
    spec = REGISTRY[resolved]
    eager_model = model
    model = copy.deepcopy(model).to(device).float().eval()
    for param in model.parameters():
        param.requires_grad_(False)
    run_example = (check and spec.exact_checked) or measure_all
    if example is None and (run_example or spec.needs_example):
        example = uint8_to_tensor(example_images(limit=1)[0]["lr"], device, data_range)
    begin = time.perf_counter()
    details: Dict[str, Any] = {"threads": torch.get_num_threads()} if spec.onnx_export else {}
    with torch.no_grad(), tempfile.TemporaryDirectory(prefix="slimrlfn-backend-") as workdir:
        options = {key: gate.get(key) for key in ("calibration", "int8_model")} if spec.psnr_gated else {}
        run = spec.build(model, device, Path(workdir), None if example is None else example.to(device), data_range,
                         **options)
        details.update(getattr(run, "details", {}))
        backend = Backend(resolved, name, device, torch.no_grad()(run), 0.0, None, details)
        first_output = None
        if run_example and spec.exact_checked:
            first_output = backend(example.to(device))  # lazy compilation belongs to the set-up
            if device.type == "cuda":
                torch.cuda.synchronize(device)
    backend.setup_s = time.perf_counter() - begin
    if run_example:
        backend.max_abs_diff = difference_to_eager(backend, eager_model, example, data_range, first_output)
    if spec.psnr_gated and (check or measure_all):
        pairs = gate.get("check_pairs") or example_images(limit=2)
        backend.details["psnr_check"] = psnr_drop(backend, eager_model, pairs, device, data_range)
        if check:
            refuse_if_drop_exceeds(backend.details["psnr_check"], gate.get("max_psnr_drop_db"), resolved)
    if check:
        refuse_if_inexact(backend, tolerance)
    return backend
