"""Tables and conclusions of the warm-up timing study, computed from its results documents.

Follows the tables of the SlimRLFN README (NTIRE 2024 ESR, team 21): one row per model, one column
per run (that run's mean per-image ms, NTIRE's number; the median for the ``warm`` and ``micro``
protocols), then the mean of the runs after the first (the seed: "mean of the last 4 runs" of 5).
Rows of consecutive runs in one process carry a star.

Unit of replication: a run. *Cold* = the runs of the ``separate`` scenario (each one a fresh
process); *warm* = runs 2..N of the ``consecutive`` scenario (run 1 too when N = 1). Intervals are
bootstrap 95 % CIs over runs with a fixed seed (:mod:`slimrlfn.metrics.stats`); with 3 to 5 runs they
are wide, and the text says so when an interval includes "no difference".
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional

import numpy as np

from slimrlfn.core.devices import device_text
from slimrlfn.metrics.stats import first_share, ratio_ci, summarize, warmup_length

__all__ = [
    "RUN_STATISTIC",
    "SUMMARY_KEYS",
    "cold_warm_summary",
    "conclusion",
    "device_line",
    "first_image_shares",
    "format_table",
    "run_values",
    "study_table",
    "summary",
    "warmup_lengths",
    "warmup_table",
]

SEED_V100_MS = {
    "separate": {"RLFN": 16.96, "SlimRLFN": 13.70, "SlimRLFN-prune": 15.18},
    "consecutive": {"RLFN": 10.65, "SlimRLFN": 8.61, "SlimRLFN-prune": 8.54},
}


def device_line(study: Dict[str, Any]) -> str:
    """'<device name> (<cpu|cuda>, N threads, torch X)' from the first finished run (else the parent)."""
    infos = [r["device_info"] for r in study.get("records", []) if r.get("device_info")]
    return device_text(infos[0] if infos else study.get("device_info", {}))


#: The keys of the study's summary (:func:`summary`).
SUMMARY_KEYS = ("device", "device_info", "protocol", "runs", "tables", "cold_warm", "fastest", "first_image_share_cold",
                "warmup_lengths", "warmup_lengths_running_median3", "figures", "conclusion", "mode")
#: The per-run statistic of each protocol: NTIRE's mean, the median once warm.
RUN_STATISTIC = {"ntire": "mean", "warm": "median", "micro": "median"}


def run_values(study: Dict[str, Any], model: str, group: Optional[str] = None) -> Dict[int, Optional[float]]:
    """run -> that run's per-sample ms in ``group`` (:data:`RUN_STATISTIC`; None for a failed run)."""
    stat = f"{RUN_STATISTIC.get(study['protocol'], 'mean')}_ms"
    values: Dict[int, Optional[float]] = {run: None for run in range(1, study["runs"] + 1)}
    for r in study["records"]:
        if r["model"] == model and r["status"] == "ok" and r["run"] in values:
            groups = r["groups"]
            key = group if group is not None else next(iter(groups))
            values[r["run"]] = groups[key][stat] if key in groups else None
    return values


def _groups_of(study: Dict[str, Any], model: str) -> List[str]:
    seen: List[str] = []
    for r in study["records"]:
        if r["model"] == model:
            seen += [g for g in r.get("groups", {}) if g not in seen]
    return seen or ["images"]


def study_table(study: Dict[str, Any]) -> Dict[str, Any]:
    """The seed-style table as data: columns and one row per model (per shape for micro)."""
    runs = study["runs"]
    star = "*" if study["scenario"] == "consecutive" else ""
    rest = f"mean runs 2-{runs}" if runs > 1 else "mean run 1"
    rows = []
    for source in study["models"]:
        for group in _groups_of(study, source["model"]):
            values = run_values(study, source["model"], group)
            later = [v for run, v in values.items() if (run > 1 or runs == 1) and v is not None]
            label = source["label"] + star + ("" if group == "images" else f" @{group}")
            rows.append({"model": source["model"], "label": label, "group": group,
                         "runs": [values[run] for run in range(1, runs + 1)],
                         "mean_later": float(np.mean(later)) if later else None})
    errors = [f"{r['label']} run {r['run']}: {r['error']}" for r in study["records"] if r["status"] != "ok"]
    return {"scenario": study["scenario"], "protocol": study["protocol"], "device": device_line(study),
            "columns": [f"run {i}" for i in range(1, runs + 1)] + [rest], "rows": rows, "errors": errors}


def _setup_note(study: Dict[str, Any]) -> str:
    """For a non-eager backend: its set-up per process (export/compile), which the per-image times leave out."""
    setups = [r["device_info"]["backend_info"]["setup_s"] for r in study.get("records", [])
              if r.get("status") == "ok" and "backend_info" in r.get("device_info", {})]
    if not setups:
        return ""
    return f"; backend set-up per process (not in the times): {min(setups):.2f}-{max(setups):.2f} s"


