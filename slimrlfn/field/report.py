"""What a field run says, in words and in notebook 06's summary: movers, variants against parents, noise, the GPU command.

:func:`conclusion` answers the seed's question for the field on the device it ran on: does the official
(cold) protocol reorder the ranking, and does it make a pruned or slimmer variant look slower than its
parent (the seed's claim) where the warm runtime does not? Every number comes from the document.
"""
from __future__ import annotations

import os
import shlex
from typing import Any, Dict, List, Optional, Sequence

from slimrlfn.core.devices import device_text, recorded_loads
from slimrlfn.core.files import public_path
from slimrlfn.metrics.years import document_years, year_value

__all__ = ["SUMMARY_KEYS", "conclusion", "gpu_command", "noise_markdown", "pairs_markdown", "summary"]

#: The keys of notebook 06's ``06_challenge_field.json`` (:func:`summary`). ``tau`` is the field's own year's;
#: ``taus`` every year's; ``tau_2026`` (and ``rank_cold_2026``... in ``entries``) are a flat view of the 2026
#: weights kept for readers of this JSON from before the year records; ``official`` and ``comparison`` are the
#: notebook's official analysis and its local-against-official comparison (None where it made none).
SUMMARY_KEYS = ("quick", "device", "on_gpu", "runs", "baseline", "year", "entries", "failed", "tau", "tau_2026",
                "taus", "movers", "pairs", "runs_needed", "conclusion", "gpu_command", "field_json", "figures",
                "tables", "official", "comparison")
#: The per-entry values of :func:`summary`'s ``entries``.
_ENTRY_KEYS = ("key", "name", "score_cold", "score_warm", "rank_cold", "rank_warm", "runtime_cold_ms",
               "runtime_cold_sd", "runtime_warm_ms", "runtime_warm_sd", "cold_minus_warm_ms", "micro_ms",
               "micro_warmup", "micro_warmup_length", "load_forwards")


def _tau(value: Optional[float]) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _pair_sentence(row: Dict[str, Any]) -> str:
    def ratio(protocol: str) -> str:
        value = row.get(f"runtime_ratio_{protocol}")
        return "n/a" if value is None else f"{value:.2f}x"

    return (f"{row['child']} ranks {row['child_cold'] or 'n/a'} {row['parent']} cold and {row['child_warm'] or 'n/a'} "
            f"warm (runtime {ratio('cold')} of its parent's cold, {ratio('warm')} warm)")


def _ratio(value: Optional[float]) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def pairs_markdown(doc: Dict[str, Any]) -> str:
    """Each variant against its parent: where it ranks (above / below) under each protocol and year, runtime ratios."""
    year, years = document_years(doc)
    others = [y for y in years if y != year]
    head = (["parent", "child", "cold", "warm"] + [f"{p} {y}" for y in others for p in ("cold", "warm")]
            + ["runtime ratio cold", "runtime ratio warm"])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for p in doc["ranking"].get("pairs", []):
        cells = [p["parent"], p["child"], str(p["child_cold"]), str(p["child_warm"])]
        cells += [str(year_value(p, f"child_{protocol}", y)) for y in others for protocol in ("cold", "warm")]
        cells += [_ratio(p["runtime_ratio_cold"]), _ratio(p["runtime_ratio_warm"])]
        lines.append("| " + " | ".join(cells) + " |")
    if len(lines) == 2:
        lines.append("| (no variant and parent both measured) |" + " |" * (len(head) - 1))
    return "\n".join(lines) + "\n"


