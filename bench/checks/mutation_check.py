"""Do the tests catch realistic bugs? Plant them one at a time in a temporary copy and run the tests there.

A mutation check (a benchmark script, not a test): the repository's files (tracked, and untracked ones that git
does not ignore) are copied into a temporary folder; for every *mutant* of the table below (one small edit of
one file: an exact snippet replaced by another) the edit is made in the copy, a targeted pytest selection runs
there with this project's Python, and the original file is put back. A mutant is

- ``killed``: the selection failed (a test failed, or the module no longer imported);
- ``survived``: the selection passed with the bug in place: no test there guards against it;
- ``error``: the check could not be made: the snippet is no longer in the file (or is there more than once),
  or the unmutated selection fails on its own (its *baseline*, run first, must pass), or pytest found no test.

Four sets: ``audit``, the 7 bugs that survived the mutation audit of issue 14; ``issue35``, the bugs that survived the
suite in issue 35's audit (field ranking and noise, bootstrap intervals, paired latency, refit, challenge loader,
int8 gate, QAT, sensitivity); ``reach``, our own bugs in the modules those cover (``field/noise.py``,
``field/analysis.py``, ``prune/measure.py``, ``prune/refit.py``, ``arch/challenge.py``, ``quantize/``,
``deploy/int8.py``): the check is met when every mutant of these three sets is killed; and ``own``, realistic bugs
across the rest of the package (met when at least 20 of every 22 are killed). ``--table FILE`` adds the mutants a
Python file defines (``MUTANTS``), to try new ones before they join the table.

The copy imports its own ``slimrlfn`` (``PYTHONPATH`` = the copy, checked before anything runs), never the
editable install of the checkout; no bytecode is written there (an edit of the same size within the same second
must not be served from a stale ``.pyc``). ``../shared`` is the checkout's (``$SLIMRLFN_SHARED`` or the folder
beside it), so the tests that need it run when it is there.

Usage::

    .venv/bin/python bench/checks/mutation_check.py          # every set, targeted selections
    .venv/bin/python bench/checks/mutation_check.py --set audit
    .venv/bin/python bench/checks/mutation_check.py --only ssim_no_border_crop --only cv_std_over_median
    .venv/bin/python bench/checks/mutation_check.py --full   # the whole suite per mutant (hours)
    .venv/bin/python bench/checks/mutation_check.py --list

Prints a line per mutant and a table (mutant, file, result, seconds, the test that killed it), then
``audit: K/7 killed; own: K/N killed; issue35: ...; reach: ...``; writes the report atomically to ``runs/mutation_check.json``
(``--report``). Exit status 0 when the targets hold for the sets that ran, 1 otherwise, 2 for bad arguments.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple
from xml.etree import ElementTree

from slimrlfn.core.files import atomic_write_json

REPO = Path(__file__).resolve().parents[2]  # bench/checks/ -> the checkout
SETS = ("audit", "own", "issue35", "reach")
#: The targets: every audit mutant killed; at least 20 of every 22 own mutants killed.
OWN_SHARE = 20 / 22

# Targeted selections, by the module they guard (paths relative to the repository root); the most specific file
# first, so that with -x a killed mutant stops early.
T_BICUBIC = ("tests/data/test_bicubic.py", "tests/data/test_pairs.py")
T_IMAGES = ("tests/data/test_images.py", "tests/data/test_pairs.py")
T_TENSORS = ("tests/evaluate/test_ntire.py", "tests/evaluate/test_metrics_through_evaluate.py")
T_QUALITY = ("tests/metrics/test_quality.py", "tests/evaluate/test_metrics_through_evaluate.py")
T_EVALUATE = ("tests/evaluate/test_metrics_through_evaluate.py", "tests/evaluate/test_ntire.py")
T_STATS = ("tests/metrics/test_stats.py", "tests/timing/test_cv.py")
T_SCORE = ("tests/metrics/test_score.py", "tests/metrics/test_years.py", "tests/factsheet/test_factsheet.py",
           "tests/field/test_ranking.py")
T_COUNTS = ("tests/evaluate/test_metrics_through_evaluate.py", "tests/metrics/test_counts.py")
T_RANKING = ("tests/field/test_ranking.py", "tests/field/test_analysis.py")
T_TIMING = ("tests/timing/test_protocols.py", "tests/timing/test_cv.py", "tests/timing/test_study.py",
            "tests/timing/test_command.py")
T_FIGURES = ("tests/figures/test_timing.py",)
T_REPARAM = ("tests/arch/test_reparam.py",)
T_FILES = ("tests/factsheet/test_factsheet.py", "tests/data/test_images.py")
T_FACTSHEET = ("tests/factsheet",)
T_SCHEDULE = ("tests/prune/test_schedule_choice.py", "tests/prune/test_schedule.py")
T_PLAN = ("tests/prune/test_plan.py",) + T_SCHEDULE
# issue 35: the field study and the bootstrap statistics
T_RANK = ("tests/field/test_ranking.py", "tests/field/test_noise.py", "tests/field/test_analysis.py")
T_NOISE = ("tests/field/test_noise.py",)
T_ANALYSIS = ("tests/field/test_analysis.py",)
T_STATS_ONLY = ("tests/metrics/test_stats.py",)

# issue 35: pruning measurement, refit, challenge loader
T_MEASURE = ("tests/prune/test_measure.py", "tests/prune/test_measure_pairs.py")
T_REFIT = ("tests/prune/test_refit_ridge.py", "tests/prune/test_refit.py")
T_CHALLENGE = ("tests/arch/test_challenge_repos.py", "tests/arch/test_challenge.py")

# issue 35: int8 deployment, QAT, sensitivity



@dataclass(frozen=True)
class Mutant:
    """One planted bug: in ``file`` the exact text ``old`` (found once) becomes ``new``; ``tests`` are run."""

    name: str
    set: str
    file: str
    old: str
    new: str
    tests: Tuple[str, ...]
    what: str


MUTANTS: Tuple[Mutant, ...] = (
    # ----------------------------------------------------------------- the audit's 7 survivors (issue 14)
    Mutant("bicubic_round_half_even", "audit", "slimrlfn/data/bicubic.py",
           "np.sign(x) * np.floor(np.abs(x) + 0.5)", "np.round(x)", T_BICUBIC,
           "MATLAB's uint8 rounding (half away from zero) replaced by numpy's half to even"),
    Mutant("ssim_no_border_crop", "audit", "slimrlfn/evaluate/ntire.py",
           "append(ssim(sr, hr, border=scale))", "append(ssim(sr, hr))", T_EVALUATE,
           "evaluate's SSIM computed without the border crop"),
    Mutant("ssim_y_on_rgb", "audit", "slimrlfn/evaluate/ntire.py",
           "append(ssim_y(sr, hr, border=scale))", "append(ssim(sr, hr, border=scale))", T_EVALUATE,
           "evaluate's SSIM-Y computed on the RGB images"),
    Mutant("evaluate_no_hr_modcrop", "audit", "slimrlfn/evaluate/ntire.py",
           "hr = modcrop(read_image(pair.hr_path), scale)", "hr = read_image(pair.hr_path)", T_EVALUATE,
           "evaluate no longer mod-crops HR to the scale"),
    Mutant("cv_std_over_median", "audit", "slimrlfn/metrics/stats.py",
           '"cv": std / mean if mean else', '"cv": std / median if median else', T_STATS,
           "the timing CV computed as std / median"),
    Mutant("factsheet_devices_collapsed", "audit", "slimrlfn/factsheet/tables.py",
           "where = distinct[0] if len(distinct) == 1 else", "where = distinct[0] if len(distinct) >= 1 else",
           T_FACTSHEET, "the factsheet's 'measured on' column shows the first device when they differ"),
    Mutant("markdown_drops_sd", "audit", "slimrlfn/factsheet/tables.py",
           'shown = [_md(v) if not mark else f"{NA}<sup>{mark}</sup>"',
           'shown = [_md(v.split(" \\u00b1 ")[0]) if not mark else f"{NA}<sup>{mark}</sup>"', T_FACTSHEET,
           "the Markdown factsheet drops '± sd'"),
    # ----------------------------------------------------------------- our own set, across the package
    Mutant("psnr_border_off_by_one", "own", "slimrlfn/metrics/quality.py",
           "return img[border:h - border, border:w - border]", "return img[border:h - border + 1, border:w - border + 1]",
           T_QUALITY, "the PSNR/SSIM border crop keeps one row and column too many"),
    Mutant("psnr_natural_log", "own", "slimrlfn/metrics/quality.py",
           "20.0 * math.log10(255.0 / math.sqrt(mse))", "20.0 * math.log(255.0 / math.sqrt(mse))", T_QUALITY,
           "PSNR with ln instead of log10"),
    Mutant("y_weights_bt709", "own", "slimrlfn/metrics/quality.py",
           "_Y_WEIGHTS = np.array([65.481, 128.553, 24.966]) / 255.0",
           "_Y_WEIGHTS = np.array([46.559, 156.629, 15.812]) / 255.0", T_QUALITY,
           "the one-pass Y-PSNR with BT.709 instead of BT.601 weights"),
    Mutant("y_without_offset", "own", "slimrlfn/metrics/quality.py",
           "@ np.array([65.481, 128.553, 24.966]) / 255.0 + 16.0", "@ np.array([65.481, 128.553, 24.966]) / 255.0",
           T_QUALITY, "rgb_to_y without the +16 of studio swing (SSIM-Y shifts)"),
    Mutant("ssim_constant_for_range_1", "own", "slimrlfn/metrics/quality.py",
           "c1 = (0.01 * 255) ** 2", "c1 = (0.01 * 1.0) ** 2", T_QUALITY,
           "SSIM's C1 for data in [0, 1] on [0, 255] images"),
    Mutant("modcrop_height_for_width", "own", "slimrlfn/data/images.py",
           "img[: h - h % scale, : w - w % scale]", "img[: h - h % scale, : w - h % scale]", T_IMAGES,
           "modcrop crops the width by the height's remainder"),
    Mutant("read_image_keeps_bgr", "own", "slimrlfn/data/images.py",
           "return np.ascontiguousarray(img[:, :, 2::-1])", "return np.ascontiguousarray(img[:, :, :3])", T_IMAGES,
           "read_image returns OpenCV's BGR order"),
    Mutant("read_16bit_by_256", "own", "slimrlfn/data/images.py",
           "img.astype(np.float64) / 257.0 + 0.5", "img.astype(np.float64) / 256.0 + 0.5", T_IMAGES,
           "16-bit images scaled by 256 instead of 257"),
    Mutant("uint8_truncates", "own", "slimrlfn/arch/contract.py",
           "return np.uint8(img.round())", "return np.uint8(img)", T_TENSORS,
           "SR to uint8 by truncation instead of rounding"),
    Mutant("uint8_no_clamp", "own", "slimrlfn/arch/contract.py",
           ".float().clamp(0, data_range).cpu()", ".float().cpu()", T_TENSORS,
           "SR to uint8 without the clamp (values wrap around)"),
    Mutant("score_weights_2026", "own", "slimrlfn/metrics/years.py",
           "weights=(0.7, 0.15, 0.15),  # README 2024, Step 4: Score_Final",
           "weights=(0.8, 0.1, 0.1),  # README 2024, Step 4: Score_Final", T_SCORE,
           "the 2024 score with the 2026 weights"),
    Mutant("score_ratio_not_doubled", "own", "slimrlfn/metrics/score.py",
           "_exp(2.0 * runtime_ms / runtime_rlfn_ms)", "_exp(runtime_ms / runtime_rlfn_ms)", T_SCORE,
           "the runtime term exp(T/T0) instead of exp(2 T/T0)"),
    Mutant("kendall_tau_sign", "own", "slimrlfn/field/ranking.py",
           "(concordant - discordant) / denominator", "(discordant - concordant) / denominator", T_RANKING,
           "Kendall's tau with the wrong sign"),
    Mutant("warm_counts_first_run", "own", "slimrlfn/field/ranking.py",
           'if r["process_run"] > 1]', 'if r["process_run"] >= 1]', T_RANKING,
           "the warm runtime counts the first (cold) run of its process"),
    Mutant("rank_order_reversed", "own", "slimrlfn/field/ranking.py",
           "order = sorted(values, key=lambda k: (values[k], list(values).index(k)))",
           "order = sorted(values, key=lambda k: (values[k], list(values).index(k)), reverse=True)", T_RANKING,
           "rank 1 for the highest (worst) score"),
    Mutant("std_population", "own", "slimrlfn/metrics/stats.py",
           "float(data.std(ddof=1)) if data.size > 1 else 0.0", "float(data.std()) if data.size > 1 else 0.0",
           T_STATS, "the sample standard deviation with ddof=0"),
    Mutant("warmup_steady_whole_trace", "own", "slimrlfn/metrics/stats.py",
           "steady = float(np.median(data[data.size // 2:]))", "steady = float(np.median(data))", T_STATS,
           "the warm-up's steady state as the median of the whole trace, warm-up included"),
    Mutant("paired_ratio_mean", "own", "slimrlfn/metrics/stats.py",
           "ratio = float(np.median(ratios))", "ratio = float(np.mean(ratios))", T_STATS,
           "the paired ratio as the mean of the pair ratios (not robust to a stalled pair)"),
    Mutant("timing_mean_is_median", "own", "slimrlfn/timing/protocols.py",
           '"mean_ms": float(np.mean(v))', '"mean_ms": float(np.median(v))', T_TIMING,
           "a run's mean time per image (NTIRE's number) is its median"),
    Mutant("timing_warmup_counted", "own", "slimrlfn/timing/protocols.py",
           '        else:\n            groups.setdefault(key, []).append(s["ms"])',
           '        groups.setdefault(key, []).append(s["ms"])', T_TIMING,
           "warm-up forwards counted in the timed samples"),
    Mutant("fusion_drops_1x1_bias", "own", "slimrlfn/arch/repconv.py",
           "bias = bias + self.conv1x1.bias", "bias = bias", T_REPARAM,
           "reparameterization leaves out the 1x1 branch's bias"),
    Mutant("params_trainable_only", "own", "slimrlfn/metrics/counts.py",
           "return sum(p.numel() for p in model.parameters())",
           "return sum(p.numel() for p in model.parameters() if p.requires_grad)", T_COUNTS,
           "parameters counted only where requires_grad (evaluate freezes them first)"),
    Mutant("atomic_write_in_place", "own", "slimrlfn/core/files.py",
           'fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)',
           "fd, tmp = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644), str(path)", T_FILES,
           "'atomic' writes go straight into the target (no temp file, no rename)"),
    Mutant("schedule_removes_highest", "own", "slimrlfn/prune/schedule.py",
           "removal = {unit: [lowest(v, count, blocks[unit]) for v in scores[unit]]",
           "removal = {unit: [lowest(-v, count, blocks[unit]) for v in scores[unit]]", T_SCHEDULE,
           "the pruning step removes the most important channels"),
    Mutant("resume_from_start_weights", "own", "slimrlfn/prune/schedule.py",
           'model = self.pruner.load(step_checkpoint(self.out_dir, last["step"])).to(self.device)',
           "model = self.spec.model.to(self.device)", T_SCHEDULE,
           "a resumed pruning run continues from the starting weights, not its last finished step"),
    Mutant("global_plan_costliest", "own", "slimrlfn/prune/plan.py",
           "cost, unit, size = min(options)", "cost, unit, size = max(options)", T_PLAN,
           "the global plan takes the most important chunk"),
    Mutant("evaluate_psnr_no_border", "own", "slimrlfn/evaluate/ntire.py",
           "psnr_rgb, psnr_y = psnr_rgb_and_y(sr, hr, border=scale)",
           "psnr_rgb, psnr_y = psnr_rgb_and_y(sr, hr, border=0)", T_EVALUATE,
           "evaluate's PSNR without the border crop"),
    Mutant("latex_underscore_unescaped", "own", "slimrlfn/factsheet/tables.py",
           '"#": r"\\#", "_": r"\\_",', '"#": r"\\#",', T_FACTSHEET,
           "LaTeX tables with bare underscores"),
    Mutant("bicubic_no_antialias", "own", "slimrlfn/data/bicubic.py",
           "shrink = scale < 1 and antialiasing", "shrink = False", T_BICUBIC,
           "MATLAB's imresize without its antialiasing kernel when shrinking"),
    Mutant("figure_warm_includes_run_1", "own", "slimrlfn/figures/timing.py",
           "if run >= warm_from and v is not None]", "if v is not None]", T_FIGURES,
           "the cold/warm figure plots consecutive run 1 (the cold start) among the warm runs"),
    # ================================================================= issue 35: field study, statistics

    # ------------------------------------------------------------------ issue 35's survivors
    Mutant("kendall_tau_b_counts_joint_ties", "issue35", "slimrlfn/field/ranking.py",
           "            if da == 0 and db == 0:\n                continue\n",
           "            if da == 0 and db == 0:\n                ties_a += 1\n                ties_b += 1\n                continue\n",
           T_RANK, "Kendall's tau-b counts a pair tied in both rankings in both denominator terms"),
    Mutant("runs_needed_first_reach", "issue35", "slimrlfn/field/noise.py",
           "if all(share >= agreement for share in shares[index:]):", "if shares[index] >= agreement:",
           T_NOISE, "runs_needed is the first k that reaches the agreement, not the k from which it stays there"),
    Mutant("micro_unsettled_as_length", "issue35", "slimrlfn/field/analysis.py",
           'lengths = {shape: (w["length"] if w["settled"] else None)', 'lengths = {shape: (w["length"])',
           T_ANALYSIS, "a micro trace that never settles is recorded as its length instead of None"),
    Mutant("max_cold_minus_warm_without_abs", "issue35", "slimrlfn/field/analysis.py",
           'float(np.max([abs(e["cold_minus_warm_ms"]) for e in measured',
           'float(np.max([e["cold_minus_warm_ms"] for e in measured',
           T_ANALYSIS, "max |cold - warm| computed without the abs (an entry faster cold than warm is missed)"),
    Mutant("bootstrap_ci_default_90", "issue35", "slimrlfn/metrics/stats.py",
           "confidence: float = 0.95, n_boot: int = 2000, seed: int = 0) -> Tuple[float, float]:",
           "confidence: float = 0.90, n_boot: int = 2000, seed: int = 0) -> Tuple[float, float]:",
           T_STATS_ONLY, "every default '95 %' bootstrap interval (summarize's CIs) is a 90 % one"),
    Mutant("bootstrap_ci_alpha_not_halved", "issue35", "slimrlfn/metrics/stats.py",
           "alpha = (1.0 - confidence) / 2.0\n    return float(", "alpha = (1.0 - confidence)\n    return float(",
           T_STATS_ONLY, "bootstrap_ci's tails not halved: every 95 % interval is a 90 % one"),
    Mutant("bootstrap_ci_lopsided", "issue35", "slimrlfn/metrics/stats.py",
           "float(np.quantile(stats, 1.0 - alpha))", "float(np.quantile(stats, 1.0 - 2 * alpha))",
           T_STATS_ONLY, "a lopsided bootstrap interval: percentiles 2.5 and 95 instead of 2.5 and 97.5"),
    Mutant("ratio_ci_numerator_only", "issue35", "slimrlfn/metrics/stats.py",
           "statistic(a[i]) / statistic(b[j])", "statistic(a[i]) / statistic(b)",
           T_STATS_ONLY, "ratio_ci resamples the numerator only (the denominator's noise is left out of the CI)"),
    Mutant("ratio_ci_lopsided", "issue35", "slimrlfn/metrics/stats.py",
           "float(np.quantile(stats, 1 - alpha))]", "float(np.quantile(stats, 0.95))]",
           T_STATS_ONLY, "ratio_ci's upper end at the 95th percentile instead of the 97.5th"),
    # ------------------------------------------------------------------ our own, field/noise.py
    Mutant("noise_agreement_strict", "reach", "slimrlfn/field/noise.py",
           "if all(share >= agreement for share in shares[index:]):",
           "if all(share > agreement for share in shares[index:]):",
           T_NOISE, "a share exactly at the agreement does not count as agreeing"),
    Mutant("noise_reference_median", "reach", "slimrlfn/field/noise.py",
           "full_scores = scores({k: float(np.mean(runs_ms[k]))", "full_scores = scores({k: float(np.median(runs_ms[k]))",
           T_NOISE, "the reference ranking from each entry's median run, not the mean runtime the field ranks by"),
    Mutant("noise_year_ignored", "reach", "slimrlfn/field/noise.py",
           "weights = scored_year(year).weights", 'weights = scored_year("2024").weights',
           T_NOISE, "the resampled rankings always scored with 2024's weights, whatever year is asked for"),
    Mutant("noise_k_up_to_fewest", "reach", "slimrlfn/field/noise.py",
           "most = max(len(runs_ms[k]) for k in keys)", "most = min(len(runs_ms[k]) for k in keys)",
           T_NOISE, "k only goes up to the fewest runs of any entry, not the most"),
    Mutant("noise_drops_single_run_entries", "reach", "slimrlfn/field/noise.py",
           "keys = [k for k, v in runs_ms.items() if len(v) > 0]", "keys = [k for k, v in runs_ms.items() if len(v) > 1]",
           T_NOISE, "an entry with one run is left out of the resampled ranking"),
    Mutant("noise_needs_every_entry_twice", "reach", "slimrlfn/field/noise.py",
           "max(len(runs_ms[k]) for k in keys) < 2:", "min(len(runs_ms[k]) for k in keys) < 2:",
           T_NOISE, "nothing resampled as soon as one entry has a single run"),
    Mutant("noise_tau_needed_from_shares", "reach", "slimrlfn/field/noise.py",
           'result["runs_needed_tau"] = _first_stable(result["mean_tau"], agreement)',
           'result["runs_needed_tau"] = _first_stable(shares, agreement)',
           T_NOISE, "runs_needed_tau computed from the same-ranking shares instead of the mean tau"),
    # ------------------------------------------------------------------ our own, field/analysis.py
    Mutant("pair_runtime_ratio_inverted", "reach", "slimrlfn/field/analysis.py",
           "else tc / tp", "else tp / tc",
           T_ANALYSIS, "a pair's runtime ratio is parent / child instead of child / parent"),
    Mutant("ranked_by_name", "reach", "slimrlfn/field/analysis.py",
           '"ranked": sorted(cold_ranks, key=cold_ranks.get)', '"ranked": sorted(cold_ranks)',
           T_ANALYSIS, "the ranked list in key order instead of cold-rank order"),
    Mutant("noise_not_under_doc_year", "reach", "slimrlfn/field/analysis.py",
           "baseline, year=year) for protocol in", "baseline) for protocol in",
           T_ANALYSIS, "the noise study scored under 2024 whatever the document's year"),
    Mutant("micro_failed_record_used", "reach", "slimrlfn/field/analysis.py",
           'if r.get("kind") == "micro" and r.get("status") == "ok"), None)', 'if r.get("kind") == "micro"), None)',
           T_ANALYSIS, "a failed micro record is read as if it had measured"),
    Mutant("child_slower_on_equal", "reach", "slimrlfn/field/analysis.py",
           "bool(tc > tp)", "bool(tc >= tp)",
           T_ANALYSIS, "a variant as fast as its parent is called slower"),
    Mutant("prune_variant_paired_with_itself", "reach", "slimrlfn/field/analysis.py",
           'and not p.get("use_prune")), None)', 'and p.get("use_prune")), None)',
           T_ANALYSIS, "a use_prune variant's parent is looked up among the pruned entries (itself)"),
    # ================================================================= issue 35: pruning measurement, refit, challenge loader

    # ------------------------------------------------------------------ the survivors
    Mutant("latency_ratio_inverted", "issue35", "slimrlfn/prune/measure.py",
           "paired = paired_ratio(model_ms, base_ms, seed=seed)", "paired = paired_ratio(base_ms, model_ms, seed=seed)",
           T_MEASURE, "the paired latency ratio is baseline / model instead of model / baseline"),
    Mutant("paired_timing_not_alternated", "issue35", "slimrlfn/prune/measure.py",
           "order = models if i % 2 == 0 else models[::-1]", "order = models",
           T_MEASURE, "paired timing always runs the model first (AB AB) instead of alternating (AB BA)"),
    Mutant("refit_ridge_wrong_sign", "issue35", "slimrlfn/prune/refit.py",
           "torch.linalg.solve(gram + torch.diag(penalty), cross)", "torch.linalg.solve(gram - torch.diag(penalty), cross)",
           T_REFIT, "the refit's ridge term subtracted from the normal equations"),
    Mutant("refit_ridge_on_bias", "issue35", "slimrlfn/prune/refit.py",
           "        penalty[-1] = 0.0  # the bias is not shrunk\n", "",
           T_REFIT, "the refit's ridge shrinks the bias too"),
    Mutant("challenge_purge_inverted", "issue35", "slimrlfn/arch/challenge.py",
           "if not module_file.startswith(inside):", "if module_file.startswith(inside):",
           T_CHALLENGE, "the sys.modules purge keeps another repository's models/ and drops this one's"),
    Mutant("duplicate_id_last_branch", "issue35", "slimrlfn/arch/registry_source.py",
           "branches.setdefault(model_id, node)", "branches[model_id] = node",
           T_CHALLENGE, "an id in two select_model branches is prechecked at the last one, not the first that runs"),
    # ------------------------------------------------------------------ our own
    Mutant("latency_iqr_negative", "reach", "slimrlfn/prune/measure.py",
           "np.percentile(model_ms, [75, 25])", "np.percentile(model_ms, [25, 75])",
           T_MEASURE, "the latency IQR computed as q25 - q75 (negative)"),
    Mutant("rlfn_latency_is_the_model", "reach", "slimrlfn/prune/measure.py",
           '"rlfn_latency_ms": latency["baseline_latency_ms"]', '"rlfn_latency_ms": latency["latency_ms"]',
           T_MEASURE, "measure_model reports the model's latency as RLFN's"),
    Mutant("baseline_min_of_model", "reach", "slimrlfn/prune/measure.py",
           'result["baseline_min_ms"] = float(np.min(base_ms))', 'result["baseline_min_ms"] = float(np.min(model_ms))',
           T_MEASURE, "the baseline's minimum taken over the model's samples"),
    Mutant("latency_min_with_warmup", "reach", "slimrlfn/prune/measure.py",
           '"latency_min_ms": float(np.min(model_ms))', '"latency_min_ms": float(np.min(samples["model"]))',
           T_MEASURE, "the model's minimum latency counts the warm-up pairs"),
    Mutant("refit_on_teacher_inputs", "reach", "slimrlfn/prune/refit.py",
           'x = _capture(student, name, lr, "input")', 'x = _capture(teacher, name, lr, "input")',
           T_REFIT, "each layer refit on the unpruned network's inputs, not those the refit layers before it give"),
    Mutant("refit_mse_per_position", "reach", "slimrlfn/prune/refit.py",
           "rows += target.numel()", "rows += target.shape[0]",
           T_REFIT, "the refit report's MSE divided by positions instead of values (times the channels)"),
    Mutant("refit_in_definition_order", "reach", "slimrlfn/prune/refit.py",
           "order = _forward_order(student, batches[0])", "order = [n for n, _ in student.named_modules()]",
           T_REFIT, "convolutions refit in the order they are defined, not the order the forward pass runs them"),
    Mutant("challenge_purge_sibling_prefix", "reach", "slimrlfn/arch/challenge.py",
           'inside = os.path.join(str(self.folder), "")', "inside = str(self.folder)",
           T_CHALLENGE, "a sibling repository whose folder name starts with this one's keeps its models/ module"),
    Mutant("challenge_repo_last_on_path", "reach", "slimrlfn/arch/challenge.py",
           "sys.path.insert(0, str(self.folder))", "sys.path.append(str(self.folder))",
           T_CHALLENGE, "the repository goes last on sys.path: another models/ package earlier on it wins"),
    Mutant("challenge_namespace_not_bound", "reach", "slimrlfn/arch/challenge.py",
           "sys.modules[package] = importlib.util.module_from_spec(spec)", "importlib.util.module_from_spec(spec)",
           T_CHALLENGE, "the repository's models/ (no __init__.py) is left to the path search: a regular models package "
           "anywhere on sys.path shadows it"),
    Mutant("challenge_bytecode_flag_kept", "reach", "slimrlfn/arch/challenge.py",
           "            sys.dont_write_bytecode = bytecode\n", "",
           T_CHALLENGE, "sys.dont_write_bytecode is left True after an entry loads"),
    Mutant("challenge_programs_not_restored", "reach", "slimrlfn/arch/challenge.py",
           "            subprocess.Popen, os.system = original_programs\n", "",
           T_CHALLENGE, "subprocess.Popen / os.system stay refused after an entry loads"),
    Mutant("challenge_tile_zero_accepted", "reach", "slimrlfn/arch/challenge.py",
           "not isinstance(tile, int) or tile < 1)", "not isinstance(tile, int) or tile < 0)",
           T_CHALLENGE, "a tile of 0 from select_model is accepted"),
    # ================================================================= issue 35: int8 deployment, QAT, sensitivity

    Mutant('int8_gate_refuses_at_the_gate', 'issue35', 'slimrlfn/deploy/int8.py',
           'if drop["drop_db"] > gate:',
           'if drop["drop_db"] >= gate:',
           ('tests/deploy/test_int8_gate.py', 'tests/deploy/test_int8.py'),
           'the int8 gate refuses a drop equal to the gate (documented: accepted when <= the gate)'),
    Mutant('sensitivity_frontier_of_another_ranking', 'issue35', 'slimrlfn/quantize/sensitivity.py',
           'measured = {row["k"]: row for row in result["frontier"] if row.get("keep_fp32") == ranking[:row["k"]]}',
           'measured = {row["k"]: row for row in result["frontier"]}',
           ('tests/quantize/test_sensitivity_resume.py', 'tests/quantize/test_sensitivity.py'),
           'a resumed int8-sensitivity run keeps frontier rows measured under another ranking'),
    Mutant('qat_resume_under_another_seed', 'issue35', 'slimrlfn/quantize/qat.py',
           'identity = {k: v for k, v in asdict(self).items() if k != "save_every"}',
           'identity = {k: v for k, v in asdict(self).items() if k not in ("save_every", "seed")}',
           ('tests/quantize/test_qat_schedule.py', 'tests/quantize/test_qat.py'),
           "the seed left out of a QAT run's identity: a run resumes (or is returned finished) under another --seed"),
    Mutant('qat_lr_never_decays', 'issue35', 'slimrlfn/quantize/qat.py',
           'frac = max(done / settings.iterations,',
           'frac = max(done // settings.iterations,',
           ('tests/quantize/test_qat_schedule.py', 'tests/quantize/test_qat.py'),
           "QAT's progress by integer division: the cosine never leaves the peak learning rate"),
    Mutant('sensitivity_drop_at_range_255', 'issue35', 'slimrlfn/quantize/sensitivity.py',
           'torch.device("cpu"), data_range)["drop_db"]',
           'torch.device("cpu"), 255.0)["drop_db"]',
           ('tests/quantize/test_sensitivity_resume.py', 'tests/quantize/test_sensitivity.py'),
           "the sensitivity drop measured at data range 255 whatever the model's contract range"),
    Mutant('sensitivity_calibration_at_range_255', 'reach', 'slimrlfn/quantize/sensitivity.py',
           'for array in calibration_inputs(calibration, data_range=data_range)]',
           'for array in calibration_inputs(calibration, data_range=255.0)]',
           ('tests/quantize/test_sensitivity_resume.py', 'tests/quantize/test_sensitivity.py'),
           'the sensitivity ranking calibrates a [0, 1] model on [0, 255] inputs'),
    Mutant('sensitivity_top_k_of_every_inner_conv_dropped', 'reach', 'slimrlfn/quantize/sensitivity.py',
           'if 1 <= k <= len(inner)}',
           'if 1 <= k < len(inner)}',
           ('tests/quantize/test_sensitivity_resume.py', 'tests/quantize/test_sensitivity.py'),
           'a frontier point keeping every inner convolution in fp32 (k = their count) is left out'),
    Mutant('sensitivity_command_range_255', 'reach', 'slimrlfn/quantize/sensitivity_command.py',
           'data_range=spec.data_range, top=args.top',
           'data_range=255.0, top=args.top',
           ('tests/quantize/test_sensitivity_resume.py', 'tests/quantize/test_sensitivity.py'),
           "int8-sensitivity ranks a [0, 1] model at data range 255 (not the model's contract)"),
    Mutant('qat_command_range_255', 'reach', 'slimrlfn/quantize/command.py',
           'spec.result_name,\n                     data_range=spec.data_range)',
           'spec.result_name,\n                     data_range=255.0)',
           ('tests/quantize/test_qat_schedule.py', 'tests/quantize/test_qat.py'),
           'slimrlfn qat fine-tunes a [0, 1] model at data range 255'),
    Mutant('qat_minutes_read_as_seconds', 'reach', 'slimrlfn/quantize/qat.py',
           'budget = settings.minutes * 60.0 if',
           'budget = settings.minutes if',
           ('tests/quantize/test_qat_schedule.py', 'tests/quantize/test_qat.py'),
           "QAT's --minutes cap taken as seconds"),
    Mutant('qat_lr_follows_the_farther_end', 'reach', 'slimrlfn/quantize/qat.py',
           'frac = max(done / settings.iterations, seconds / budget',
           'frac = min(done / settings.iterations, seconds / budget',
           ('tests/quantize/test_qat_schedule.py', 'tests/quantize/test_qat.py'),
           'with a --minutes cap the cosine follows whichever end is farther, so the lr is still high when the cap stops it'),
    Mutant('qat_resume_forgets_seconds_spent', 'reach', 'slimrlfn/quantize/qat.py',
           'begin = time.perf_counter() - seconds',
           'begin = time.perf_counter()',
           ('tests/quantize/test_qat_schedule.py', 'tests/quantize/test_qat.py'),
           'a resumed QAT run forgets the seconds already spent: a --minutes cap starts again from zero'),
    Mutant('qat_keep_fp32_identity_as_tuple', 'reach', 'slimrlfn/quantize/qat.py',
           'identity["keep_fp32"] = list(self.keep_fp32)',
           'identity["keep_fp32"] = self.keep_fp32',
           ('tests/quantize/test_qat_schedule.py', 'tests/quantize/test_qat.py'),
           'keep_fp32 compared as a tuple to the list JSON holds: a mixed-precision run never resumes'),
    Mutant('qat_lr_zero_accepted', 'reach', 'slimrlfn/quantize/qat.py',
           '"lr": self.lr > 0',
           '"lr": self.lr >= 0',
           ('tests/quantize/test_qat_schedule.py', 'tests/quantize/test_qat.py'),
           'a learning rate of 0 accepted (QAT that trains nothing)'),
    Mutant('int8_gate_zero_becomes_default', 'reach', 'slimrlfn/deploy/int8.py',
           'gate = DEFAULT_MAX_DROP_DB if max_drop_db is None else max_drop_db',
           'gate = max_drop_db or DEFAULT_MAX_DROP_DB',
           ('tests/deploy/test_int8_gate.py', 'tests/deploy/test_int8.py'),
           '--int8_max_drop 0 silently becomes the default 0.05 dB gate'),
    Mutant('int8_calibration_min_side_boundary', 'reach', 'slimrlfn/deploy/int8.py',
           'if min(hr.shape[:2]) // scale < _MIN_SIDE:',
           'if min(hr.shape[:2]) // scale <= _MIN_SIDE:',
           ('tests/deploy/test_int8_gate.py', 'tests/deploy/test_int8.py'),
           'a calibration photo of exactly 32 LR pixels a side is skipped'),
    Mutant('int8_calibration_limit_ignored', 'reach', 'slimrlfn/deploy/int8.py',
           'return inputs[:limit]',
           'return inputs',
           ('tests/deploy/test_int8_gate.py', 'tests/deploy/test_int8.py'),
           'calibration_inputs returns more than limit inputs'),
    Mutant('int8_calibration_at_range_255', 'reach', 'slimrlfn/deploy/int8.py',
           'imresize_matlab(hr, 1.0 / scale), torch.device("cpu"), data_range)',
           'imresize_matlab(hr, 1.0 / scale), torch.device("cpu"), 255.0)',
           ('tests/deploy/test_int8_gate.py', 'tests/deploy/test_int8.py'),
           'int8 calibration inputs in [0, 255] for a [0, 1] model'),
    Mutant('int8_last_conv_quantized', 'reach', 'slimrlfn/deploy/int8.py',
           'keep = [convolutions[0], convolutions[-1]] if convolutions else []',
           'keep = [convolutions[0]] if convolutions else []',
           ('tests/deploy/test_int8_gate.py', 'tests/deploy/test_int8.py'),
           'the last convolution (which makes the SR) quantized instead of kept in fp32'),
    Mutant('int8_overflow_fix_always_on', 'reach', 'slimrlfn/deploy/int8.py',
           'fix = nncf.OverflowFix.ENABLE if overflow_fix else nncf.OverflowFix.DISABLE',
           'fix = nncf.OverflowFix.ENABLE',
           ('tests/deploy/test_int8_gate.py', 'tests/deploy/test_int8.py'),
           "QAT's 8-bit weights get the 7-bit overflow fix of post-training"),
    Mutant('int8_cache_key_without_data_range', 'reach', 'slimrlfn/deploy/int8.py',
           '_calibration_identity(calibration), repr(data_range),',
           '_calibration_identity(calibration),',
           ('tests/deploy/test_int8_gate.py', 'tests/deploy/test_int8.py'),
           'the int8 cache key ignores the data range: a [0, 1] graph is served for a [0, 255] one'),
    Mutant('int8_cache_key_by_file_names_only', 'reach', 'slimrlfn/deploy/int8.py',
           'digest.update(hashlib.sha256(path.read_bytes()).digest())',
           'pass  # the names only',
           ('tests/deploy/test_int8_gate.py', 'tests/deploy/test_int8.py'),
           'the calibration folder keyed by file names only: new photos under old names hit the stale cache'),
    Mutant('int8_drop_without_hr_modcrop', 'reach', 'slimrlfn/deploy/int8.py',
           'hr = modcrop(pair["hr"], scale)',
           'hr = pair["hr"]',
           ('tests/deploy/test_int8_gate.py', 'tests/deploy/test_int8.py'),
           'psnr_drop does not mod-crop HR to the scale'),
    Mutant('int8_qat_folder_without_weights', 'reach', 'slimrlfn/deploy/int8.py',
           '(record_path.is_file() and xml.is_file() and xml.with_suffix(".bin").is_file())',
           '(record_path.is_file() and xml.is_file())',
           ('tests/deploy/test_int8_gate.py', 'tests/deploy/test_int8.py'),
           'a QAT folder whose .bin is missing is taken for a finished run'),
)


@dataclass
class Result:
    name: str
    set: str
    file: str
    result: str  # killed | survived | error
    seconds: float
    killed_by: Optional[str] = None
    detail: str = ""
    tests: List[str] = field(default_factory=list)


# --------------------------------------------------------------------------- the copy


def _repo_files(repo: Path) -> List[str]:
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=repo,
                         check=True, capture_output=True).stdout.decode()
    return sorted({name for name in out.split("\0") if name})


def make_copy(repo: Path, dest: Path) -> int:
    """Copy the repository's files (tracked, and untracked ones git does not ignore) to ``dest``; returns the count."""
    count = 0
    for name in _repo_files(repo):
        source = repo / name
        if not source.is_file():  # deleted in the working tree, or a submodule
            continue
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
        count += 1
    return count