def format_table(study: Dict[str, Any]) -> str:
    """The table as text: a title line, the device, a header, one row per model, failed runs."""
    table = study_table(study)
    what = ("separate processes (a fresh process per run)" if study["scenario"] == "separate"
            else "consecutive runs in one process (*)")
    width = max([len(r["label"]) for r in table["rows"]] + [16]) + 2
    stat = RUN_STATISTIC.get(study["protocol"], "mean")
    backend = study.get("settings", {}).get("backend", "eager")
    lines = [f"{what}, protocol {study['protocol']}, backend {backend}: {stat} time per forward [ms] of each run",
             f"device: {table['device']}" + _setup_note(study),
             "model".ljust(width) + "".join(f"{c:>11s}" for c in table["columns"][:-1]) + f"{table['columns'][-1]:>16s}"]
    for row in table["rows"]:
        cells = "".join(f"{v:11.2f}" if v is not None else f"{'failed':>11s}" for v in row["runs"])
        later = f"{row['mean_later']:16.2f}" if row["mean_later"] is not None else f"{'-':>16s}"
        lines.append(row["label"].ljust(width) + cells + later)
    loads = [r["load_avg_1min"] for r in study["records"] if r.get("load_avg_1min") is not None]
    if loads:
        lines.append(f"  machine load (1-min average) after the runs: {min(loads):.2f}-{max(loads):.2f}")
    lines += [f"  failed: {e}" for e in table["errors"]]
    return "\n".join(lines) + "\n"


def _ok_values(study: Dict[str, Any], model: str, runs_from: int = 1) -> List[float]:
    return [v for run, v in run_values(study, model).items() if run >= runs_from and v is not None]


def cold_warm_summary(separate: Dict[str, Any], consecutive: Dict[str, Any], seed: int = 0) -> Dict[str, Any]:
    """Per model: cold (separate runs) and warm (consecutive runs 2..N) summaries and their ratio."""
    out: Dict[str, Any] = {}
    warm_from = 2 if consecutive["runs"] > 1 else 1
    for source in separate["models"]:
        model = source["model"]
        cold = _ok_values(separate, model)
        warm = _ok_values(consecutive, model, warm_from) if any(m["model"] == model for m in consecutive["models"]) else []
        entry: Dict[str, Any] = {"label": source["label"], "cold_runs": cold, "warm_runs": warm}
        if cold:
            entry["cold"] = summarize(cold, seed=seed)
        if warm:
            entry["warm"] = summarize(warm, seed=seed)
        if cold and warm:
            entry["cold_over_warm"] = ratio_ci(cold, warm, seed=seed)
        out[model] = entry
    return out


def first_image_shares(study: Dict[str, Any]) -> Dict[str, List[float]]:
    """Per model label: for every finished run, the share of its NTIRE mean due to its first image."""
    shares: Dict[str, List[float]] = {}
    for r in study["records"]:
        if r["status"] == "ok":
            share = first_share([s["ms"] for s in r["samples"] if not s["warmup"]])
            if share is not None:
                shares.setdefault(r["label"], []).append(share)
    return shares


def warmup_lengths(study: Dict[str, Any], tolerance: float = 0.05, window: int = 1) -> Dict[str, Dict[str, Any]]:
    """Per model label and shape: :func:`warmup_length` of the first finished run's whole trace."""
    out: Dict[str, Dict[str, Any]] = {}
    for r in study["records"]:
        if r["status"] != "ok" or r["label"] in out:
            continue
        traces: Dict[str, List[float]] = {}
        for s in r["samples"]:
            traces.setdefault(s["name"] if study["protocol"] == "micro" else "images", []).append(s["ms"])
        out[r["label"]] = {k: warmup_length(v, tolerance, window) for k, v in traces.items()}
    return out


def warmup_table(study: Dict[str, Any], tolerance: float = 0.05, window: int = 1) -> List[Dict[str, Any]]:
    """:func:`warmup_lengths` as table rows a page can show: model, input, forwards until within ``tolerance`` of
    the steady median, that median in ms to 0.01, whether it settled, of how many forwards."""
    return [{"model": label, "input": name, "forwards to settle": found["length"],
             "steady median [ms]": round(float(found["steady_median"]), 2), "settled": bool(found["settled"]),
             "forwards timed": found["n"]}
            for label, traces in warmup_lengths(study, tolerance, window).items() for name, found in traces.items()]


def _compare(summary: Dict[str, Any], key: str, runs_key: str, seed: int) -> Dict[str, Any]:
    have = {m: e for m, e in summary.items() if e.get(runs_key)}
    if not have:
        return {}
    fastest = min(have, key=lambda m: have[m][key]["mean"])
    others = {m: ratio_ci(e[runs_key], have[fastest][runs_key], seed=seed) for m, e in have.items() if m != fastest}
    return {"fastest": fastest, "ratios": others}


def _ratio_words(label: str, r: Dict[str, Any], n_runs: int) -> str:
    lo, hi = r["ci"]
    clear = lo > 1.0
    return (f"{label} takes {r['ratio']:.2f}x as long (95% CI {lo:.2f}-{hi:.2f}"
            + ("" if clear else f"; includes 1: not distinguishable with {n_runs} runs") + ")")