def noise_markdown(doc: Dict[str, Any]) -> str:
    """Per protocol and number of runs k: the share of resamples that give the all-runs ranking, and the mean tau."""
    lines = ["| protocol | runs k | same ranking | mean tau |", "|---|---|---|---|"]
    needed = []
    for protocol, noise in doc["ranking"].get("noise", {}).items():
        for k, share, tau in zip(noise["k"], noise["same_ranking"], noise["mean_tau"]):
            lines.append(f"| {protocol} | {k} | {share:.0%} | {tau:.3f} |")
        if noise["k"]:
            value, value_tau = noise["runs_needed"], noise.get("runs_needed_tau")
            more = f"more than {noise['k'][-1]}"
            needed.append(f"{protocol}: {value or more} (same ranking), {value_tau or more} (mean tau)")
    text = "\n".join(lines) + "\n"
    return text + (f"\nRuns needed for {doc['ranking']['noise']['cold'].get('agreement', 0.95):.0%} agreement: "
                   f"{'; '.join(needed)}.\n" if needed else "\nNothing to resample (fewer than 2 runs per entry).\n")


def _runs(k: int) -> str:
    return f"{k} run{'s' if k != 1 else ''}"


def _noise_sentence(protocol: str, noise: Dict[str, Any]) -> str:
    agreement, last = noise["agreement"], noise["k"][-1]
    needed, needed_tau = noise.get("runs_needed"), noise.get("runs_needed_tau")
    same = (f"comes out the same in {agreement:.0%} of resamples from {_runs(needed)} on" if needed else
            f"does not settle within the {_runs(last)} measured ({noise['same_ranking'][-1]:.0%} of resamples give "
            f"the same ranking at {last})")
    tau = (f"its mean tau to all runs reaches {agreement:.2f} from {_runs(needed_tau)} on" if needed_tau else
           f"its mean tau to all runs is {noise['mean_tau'][-1]:.2f} at {last}")
    return f"Resampled, the {protocol} ranking {same}; {tau}."


def conclusion(doc: Dict[str, Any]) -> str:
    """A paragraph: tau, movers, each variant against its parent, the seed's claim, the noise, on this device."""
    ranking = doc["ranking"]
    ranked = ranking.get("ranked", [])
    device = device_text(doc.get("device_info"))
    year, years = document_years(doc)
    others = "; ".join(f"{y} weights: {_tau(year_value(ranking, 'tau', y))}" for y in years if y != year)
    text: List[str] = [f"On {device}, {doc['runs']} runs per protocol, {len(ranked)} entries ranked against "
                       f"{doc.get('baseline')}: Kendall's tau between the cold (official) and the warm ranking is "
                       f"{_tau(ranking.get('tau'))} ({year} weights{'; ' + others if others else ''})."]
    movers = ranking.get("movers", [])
    if movers:
        moved = ", ".join(f"{m['key']} {m['rank_cold']}->{m['rank_warm']}" for m in movers)
        text.append(f"{len(movers)} of {len(ranked)} entries change place when timed warm ({moved}).")
    elif ranked:
        text.append("No entry changes place when timed warm.")
    pairs = ranking.get("pairs", [])
    for row in pairs:
        text.append(_pair_sentence(row) + ".")
    claimed = [r for r in pairs if r.get("child_slower_cold") and r.get("child_slower_warm") is False]
    if pairs:
        if claimed:
            text.append("The seed's claim (the official protocol makes the variant look slower than its parent, the "
                        f"warm runtime does not) holds here for {', '.join(r['child'] for r in claimed)}.")
        else:
            text.append("The seed's claim (the official protocol makes the variant look slower than its parent, the "
                        "warm runtime does not) does not hold here for any pair measured.")
    for protocol in ("cold", "warm"):
        noise = ranking.get("noise", {}).get(protocol, {})
        if noise.get("k"):
            text.append(_noise_sentence(protocol, noise))
    loaded = _load_sentence(doc)
    if loaded:
        text.append(loaded)
    if (doc.get("device_info") or {}).get("device_type") != "cuda":
        text.append("This is a CPU measurement: the GPU question (CUDA context and kernel loading in the first "
                    "forward of a process) stays open until the same command runs on a GPU.")
    return " ".join(text)