def shared_dir(repo: Path) -> Path:
    """As tests/conftest.py finds it: $SLIMRLFN_SHARED, else ../shared beside the checkout."""
    return Path(os.environ.get("SLIMRLFN_SHARED", repo.parent / "shared"))


def test_env(copy: Path, repo: Path) -> Dict[str, str]:
    env = dict(os.environ)
    shared = shared_dir(repo)
    env.update({"PYTHONPATH": os.pathsep.join([str(copy)] + [p for p in [env.get("PYTHONPATH")] if p]),
                "PYTHONDONTWRITEBYTECODE": "1", "MPLBACKEND": "Agg", "SLIMRLFN_SHARED": str(shared),
                "SLIMRLFN_MODEL_ZOO": os.environ.get("SLIMRLFN_MODEL_ZOO", str(shared / "model_zoo")),
                "SLIMRLFN_OFFLINE": os.environ.get("SLIMRLFN_OFFLINE", "1")})
    return env


def check_imports_copy(python: str, copy: Path, env: Dict[str, str]) -> None:
    """Fail unless ``python`` run in the copy (and from elsewhere, as test subprocesses are) imports the copy's slimrlfn."""
    for cwd in (copy, Path(tempfile.gettempdir())):
        found = subprocess.run([python, "-c", "import slimrlfn; print(slimrlfn.__file__)"], cwd=cwd, env=env,
                               capture_output=True, text=True)
        where = Path(found.stdout.strip() or "?").resolve()
        if found.returncode != 0 or copy.resolve() not in where.parents:
            raise SystemExit(f"mutation_check: from {cwd}, {python} imports slimrlfn from {where}, not from the copy "
                             f"{copy} ({found.stderr.strip().splitlines()[-1:] or ''}); stopping")


