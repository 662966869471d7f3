"""The factsheet's numbers, gathered from what notebooks 01-04 wrote to the results folder.

The NTIRE 2024 Efficient SR factsheet (Ren et al., "The Ninth NTIRE 2024 Efficient Super-Resolution
Challenge Report", CVPRW 2024) asks per model for PSNR on the validation and test sets, runtime,
parameters, FLOPs, activations, memory and the number of Conv2d layers; the main-track score is
:func:`slimrlfn.metrics.score.ntire_score`, relative to RLFN, with the weights of the year record
:data:`slimrlfn.metrics.score.SCORE_YEAR` (:mod:`slimrlfn.metrics.years`). Nothing is measured here: every value is
read from a results file, and a value that no file holds is ``None`` with the reason why (never a
made-up number). Timings and memory carry the device they were measured on.

Inputs (under ``results_dir``), each written by one notebook:

- ``01_model_definition.json``: params, FLOPs, activations, Conv2d count (``01_model_definition``);
- ``02_iterative_pruning.json``: the workbook's own pruned models (``02_iterative_pruning``);
- ``03_evaluation.json`` and ``eval/results.json``: PSNR, memory (``03_evaluation``);
- ``04_warmup_timing_study.json`` and its raw runs ``04_timing_{separate,consecutive}_<mode>.json``:
  cold and warm runtime (``04_warmup_timing_study``).
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple

from slimrlfn.core.devices import device_text
from slimrlfn.core.errors import UserError
from slimrlfn.core.files import PathLike, public_path
from slimrlfn.metrics.score import SCORE_YEAR, ntire_score
from slimrlfn.metrics.years import YEARS

__all__ = [
    "INPUTS",
    "QUANTITIES",
    "Factsheet",
    "FactsheetInputs",
    "Quantity",
    "Value",
    "gather",
    "load_inputs",
]


#: Input name -> (file under results_dir, the notebook that writes it).
INPUTS: Dict[str, Tuple[str, str]] = {
    "model_definition": ("01_model_definition.json", "01_model_definition.ipynb"),
    "pruning": ("02_iterative_pruning.json", "02_iterative_pruning.ipynb"),
    "evaluation": ("03_evaluation.json", "03_evaluation.ipynb"),
    "eval_results": ("eval/results.json", "03_evaluation.ipynb"),
    "timing": ("04_warmup_timing_study.json", "04_warmup_timing_study.ipynb"),
}
_TIMING_RAW = "04_timing_{scenario}_{mode}.json"
#: Keys each input must have (a file from an older notebook version lacks some).
_REQUIRED_KEYS = {
    "model_definition": ("configs", "counts"),
    "pruning": ("runs", "references", "device"),
    "evaluation": ("splits", "data_dir"),
    "timing": ("device", "protocol", "runs", "cold_warm", "mode"),
}


@dataclass(frozen=True)
class Quantity:
    """One row of the factsheet: key, label, unit, how it was obtained, decimals shown."""

    key: str
    label: str
    unit: str
    how: str
    decimals: int


#: The factsheet's rows, in order.
QUANTITIES: Tuple[Quantity, ...] = (
    Quantity("psnr_valid", "PSNR valid", "dB", "RGB, border 4", 4),
    Quantity("psnr_test", "PSNR test", "dB", "RGB, border 4", 4),
    Quantity("runtime_cold", "Runtime cold", "ms", "mean \u00b1 sd of fresh-process runs", 2),
    Quantity("runtime_warm", "Runtime warm", "ms", "mean \u00b1 sd of consecutive runs 2-N", 2),
    Quantity("params", "Parameters", "M", "", 4),
    Quantity("flops", "FLOPs", "G", "fvcore, 1\u00d73\u00d7256\u00d7256", 4),
    Quantity("activations", "Activations", "M", "conv outputs, 1\u00d73\u00d7256\u00d7256", 4),
    Quantity("memory", "Memory", "MiB", "max allocated", 2),
    Quantity("num_conv", "Conv2d layers", "", "", 0),
    Quantity("score_cold", f"NTIRE {SCORE_YEAR} score", "", "cold runtime; lower is better", 4),
    Quantity("score_warm", f"NTIRE {SCORE_YEAR} score", "", "warm runtime; lower is better", 4),
)

_ANY_DEVICE = "architecture (any device)"
_CPU_MEMORY_NOTE = ("not measured: on CPU notebook 03 records only the process's peak RSS (memory_kind "
                    "cpu_process_peak_rss), which counts the interpreter and libraries, not the model; NTIRE "
                    "reports torch.cuda.max_memory_allocated on a GPU")


@dataclass(frozen=True)
class Value:
    """One number of the factsheet, or ``None`` with ``note`` saying why it is missing.

    ``spread`` is the sample standard deviation over ``n`` runs (timings); ``n`` is the number of
    runs (timings) or images (PSNR). ``measured_on`` names the device (timings, memory, PSNR) or
    says that the number does not depend on one.
    """

    value: Optional[float]
    spread: Optional[float] = None
    n: Optional[int] = None
    measured_on: str = ""
    note: Optional[str] = None


@dataclass
class FactsheetInputs:
    """The documents notebooks 01-04 wrote (parsed JSON) and where each was read from."""

    results_dir: Path
    model_definition: Dict[str, Any]
    pruning: Dict[str, Any]
    evaluation: Dict[str, Any]
    eval_results: Dict[str, Any]
    timing: Dict[str, Any]
    separate: Dict[str, Any]
    consecutive: Dict[str, Any]
    paths: Dict[str, Path] = field(default_factory=dict)


@dataclass
class Factsheet:
    """Per model label, per quantity key, a :class:`Value`; plus remarks on how the numbers were obtained."""

    models: List[str]
    values: Dict[str, Dict[str, Value]]
    remarks: List[str]
    quick: bool
    inputs: Dict[str, str]

    def to_json(self) -> Dict[str, Any]:
        """A JSON-ready dict (values as dicts, quantities with their labels and units)."""
        return {"models": self.models, "quick": self.quick, "remarks": self.remarks, "inputs": self.inputs,
                "quantities": [asdict(q) for q in QUANTITIES],
                "values": {m: {k: asdict(v) for k, v in row.items()} for m, row in self.values.items()}}


# --------------------------------------------------------------------------- reading


def _read(path: Path, notebook: str) -> Any:
    if not path.is_file():
        raise UserError(f"{path}: no such file; it is written by notebooks/{notebook} "
                        f"(run it first: slimrlfn workbook --only {notebook.split('_')[0]}_)")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno}); "
                        f"re-run notebooks/{notebook}") from None


def _check_keys(name: str, doc: Any, path: Path, notebook: str) -> None:
    if not isinstance(doc, dict):
        raise UserError(f"{path}: expected a JSON object, found {type(doc).__name__}; re-run notebooks/{notebook}")
    missing = [key for key in _REQUIRED_KEYS.get(name, ()) if key not in doc]
    if missing:
        raise UserError(f"{path}: has no {', '.join(repr(k) for k in missing)} (written by an older "
                        f"notebooks/{notebook}?); re-run it")


def load_inputs(results_dir: PathLike) -> FactsheetInputs:
    """Read the results of notebooks 01-04 from ``results_dir``.

    Raises :class:`UserError` (one line) naming the first missing or unreadable file and the notebook
    that writes it.
    """
    results_dir = Path(results_dir)
    if not results_dir.is_dir():
        raise UserError(f"--results_dir {results_dir}: no such folder; run the notebooks 01-04 first "
                        f"(slimrlfn workbook) or point it at their results folder")
    docs: Dict[str, Any] = {}
    paths: Dict[str, Path] = {}
    for name, (relative, notebook) in INPUTS.items():
        paths[name] = results_dir / relative
        docs[name] = _read(paths[name], notebook)
        _check_keys(name, docs[name], paths[name], notebook)
    notebook = INPUTS["timing"][1]
    for scenario in ("separate", "consecutive"):
        paths[scenario] = results_dir / _TIMING_RAW.format(scenario=scenario, mode=docs["timing"]["mode"])
        docs[scenario] = _read(paths[scenario], notebook)
    return FactsheetInputs(results_dir=results_dir, paths=paths, **docs)


# --------------------------------------------------------------------------- gathering


def _runtime(entry: Optional[Mapping[str, Any]], key: str, device: str) -> Value:
    word = "cold (fresh-process)" if key == "cold" else "warm (consecutive)"
    if entry is None:
        return Value(None, measured_on=device, note="not timed: the model was not in notebook 04's study")
    stats = entry.get(key)
    if not stats:
        return Value(None, measured_on=device, note=f"no finished {word} run in notebook 04 (see its table)")
    return Value(float(stats["mean"]), spread=float(stats["std"]), n=int(stats["n"]), measured_on=device)


def _psnr(entry: Optional[Mapping[str, Any]], split: str, splits: Iterable[str], quick: bool) -> Value:
    if entry is None:
        return Value(None, note="not evaluated: the model has no entry in notebook 03's eval/results.json")
    device = device_text(entry.get("device_info"), measurement=False)
    if split not in splits:
        why = ("notebook 03 ran in quick mode (valid split only; full mode adds the test split)" if quick
               else f"notebook 03 did not evaluate the {split} split")
        return Value(None, measured_on=device, note=f"not evaluated: {why}")
    if f"{split}_ave_psnr" not in entry:
        return Value(None, measured_on=device, note=f"no {split} result for this model in eval/results.json")
    return Value(float(entry[f"{split}_ave_psnr"]), n=len(entry.get(f"{split}_names", [])) or None,
                 measured_on=device)


def _memory(entry: Optional[Mapping[str, Any]]) -> Value:
    if entry is None:
        return Value(None, note="not evaluated: the model has no entry in notebook 03's eval/results.json")
    device = device_text(entry.get("device_info"))
    kind = entry.get("memory_kind")
    if kind == "cuda_max_allocated" and entry.get("valid_memory") is not None:
        return Value(float(entry["valid_memory"]), measured_on=device)
    if kind == "cpu_process_peak_rss":
        return Value(None, measured_on=device, note=_CPU_MEMORY_NOTE)
    return Value(None, measured_on=device, note="not recorded by notebook 03")


def _score(runtime: Value, baseline_runtime: Optional[Value], counts: Mapping[str, Any],
           baseline_counts: Optional[Mapping[str, Any]]) -> Value:
    if baseline_counts is None or baseline_runtime is None:
        return Value(None, note="no RLFN (the score's baseline; or a challenge's 00_ entry) among notebook 01's models")
    if runtime.value is None:
        return Value(None, measured_on=runtime.measured_on, note="no runtime for this model (see the runtime row)")
    if baseline_runtime.value is None:
        return Value(None, measured_on=runtime.measured_on,
                     note="no RLFN runtime in notebook 04 (the score's baseline)")
    score = ntire_score(runtime.value, counts["flops"], counts["num_parameters"],
                        baseline_runtime.value, baseline_counts["flops"], baseline_counts["num_parameters"],
                        YEARS[SCORE_YEAR].weights)  # type: ignore[arg-type]
    return Value(score, measured_on=runtime.measured_on)


def _remarks(inputs: FactsheetInputs, quick: bool) -> List[str]:
    timing, evaluation = inputs.timing, inputs.evaluation
    n_cold, n_consecutive = timing["runs"].get("separate"), timing["runs"].get("consecutive")
    warm = f"runs 2-{n_consecutive}" if (n_consecutive or 0) > 1 else "run 1"
    images = {split: max((len(e.get(f"{split}_names", [])) for e in inputs.eval_results.values()), default=0)
              for split in evaluation["splits"]}
    remarks = [
        f"PSNR: notebook 03 on the data set {Path(str(evaluation['data_dir'])).name} "
        f"({', '.join(f'{s}: {n} images' for s, n in images.items())}), "
        "SR rounded to 8 bits, RGB, border 4 (as NTIRE's test_demo.py).",
        f"Runtime: notebook 04, protocol {timing['protocol']} (one whole-image forward per image, no warm-up, mean "
        f"per image, on the valid split); cold = mean \u00b1 sd of {n_cold} runs, each in a fresh process; warm = "
        f"mean \u00b1 sd of {warm} of {n_consecutive} consecutive runs in one process.",
        "Parameters, FLOPs (fvcore, the challenge's counter), activations and Conv2d layers: notebook 01, input "
        "1\u00d73\u00d7256\u00d7256; they do not depend on the device.",
        f"NTIRE {SCORE_YEAR} score = {YEARS[SCORE_YEAR].formula()} (T runtime, F FLOPs, P params; "
        f"{YEARS[SCORE_YEAR].baseline.name} scores e\u00b2 = 7.389; lower is better), with T the cold or the warm "
        "runtime above.",
    ]
    if quick:
        remarks.append("Quick mode: notebooks run with quick=True (few runs, small data) - a check of the "
                       "pipeline, not numbers for a submission.")
    return remarks


def _baseline(configs: Mapping[str, Mapping[str, Any]], labels: Iterable[str]) -> Optional[str]:
    """The score's baseline among notebook 01's counted ``labels``: RLFN (a config with arch 'rlfn'), else a challenge
    repository's entry 0 (the organisers' baseline, named ``00_...``); None when there is neither."""
    labels = list(labels)
    rlfn = next((label for label, config in configs.items() if config.get("arch") == "rlfn" and label in labels), None)
    return rlfn or next((label for label in labels if str(label).startswith("00_")), None)


def gather(inputs: FactsheetInputs) -> Factsheet:
    """The factsheet's values for every model of notebook 01 (by default RLFN, SlimRLFN, SlimRLFN-prune; any
    model of its ``models`` / ``challenge_repo`` parameters)."""
    counts = {row["model"]: row for row in inputs.model_definition["counts"]}
    entries = {entry.get("model", name): entry for name, entry in inputs.eval_results.items()}
    timed = {entry["label"]: entry for entry in inputs.timing["cold_warm"].values()}
    timing_device = str(inputs.timing["device"])
    splits = inputs.evaluation["splits"]
    quick = bool(inputs.model_definition.get("quick") or inputs.pruning.get("quick")
                 or inputs.evaluation.get("quick") or inputs.timing.get("mode") == "quick")
    baseline = _baseline(inputs.model_definition["configs"], counts)
    base_counts = counts.get(baseline) if baseline else None
    base_runtime = {key: _runtime(timed.get(baseline), key, timing_device) for key in ("cold", "warm")} \
        if baseline else {"cold": None, "warm": None}
    values: Dict[str, Dict[str, Value]] = {}
    for label, row in counts.items():
        entry = entries.get(label)
        runtime = {key: _runtime(timed.get(label), key, timing_device) for key in ("cold", "warm")}
        values[label] = {
            "psnr_valid": _psnr(entry, "valid", splits, bool(inputs.evaluation.get("quick"))),
            "psnr_test": _psnr(entry, "test", splits, bool(inputs.evaluation.get("quick"))),
            "runtime_cold": runtime["cold"],
            "runtime_warm": runtime["warm"],
            "params": Value(float(row["num_parameters"]), measured_on=_ANY_DEVICE),
            "flops": Value(float(row["flops"]), measured_on=_ANY_DEVICE),
            "activations": Value(float(row["activations"]), measured_on=_ANY_DEVICE),
            "memory": _memory(entry),
            "num_conv": Value(float(row["num_conv"]), measured_on=_ANY_DEVICE),
            "score_cold": _score(runtime["cold"], base_runtime["cold"], row, base_counts),
            "score_warm": _score(runtime["warm"], base_runtime["warm"], row, base_counts),
        }
    return Factsheet(models=list(counts), values=values, remarks=_remarks(inputs, quick), quick=quick,
                     inputs={name: public_path(path) for name, path in inputs.paths.items()})