def _load_sentence(doc: Dict[str, Any]) -> Optional[str]:
    """The machine's load during the runs, and when it exceeded the cores, that small differences are noise."""
    loads = recorded_loads(doc)
    if not loads:
        return None
    cpus = (doc.get("device_info") or {}).get("cpu_count") or os.cpu_count() or 1
    text = f"Machine load (1-minute average) during the runs: {min(loads):.2f}-{max(loads):.2f} on {cpus} CPUs"
    if max(loads) > cpus:
        return (text + ": the cores were shared with other work, so a rank change or a difference within the noise "
                "above is this machine's load, not a finding.")
    return text + "."


def gpu_command(doc: Dict[str, Any], out: str = "runs/field_gpu.json") -> str:
    """The ``slimrlfn field`` command that measures the same field on a GPU."""
    words: List[str] = ["slimrlfn", "field"]
    if doc.get("challenge_repo"):
        words += ["--challenge_repo", doc["challenge_repo"]]
    ids = doc.get("model_ids_given")
    if ids:
        words += ["--model_ids", *map(str, ids)]
    models = [e["hint"] for e in doc["entries"] if e.get("model_id") is None]
    if models:
        words += ["--models", *models]
    words += ["--data_dir", *sorted({p["data_dir"] for p in doc["parts"]}, key=[p["data_dir"] for p in doc["parts"]].index)]
    words += ["--runs", str(max(doc["runs"], 5)), "--device", "cuda", "--out", out]
    return " ".join(shlex.quote(w) for w in words)


def summary(doc: Dict[str, Any], quick: bool, field_json: str, figures: Sequence[Any] = (),
            tables: Sequence[Any] = (), official: Optional[Dict[str, Any]] = None,
            comparison: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """Notebook 06's summary (:data:`SUMMARY_KEYS`): the ranking per entry, the failures, the conclusion, and the
    official analysis and comparison the notebook made (``official``, ``comparison``: passed through). Its files are
    named relative to the checkout (:func:`slimrlfn.core.files.public_path`)."""
    ranking = doc["ranking"]
    year, years = document_years(doc)
    entries = [{k: e.get(k) for k in _ENTRY_KEYS}
               | {f"{name}_2026": year_value(e, name, "2026") for name in ("score_cold", "score_warm", "rank_cold",
                                                                            "rank_warm")}
               | {"years": {y: {name: year_value(e, name, y) for name in ("score_cold", "score_warm", "rank_cold",
                                                                         "rank_warm")} for y in years},
                  "psnr": e["measures"]["psnr"], "num_parameters": e["measures"]["num_parameters"],
                  "flops": e["measures"]["flops"], "flops_undercount": e["measures"]["flops_undercount"]}
               for e in doc["entries"] if e.get("measures") and e.get("rank_cold") is not None]
    entries.sort(key=lambda e: e["rank_cold"])
    info = doc.get("device_info") or {}
    return {"quick": bool(quick), "device": device_text(info), "on_gpu": info.get("device_type") == "cuda",
            "runs": doc["runs"], "baseline": doc.get("baseline"), "year": year, "entries": entries,
            "failed": [{"key": e.get("key") or e["hint"], "error": e["error"]} for e in doc["entries"]
                       if e.get("status") == "error"],
            "tau": ranking.get("tau"), "tau_2026": year_value(ranking, "tau", "2026"),
            "taus": {y: year_value(ranking, "tau", y) for y in years}, "movers": ranking.get("movers", []),
            "pairs": ranking.get("pairs", []),
            "runs_needed": {p: {k: ranking.get("noise", {}).get(p, {}).get(k) for k in ("runs_needed", "runs_needed_tau")}
                            for p in ("cold", "warm")},
            "conclusion": conclusion(doc), "gpu_command": gpu_command(doc), "field_json": public_path(field_json),
            "figures": [public_path(f) for f in figures], "tables": [public_path(t) for t in tables], "official": official,
            "comparison": comparison}