# --------------------------------------------------------------------------- running pytest


_FAILED = re.compile(r"^(FAILED|ERROR) (\S+)", re.MULTILINE)


def run_pytest(python: str, copy: Path, env: Dict[str, str], args: Sequence[str],
               timeout: float) -> Tuple[int, float, str]:
    """``(returncode, seconds, output)`` of ``pytest -q ARGS`` in the copy; returncode -9 on a timeout."""
    command = [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rfE", "--no-header", *args]
    begin = time.perf_counter()
    try:
        done = subprocess.run(command, cwd=copy, env=env, capture_output=True, text=True, timeout=timeout)
        code, output = done.returncode, done.stdout + done.stderr
    except subprocess.TimeoutExpired as exc:
        code = -9
        output = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else (exc.stdout or "")
    return code, time.perf_counter() - begin, output


def _first_failure(output: str) -> Optional[str]:
    match = _FAILED.search(output)
    if match:
        return match.group(2)
    for line in output.splitlines():  # an import error during collection
        if "Error" in line and ("ImportError" in line or "SyntaxError" in line or line.startswith("E ")):
            return line.strip()[:160]
    return None


def _last_line(output: str) -> str:
    lines = [line for line in output.strip().splitlines() if line.strip()]
    return lines[-1][:200] if lines else ""


def expand(copy: Path, tests: Sequence[str]) -> List[str]:
    """The test files of a selection (a folder stands for its ``test_*.py``), in order, without repeats."""
    files: List[str] = []
    for entry in tests:
        path = copy / entry
        found = ([str(f.relative_to(copy)) for f in sorted(path.rglob("test_*.py"))] if path.is_dir() else [entry])
        files += [f for f in found if f not in files]
    return files


def run_baselines(python: str, copy: Path, env: Dict[str, str], files: Sequence[str]) -> Dict[str, dict]:
    """Every test file of the selections once on the unmutated copy, in one pytest run (JUnit XML per test case):
    ``{file: {"passed", "seconds", "failure"}}``. A file that fails to collect fails."""
    junit = copy.parent / "baseline.xml"
    code, seconds, output = run_pytest(python, copy, env, ["--continue-on-collection-errors", f"--junitxml={junit}",
                                                           *files], timeout=3600)
    out = {f: {"passed": True, "seconds": 0.0, "failure": None, "tests": 0} for f in files}
    modules = {f: f[:-3].replace("/", ".") for f in files}
    cases = ElementTree.parse(junit).getroot().iter("testcase") if junit.is_file() else []
    for case in cases:
        classname, name = case.get("classname", ""), case.get("name", "")
        owner = next((f for f, m in modules.items() if classname == m or classname.startswith(m + ".")
                      or (not classname and name == m)), None)
        if owner is None:
            continue
        entry = out[owner]
        entry["seconds"] += float(case.get("time") or 0.0)
        entry["tests"] += 1
        if any(child.tag in ("failure", "error") for child in case) and entry["failure"] is None:
            entry["passed"], entry["failure"] = False, f"{owner}::{name}"
    for line in re.findall(r"^ERROR (\S+)", output, re.MULTILINE):  # collection errors
        owner = line.split("::")[0]
        if owner in out and out[owner]["failure"] is None:
            out[owner].update(passed=False, failure=line)
    for f, entry in out.items():
        if entry["tests"] == 0 and entry["passed"]:
            entry.update(passed=False, failure=f"{f}: no test ran (pytest exit {code}: {_last_line(output)})")
    return out


# --------------------------------------------------------------------------- the check


def check_mutant(mutant: Mutant, python: str, copy: Path, env: Dict[str, str], baselines: Dict[str, dict],
                 full: bool) -> Result:
    files = ["(the whole suite)"] if full else expand(copy, mutant.tests)
    result = Result(mutant.name, mutant.set, mutant.file, "error", 0.0, tests=files)
    path = copy / mutant.file
    if not path.is_file():
        result.detail = f"{mutant.file}: no such file"
        return result
    original = path.read_text()
    found = original.count(mutant.old)
    if found != 1:
        result.detail = (f"pattern not found in {mutant.file}: {mutant.old!r}" if found == 0
                         else f"pattern found {found} times in {mutant.file} (expected once): {mutant.old!r}")
        return result
    key = ["--full"] if full else files
    missing = [f for f in key if f not in baselines]
    failing = [baselines[f]["failure"] for f in key if f in baselines and not baselines[f]["passed"]]
    if missing or failing:
        result.detail = (f"test selection missing: {', '.join(missing)}" if missing
                         else f"baseline fails (unmutated copy): {failing[0]}")
        return result
    timeout = max(120.0, 4 * sum(baselines[f]["seconds"] for f in key) + 60)
    try:
        path.write_text(original.replace(mutant.old, mutant.new))
        stamp = time.time() + 2
        os.utime(path, (stamp, stamp))
        code, seconds, output = run_pytest(python, copy, env, ["-x"] + ([] if full else files), timeout)
    finally:
        path.write_text(original)
    result.seconds = seconds
    if code == 0:
        result.result, result.detail = "survived", _last_line(output)
    elif code in (1, 2):  # tests failed / collection (import) error
        result.result, result.killed_by = "killed", _first_failure(output) or _last_line(output)
    elif code == -9:
        result.result, result.killed_by, result.detail = "killed", "(timeout)", f"ran past {timeout:.0f} s"
    else:  # 3 internal error, 4 usage error, 5 no tests collected
        result.detail = f"pytest exit {code}: {_last_line(output)}"
    return result


def summary_line(results: Sequence[Result]) -> str:
    parts = []
    for name in SETS:
        ran = [r for r in results if r.set == name]
        if ran:
            parts.append(f"{name}: {sum(r.result == 'killed' for r in ran)}/{len(ran)} killed")
    return "; ".join(parts)


def targets_met(results: Sequence[Result]) -> bool:
    audit = [r for r in results if r.set in ("audit", "issue35", "reach")]  # each of these must be killed
    own = [r for r in results if r.set == "own"]
    ok = all(r.result == "killed" for r in audit)
    if own:
        ok = ok and sum(r.result == "killed" for r in own) >= OWN_SHARE * len(own) - 1e-9
    return ok


def format_table(results: Sequence[Result]) -> str:
    rows = [("mutant", "set", "file", "result", "s", "killed by / detail")]
    for r in results:
        rows.append((r.name, r.set, r.file.replace("slimrlfn/", ""), r.result, f"{r.seconds:.1f}",
                     r.killed_by if r.result == "killed" else r.detail))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row[:5], widths)) + "  " + row[5] for row in rows]
    lines.insert(1, "-" * min(160, len(lines[0]) + 20))
    return "\n".join(lines)