def conclusion(separate: Dict[str, Any], consecutive: Dict[str, Any],
               micro: Optional[Dict[str, Any]] = None, seed: int = 0) -> Dict[str, Any]:
    """Numbers and a printed paragraph: which model is faster cold and warm, by how much, with CIs."""
    summary = cold_warm_summary(separate, consecutive, seed)
    labels = {m: e["label"] for m, e in summary.items()}
    cold_cmp = _compare(summary, "cold", "cold_runs", seed)
    warm_cmp = _compare(summary, "warm", "warm_runs", seed)
    shares_cold = {k: float(np.mean(v)) for k, v in first_image_shares(separate).items()}
    lines = [f"Device: {device_line(separate)}; protocol {separate['protocol']}; "
             f"{separate['runs']} fresh processes (cold) and {consecutive['runs']} consecutive runs in one process "
             f"(warm = runs {'2-' + str(consecutive['runs']) if consecutive['runs'] > 1 else '1'}) per model."]
    for name, cmp_, key in (("Cold", cold_cmp, "cold"), ("Warm", warm_cmp, "warm")):
        if not cmp_:
            lines.append(f"{name}: no finished runs.")
            continue
        parts = [f"{labels[m]} {e[key]['mean']:.2f} ms (95% CI {e[key]['ci_mean'][0]:.2f}-{e[key]['ci_mean'][1]:.2f})"
                 for m, e in summary.items() if key in e]
        n_runs = len(summary[cmp_["fastest"]][f"{key}_runs"])
        ratios = "; ".join(_ratio_words(labels[m], r, n_runs) for m, r in cmp_["ratios"].items())
        lines.append(f"{name} (mean of run means): {', '.join(parts)}. Fastest {key}: {labels[cmp_['fastest']]}"
                     + (f"; against it {ratios}." if ratios else "."))
    for m, e in summary.items():
        if "cold_over_warm" in e:
            r = e["cold_over_warm"]
            share = shares_cold.get(e["label"])
            lines.append(f"{e['label']}: cold/warm = {r['ratio']:.2f}x (95% CI {r['ci'][0]:.2f}-{r['ci'][1]:.2f})"
                         + (f"; in a fresh process the first image is {100 * share:.0f}% of the run's total" if share else "")
                         + ".")
    if micro is not None:
        strict, smooth = warmup_lengths(micro), warmup_lengths(micro, window=3)
        parts = [f"{label} {shape}: {w['length']} of {w['n']} forwards" + ("" if w["settled"] else " (never settled)")
                 + f", {smooth[label][shape]['length']} with a 3-forward running median"
                 for label, shapes in strict.items() for shape, w in shapes.items()]
        lines.append("Warm-up length (forwards until the time stays within 5% of the median of the trace's last half): "
                     + "; ".join(parts) + ".")
    loads = [r["load_avg_1min"] for study in (separate, consecutive) for r in study["records"]
             if r.get("load_avg_1min") is not None]
    if loads:
        lines.append(f"Machine load (1-min average) after the runs: {min(loads):.2f}-{max(loads):.2f} "
                     f"(with more busy threads than cores, other processes inflate the times).")
    seed_cold, seed_warm = SEED_V100_MS["separate"], SEED_V100_MS["consecutive"]
    if cold_cmp and warm_cmp:
        lines.append(f"The seed (V100) found {min(seed_cold, key=seed_cold.get)} fastest cold and "
                     f"{min(seed_warm, key=seed_warm.get)} fastest warm; here {labels[cold_cmp['fastest']]} is fastest "
                     f"cold and {labels[warm_cmp['fastest']]} warm.")
    return {"summary": summary, "cold": cold_cmp, "warm": warm_cmp, "first_image_share_cold": shares_cold,
            "text": "\n".join(lines)}


def summary(separate: Dict[str, Any], consecutive: Dict[str, Any], micro: Optional[Dict[str, Any]] = None,
            figures: Iterable[Any] = (), seed: int = 0, mode: Optional[str] = None) -> Dict[str, Any]:
    """The study's JSON summary (notebook 04's ``04_warmup_timing_study.json``, keys :data:`SUMMARY_KEYS`):
    device, both seed-style tables, numbers, conclusion text, figure files, the workbook mode.

    ``figures``: the figure stems (or paths) written; each is listed as its .png and .pdf.
    """
    result = conclusion(separate, consecutive, micro, seed)
    return {"device": device_line(separate), "device_info": separate.get("device_info"),
            "protocol": separate["protocol"], "runs": {"separate": separate["runs"], "consecutive": consecutive["runs"]},
            "tables": {"separate": study_table(separate), "consecutive": study_table(consecutive)},
            "cold_warm": result["summary"], "fastest": {"cold": result["cold"].get("fastest"),
                                                        "warm": result["warm"].get("fastest")},
            "first_image_share_cold": result["first_image_share_cold"],
            "warmup_lengths": warmup_lengths(micro) if micro is not None else None,
            "warmup_lengths_running_median3": warmup_lengths(micro, window=3) if micro is not None else None,
            "figures": [str(Path(f).with_suffix(ext)) for f in figures for ext in (".png", ".pdf")],
            "conclusion": result["text"], "mode": mode}
