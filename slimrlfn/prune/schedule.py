"""Iterative structured pruning with distillation fine-tuning: remove a few channels, fine-tune, validate, repeat.

Follows the last stage of SlimRLFN (NTIRE 2024 ESR, team 21), which turned SlimRLFN into
SlimRLFN-prune (``prune_channels = [28] * 10 + [30, 30]``). Step 0 measures the starting model; each
later step

1. scores the channels of the units in ``scope`` (:mod:`slimrlfn.prune.criteria`: ``l1``, ``l2``, ``taylor``
   from ``taylor_batches`` batches, ``random``) and picks what to remove (:mod:`slimrlfn.prune.plan`):
   ``rank="per_layer"``: ``channels_per_step`` (k) from every unit; ``rank="global"``: k in all, the
   lowest mean-normalised scores across units; ``latency_aware``: the candidate steps "k channels
   from unit u" are each timed on the current device, and the one saving the most latency per unit
   of importance removed is taken. With ``multiple_of`` m every width is kept a multiple of m.
   No unit goes below its minimum (``min_channels``, m, or its ``target_shape`` width);
2. cuts them (exact surgery); with ``refit_patches`` > 0 every convolution of the cut model is then refit by least
   squares to the uncut model's layer outputs on that many LR patches (:mod:`slimrlfn.prune.refit`; the PSNR of
   the plain cut is ``psnr_cut``); validates (``psnr_before``);
3. fine-tunes for ``finetune_iterations`` (and at most ``finetune_minutes``): L1 to the HR patch +
   ``distill_weight`` x L1 to the teacher's output (the unpruned starting model by default), Adam,
   cosine decay to ``min_lr_ratio`` x ``lr``, on HR patches with their MATLAB-bicubic LR
   (:mod:`slimrlfn.train.finetune`);
4. validates again (``psnr_after``), counts params and FLOPs (fvcore), times the model alternating
   with RLFN and computes the NTIRE score (:mod:`slimrlfn.prune.measure`);
5. writes ``step_NN/model.pth`` + ``model.json`` and appends its record to ``records.jsonl``.

It stops when every target given is met (``target_params`` M, ``target_flops`` G,
``target_latency`` ms, ``target_shape``), when ``psnr_after`` falls below ``psnr_floor`` (the final
model is then the last step above it), after ``max_steps``, or when nothing is left to remove.
The final model is exported as ``final.pth`` + ``final.json`` (config + state_dict, like a zoo
model: ``slimrlfn eval --checkpoint OUT/final.pth``), and ``summary.json`` says why it stopped.

Files under ``out_dir``: ``run.json`` (the settings that define the run, the device),
``records.jsonl``, ``step_NN/``, ``final.*``, ``summary.json``; every file is written atomically.
Running again with the same ``out_dir`` resumes after the last finished step (the settings that
shape the result must match; targets, floor and ``max_steps`` may change). Bad input (a target
already met or unreachable, a step that would empty a layer, a floor above the starting PSNR, a
folder of another run) raises :class:`slimrlfn.core.errors.UserError` before anything is written.
"""
from __future__ import annotations

import copy
import time
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import torch
import torch.nn as nn
from tqdm.auto import tqdm

from slimrlfn.arch.checkpoints import load_checkpoint, save_checkpoint, weights_digest
from slimrlfn.arch.config import build_model, config_of
from slimrlfn.arch.source import model_from_text
from slimrlfn.core.devices import describe_device, resolve_device
from slimrlfn.core.errors import UserError
from slimrlfn.core.files import atomic_write_json
from slimrlfn.core.outputs import check_output_dir
from slimrlfn.data.patches import PatchDataset
from slimrlfn.data.validation import load_validation
from slimrlfn.metrics.counts import architecture_counts
from slimrlfn.prune.criteria import accumulate_gradients, channel_scores, lowest
from slimrlfn.prune.groups import ChannelGroups, prune_in_place, rebuild
from slimrlfn.prune.measure import measure_model, paired_latency
from slimrlfn.prune.plan import next_chunk, per_layer_count, plan_counts, resolve_target_shape
from slimrlfn.prune.refit import refit_pruned
from slimrlfn.prune.records import (
    check_resume,
    clear_start,
    load_records,
    run_document,
    step_checkpoint,
    write_records,
)
from slimrlfn.prune.settings import PruneSettings, check_settings
from slimrlfn.prune.units import config_with_widths, unit_widths, units_of
from slimrlfn.train.finetune import batch_of, finetune
from slimrlfn.train.losses import SRLoss, load_teacher
from slimrlfn.train.validation import validate_psnr