# --------------------------------------------------------------------------- command line


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2
        sys.stderr.write(f"mutation_check.py: error: {message}\n")
        raise SystemExit(2)


def _default_python() -> str:
    venv = REPO / ".venv" / "bin" / "python"
    return str(venv) if venv.is_file() else sys.executable


def load_table(path: str) -> Tuple[Mutant, ...]:
    """Extra mutants from a Python file that defines ``MUTANTS`` (a sequence of ``Mutant``, given in its namespace)."""
    namespace = {"Mutant": Mutant, "__name__": "mutation_table"}
    exec(compile(Path(path).read_text(), path, "exec"), namespace)  # noqa: S102 - the developer's own table
    return tuple(namespace["MUTANTS"])


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    global MUTANTS
    parser = _Parser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=SETS, action="append", dest="sets",
                        help="only this set (repeatable; default both)")
    parser.add_argument("--only", action="append", metavar="NAME", help="only this mutant (repeatable)")
    parser.add_argument("--full", action="store_true", help="run the whole suite per mutant instead of its selection")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    parser.add_argument("--python", default=_default_python(), help="the Python that runs pytest (default: .venv's)")
    parser.add_argument("--report", default=str(REPO / "runs" / "mutation_check.json"), help="the JSON report")
    parser.add_argument("--keep", action="store_true", help="keep the temporary copy (its path is printed)")
    parser.add_argument("--table", action="append", metavar="FILE",
                        help="also the mutants of this Python file (it defines MUTANTS; repeatable)")
    args = parser.parse_args(argv)
    for table in args.table or []:
        if not Path(table).is_file():
            parser.error(f"--table {table}: no such file; expected a Python file that defines MUTANTS")
        MUTANTS = MUTANTS + load_table(table)
    names = {m.name for m in MUTANTS}
    unknown = [n for n in args.only or [] if n not in names]
    if unknown:
        parser.error(f"--only {unknown[0]}: no such mutant; expected one of {', '.join(sorted(names))}")
    if not Path(args.python).is_file():
        parser.error(f"--python {args.python}: no such file; expected the project's Python (make .venv first)")
    return args


def selected(args: argparse.Namespace) -> List[Mutant]:
    chosen = [m for m in MUTANTS if (not args.sets or m.set in args.sets) and (not args.only or m.name in args.only)]
    if not chosen:
        sys.stderr.write("mutation_check.py: error: --set and --only leave no mutant to check\n")
        raise SystemExit(2)
    return chosen


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    mutants = selected(args)
    if args.list:
        for m in mutants:
            print(f"{m.set:5s}  {m.name:28s}  {m.file:32s}  {m.what}")
        return 0
    begin = time.perf_counter()
    root = Path(tempfile.mkdtemp(prefix="slimrlfn-mutants-"))
    copy = root / "repo"
    results: List[Result] = []
    baselines: Dict[str, dict] = {}
    try:
        files = make_copy(REPO, copy)
        env = test_env(copy, REPO)
        check_imports_copy(args.python, copy, env)
        print(f"copied {files} files to {copy}; slimrlfn imported from the copy; ../shared: "
              f"{'present' if (shared_dir(REPO) / 'model_zoo').is_dir() else 'absent'} ({shared_dir(REPO)}); "
              f"{len(mutants)} mutants, {'the whole suite' if args.full else 'targeted selections'}", flush=True)
        if args.full:
            code, seconds, output = run_pytest(args.python, copy, env, [], timeout=4 * 3600)
            baselines["--full"] = {"passed": code == 0, "seconds": seconds, "tests": None,
                                   "failure": None if code == 0 else (_first_failure(output) or _last_line(output))}
        else:
            files = [f for m in mutants for f in expand(copy, m.tests)]
            present = list(dict.fromkeys(f for f in files if (copy / f).is_file()))
            baselines = run_baselines(args.python, copy, env, present)
        baseline_s = sum(b["seconds"] for b in baselines.values())
        broken = [b["failure"] for b in baselines.values() if not b["passed"]]
        print(f"baseline (unmutated): {len(baselines)} test files, {baseline_s:.0f} s of tests"
              + (f"; FAILING: {'; '.join(broken)}" if broken else ", all pass"), flush=True)
        for index, mutant in enumerate(mutants, 1):
            result = check_mutant(mutant, args.python, copy, env, baselines, args.full)
            results.append(result)
            shown = result.killed_by if result.result == "killed" else result.detail
            print(f"[{index:2d}/{len(mutants)}] {mutant.name:28s} {result.result:8s} {result.seconds:6.1f} s  {shown}",
                  flush=True)
    finally:
        if args.keep:
            print(f"the copy is kept at {copy}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    total = time.perf_counter() - begin
    ok = targets_met(results)
    line = summary_line(results)
    print()
    print(format_table(results))
    print()
    print(f"{line}  ({total / 60:.1f} min; targets {'met' if ok else 'NOT met'}: every audit, issue35 and reach "
          f"mutant killed, >= 20 of 22 own)")
    report = {"kind": "slimrlfn-mutation-check", "time": datetime.now(timezone.utc).isoformat(),
              "summary": line, "targets_met": ok, "seconds": total, "full": args.full, "python": args.python,
              "shared": str(shared_dir(REPO)), "shared_present": (shared_dir(REPO) / "model_zoo").is_dir(),
              "baselines": baselines,
              "results": [{**asdict(r), "what": m.what, "old": m.old, "new": m.new}
                          for r, m in zip(results, mutants)]}
    atomic_write_json(Path(args.report), report)  # the project's own (not the mutated copy's)
    print(f"report: {args.report}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