__all__ = ["PruneRun", "prune_iteratively"]
_PATCHES_PER_STEP = 10_000_000  # patch-number offset between steps (patch i is a pure function of (seed, i))


class PruneRun:
    """One pruning run; everything that can be checked is checked before the first file is written."""

    def __init__(self, settings: PruneSettings, log: Callable[[str], None]) -> None:
        check_settings(settings)
        self.s, self.log = settings, log
        self.device = resolve_device(settings.device)
        self.out_dir = Path(settings.out_dir)
        check_output_dir(self.out_dir, "--out_dir")
        start = model_from_text(settings.model, "--model")
        self.start_model, self.start_config = start.model, start.config
        self.document = run_document(settings, self.start_config, weights_digest(self.start_model))
        self.resuming = check_resume(self.out_dir, self.document)
        self.records = load_records(self.out_dir) if self.resuming else []
        self.scope_units = [u.name for u in units_of(self.start_config, settings.scope)]
        start_widths = unit_widths(self.start_config)
        self.target = resolve_target_shape(settings.target_shape, self.start_config)
        self.minimums = self._minimums(start_widths)
        self._check_step_size(start_widths)
        self.val_images = load_validation(settings.val_dir, settings.val_split, self.start_config["upscale"],
                                          settings.val_max_images)
        self._dataset = None
        if settings.finetune_iterations > 0 or settings.criterion == "taylor" or settings.refit_patches > 0:
            _ = self.dataset  # an empty or unreadable --hr_dir is refused here, before the run folder is touched
        self.start_measure: Optional[Dict[str, Any]] = None

    def _minimums(self, start: Dict[str, int]) -> Dict[str, int]:
        s = self.s
        floor = max(s.min_channels, s.multiple_of)
        if self.target is None:
            return {u: min(floor, start[u]) for u in self.scope_units}
        for unit, width in self.target.items():
            if width > start[unit]:
                raise UserError(f"--target_shape is unreachable: {unit} would grow from {start[unit]} to {width} "
                                f"channels; pruning only removes channels")
            if width < start[unit] and unit not in self.scope_units:
                kind = unit.split(".")[-1] if unit != "features" else "feature"
                kind = "inner" if kind in ("c1_r", "c2_r") else kind
                raise UserError(f"--target_shape is unreachable with --scope {' '.join(s.scope)}: {unit} must go from "
                                f"{start[unit]} to {width} channels; add {kind} to --scope")
        if all(self.target[u] == start[u] for u in self.target):
            raise UserError("--target_shape is already met: the starting model has that shape")
        return {u: self.target[u] for u in self.scope_units}

    def _check_step_size(self, start: Dict[str, int]) -> None:
        k = self.s.channels_per_step
        active = [u for u in self.scope_units if start[u] > self.minimums[u]]
        if self.s.rank == "global" and not self.s.latency_aware:
            total = sum(start[u] for u in active)
            if active and k >= total:
                raise UserError(f"--channels_per_step {k} would remove every channel of --scope "
                                f"{' '.join(self.s.scope)} ({total} channels); expected fewer than {total}")
            return
        for unit in active:
            if k >= start[unit]:
                raise UserError(f"--channels_per_step {k} would remove every channel of {unit} ({start[unit]} channels); "
                                f"expected fewer than {min(start[u] for u in active)} (the narrowest layer in --scope)")

    # -- inputs --------------------------------------------------------------------------------

    @property
    def dataset(self):
        if self._dataset is None:
            self._dataset = PatchDataset(self.s.hr_dirs, self.start_config["upscale"], self.s.lr_patch, self.s.seed,
                                         augment=True)
        return self._dataset

    def _teacher(self) -> Optional[nn.Module]:
        spec = self.s.teacher
        if self.s.distill_weight == 0 or str(spec).lower() == "none":
            return None
        if spec == "start":
            teacher = copy.deepcopy(self.start_model)
        else:
            teacher, _ = load_teacher(spec, self.start_config["upscale"], self.device)
        teacher = teacher.to(self.device).eval()
        for param in teacher.parameters():
            param.requires_grad_(False)
        return teacher

    def _measure(self, model: nn.Module) -> Dict[str, Any]:
        s = self.s
        return measure_model(model, self.val_images, self.device, s.latency_size, s.latency_runs, s.latency_warmup,
                             s.seed, s.latency_target, s.latency_seconds)

    # -- checks against the starting point -----------------------------------------------------

    def _check_start(self, first: Dict[str, Any]) -> None:
        s = self.s
        if s.psnr_floor is not None and s.psnr_floor >= first["psnr_after"]:
            raise UserError(f"--psnr_floor {s.psnr_floor} dB is not below the starting PSNR "
                            f"{first['psnr_after']:.3f} dB on {s.val_dir}; expected a floor below it")
        if self.resuming:
            return
        given = self._metric_targets()
        if given and all(first[key] <= value for key, (value, _) in given.items()):
            text = ", ".join(f"{flag} {value} (start: {first[key]:.4g})" for key, (value, flag) in given.items())
            raise UserError(f"target already met by the starting model: {text}; expected targets below it")
        if given:
            lowest_config = config_with_widths(self.start_config, self.minimums)
            counts = architecture_counts(lowest_config)
            reach = {"params_m": counts["params_m"], "flops_g": counts["flops_g"]}
            if "latency_ms" in given:
                reach["latency_ms"] = paired_latency(build_model(lowest_config), None, self.device, s.latency_size,
                                                     s.latency_runs, s.latency_warmup, s.seed)["latency_ms"]
            for key, (value, flag) in given.items():
                if reach[key] > value:
                    raise UserError(f"{flag} {value} is unreachable: every unit of --scope {' '.join(s.scope)} at its "
                                    f"minimum width still gives {reach[key]:.4g}; widen --scope or raise the target")

    def _metric_targets(self) -> Dict[str, Tuple[float, str]]:
        s = self.s
        pairs = (("params_m", s.target_params, "--target_params"), ("flops_g", s.target_flops, "--target_flops"),
                 ("latency_ms", s.target_latency, "--target_latency"))
        return {key: (value, flag) for key, value, flag in pairs if value is not None}

    def _stop_reason(self, widths: Dict[str, int]) -> Optional[str]:
        s, last = self.s, self.records[-1]
        if s.psnr_floor is not None and last["psnr_after"] < s.psnr_floor:
            return "psnr_floor"
        given = self._metric_targets()
        if given and all(last[key] <= value for key, (value, _) in given.items()):
            return "target"
        if self.target is not None and all(widths[u] <= self.minimums[u] for u in self.scope_units):
            return "target_shape"
        if s.max_steps is not None and last["step"] >= s.max_steps:
            return "max_steps"
        if all(per_layer_count(widths[u], s.channels_per_step, s.multiple_of, self.minimums[u]) == 0
               and next_chunk(widths[u], s.multiple_of, self.minimums[u]) == 0 for u in self.scope_units):
            return "exhausted"
        return None

    # -- one step ------------------------------------------------------------------------------

    def _save_step(self, model: nn.Module, record: Dict[str, Any]) -> None:
        save_checkpoint(model, step_checkpoint(self.out_dir, record["step"]),
                        extra={"step": record["step"], "psnr": record["psnr_after"], "criterion": self.s.criterion})
        self.records.append(record)
        write_records(self.out_dir, self.records)

    def _scores(self, groups: ChannelGroups, teacher: Optional[nn.Module], step: int) -> Dict[str, List[torch.Tensor]]:
        s = self.s
        if s.criterion == "taylor":
            loss = SRLoss("l1", "l1", s.distill_weight if teacher is not None else 0.0)
            first = step * _PATCHES_PER_STEP + _PATCHES_PER_STEP // 2
            batches = (batch_of(self.dataset, first + i * s.batch_size, s.batch_size, self.device)
                       for i in range(max(1, s.taylor_batches)))

            def loss_fn(sr, lr, hr):
                teacher_sr = None
                if teacher is not None:
                    with torch.no_grad():
                        teacher_sr = teacher(lr)
                return loss(sr, hr, teacher_sr)[0]

            accumulate_gradients(groups.model, batches, loss_fn)
        scores = channel_scores(groups, s.criterion, s.reduction, seed=s.seed * 1000 + step)
        groups.model.zero_grad(set_to_none=True)
        return scores

    def _refit_batches(self, step: int) -> List[torch.Tensor]:
        """``refit_patches`` LR patches (batches of at most 8, in [0, 255]) of this step, apart from its fine-tuning
        and Taylor patches."""
        first = step * _PATCHES_PER_STEP + 3 * _PATCHES_PER_STEP // 4
        count = self.s.refit_patches
        return [batch_of(self.dataset, first + i, min(8, count - i), self.device)[0] for i in range(0, count, 8)]

    def _latency_saved(self, config: Dict[str, Any], step: int) -> Callable[[str, int], float]:
        s = self.s
        base = build_model(config)
        widths = unit_widths(config)

        def saved(unit: str, count: int) -> float:
            candidate = build_model(config_with_widths(config, {unit: widths[unit] - count}))
            timing = paired_latency(candidate, base, self.device, s.latency_size, s.latency_runs,
                                    s.latency_warmup, s.seed + step)
            return timing["baseline_min_ms"] - timing["latency_min_ms"]  # minima: steadier under load

        return saved

    def step(self, model: nn.Module, teacher: Optional[nn.Module]) -> Tuple[nn.Module, Optional[Dict[str, Any]]]:
        """Prune, fine-tune and measure one step; ``(model, None)`` when nothing can be removed."""
        s = self.s
        begin = time.perf_counter()
        step = len(self.records)
        config = config_of(model)
        widths = {u: w for u, w in unit_widths(config).items() if u in self.scope_units}
        work = copy.deepcopy(model).to(self.device)
        groups = ChannelGroups(work)
        scores = self._scores(groups, teacher, step)
        latency_fn = self._latency_saved(config, step) if s.latency_aware else None
        counts, table = plan_counts(widths, scores, self.minimums, s.channels_per_step, s.rank, s.multiple_of,
                                    latency_fn)
        if not counts:
            return model, None
        removal = {}
        for unit, count in counts.items():
            per_subgroup = [lowest(v, count) for v in scores[unit]]
            removal[unit] = per_subgroup
        prune_in_place(groups, removal)
        pruned = rebuild(work).to(self.device)
        psnr_before = validate_psnr(pruned, self.val_images, self.device, config["upscale"])["psnr"]
        refit = None
        if s.refit_patches > 0:
            refit_begin = time.perf_counter()
            pruned, layers = refit_pruned(model.to(self.device).eval(), removal, self._refit_batches(step))
            refit = {"psnr_cut": psnr_before, "patches": s.refit_patches, "layers": len(layers),
                     "seconds": time.perf_counter() - refit_begin}
            psnr_before = validate_psnr(pruned, self.val_images, self.device, config["upscale"])["psnr"]
        tuning = {"iterations": 0, "seconds": 0.0}
        if s.finetune_iterations > 0:
            tuning = finetune(pruned, self.dataset, teacher, s.finetune_iterations, s.batch_size, s.lr,
                              s.distill_weight, self.device, first_patch=step * _PATCHES_PER_STEP,
                              max_seconds=None if s.finetune_minutes is None else 60.0 * s.finetune_minutes,
                              min_lr_ratio=s.min_lr_ratio, progress=s.progress, desc=f"step {step} fine-tune")
        measured = self._measure(pruned)
        record = {"step": step, "criterion": s.criterion, **measured, "psnr_before": psnr_before,
                  "psnr_after": measured.pop("psnr"), "removed": counts,
                  "removed_channels": removal, "plan": table, "refit": refit, "finetune": tuning,
                  "seconds": time.perf_counter() - begin, "time": datetime.now(timezone.utc).isoformat()}
        record.pop("psnr", None)
        return pruned, record

    # -- the loop ------------------------------------------------------------------------------

    def run(self) -> Dict[str, Any]:
        s = self.s
        teacher = self._teacher()
        if self.resuming and self.records:
            last = self.records[-1]
            model, _ = load_checkpoint(step_checkpoint(self.out_dir, last["step"]))
            model = model.to(self.device)
            self._check_start(self.records[0])
            self.log(f"resuming {self.out_dir} after step {last['step']} (PSNR {last['psnr_after']:.3f} dB, "
                     f"{last['params_m']:.4f} M params, {last['flops_g']:.3f} G FLOPs)")
        else:
            model = self.start_model.to(self.device)
            measured = dict(self.start_measure) if self.start_measure is not None else self._measure(model)
            first = {"step": 0, "criterion": s.criterion, **measured, "psnr_before": measured["psnr"],
                     "psnr_after": measured.pop("psnr"), "removed": {}, "removed_channels": {}, "plan": [],
                     "finetune": {"iterations": 0, "seconds": 0.0}, "seconds": 0.0,
                     "time": datetime.now(timezone.utc).isoformat()}
            first.pop("psnr", None)
            self._check_start(first)
            clear_start(self.out_dir)  # what a failed start of another run left, if anything
            self.out_dir.mkdir(parents=True, exist_ok=True)
            atomic_write_json(self.out_dir / "run.json", {**self.document, "device_info": describe_device(self.device)})
            self._save_step(model, first)
            self.log(self._line(first))
        while True:
            reason = self._stop_reason(unit_widths(config_of(model)))
            if reason is not None:
                break
            model, record = self.step(model, teacher)
            if record is None:
                reason = "exhausted"
                break
            self._save_step(model, record)
            self.log(self._line(record))
        return self._finish(reason)

    def _line(self, r: Dict[str, Any]) -> str:
        removed = ", ".join(f"{u} -{c}" for u, c in r["removed"].items()) or "start"
        refit = r.get("refit")
        cut = f"cut {refit['psnr_cut']:.3f}, refit " if refit else ""
        return (f"step {r['step']:2d} [{removed}]: PSNR {cut}{r['psnr_before']:.3f} -> {r['psnr_after']:.3f} dB, "
                f"{r['params_m']:.4f} M params, {r['flops_g']:.3f} G FLOPs, {r['latency_ms']:.1f} ms "
                f"(RLFN {r['rlfn_latency_ms']:.1f} ms), NTIRE score {r['ntire_score']:.3f}, "
                f"{r['finetune']['iterations']} fine-tune iterations, {r['seconds']:.0f} s")

    def _finish(self, reason: str) -> Dict[str, Any]:
        s = self.s
        keep = [r for r in self.records if s.psnr_floor is None or r["psnr_after"] >= s.psnr_floor]
        final = keep[-1]
        model, _ = load_checkpoint(step_checkpoint(self.out_dir, final["step"]))
        save_checkpoint(model, self.out_dir / "final.pth",
                        extra={"step": final["step"], "psnr": final["psnr_after"], "val_dir": str(s.val_dir),
                               "criterion": s.criterion, "source": s.model, "run": str(self.out_dir)})
        summary = {"stop_reason": reason, "steps": len(self.records) - 1, "final_step": final["step"],
                   "final_checkpoint": str(self.out_dir / "final.pth"), "final_config": final["config"],
                   "final_psnr": final["psnr_after"], "final_params_m": final["params_m"],
                   "final_flops_g": final["flops_g"], "final_latency_ms": final["latency_ms"],
                   "final_ntire_score": final["ntire_score"], "start_psnr": self.records[0]["psnr_after"],
                   "settings": asdict(s), "device_info": describe_device(self.device)}
        atomic_write_json(self.out_dir / "summary.json", summary)
        self.log(f"stopped ({reason}) after step {len(self.records) - 1}; final model: step {final['step']} "
                 f"-> {self.out_dir / 'final.pth'}")
        return summary


def prune_iteratively(settings: PruneSettings, log: Optional[Callable[[str], None]] = None,
                      start_measure: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """Run (or resume) the pruning schedule ``settings`` describes; returns the run summary (also ``summary.json``).

    ``start_measure``: the starting model's :func:`~slimrlfn.prune.measure.measure_model` taken already (the
    explorer times step 0 once for all its criteria); a fresh run's step 0 then records it instead of timing again.
    """
    if log is None:
        log = tqdm.write if settings.progress else (lambda _line: None)
    run = PruneRun(settings, log)
    run.start_measure = start_measure
    return run.run()


