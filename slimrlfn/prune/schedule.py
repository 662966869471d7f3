"""The one pruning run: remove a few channels, fine-tune, validate, repeat; for any model that can be pruned.

Follows the last stage of SlimRLFN (NTIRE 2024 ESR, team 21), which turned SlimRLFN into SlimRLFN-prune
(``prune_channels = [28] * 10 + [30, 30]``). The starting model is any model reference
(:class:`slimrlfn.arch.ref.ModelRef`); its family picks the pruner (:mod:`slimrlfn.prune.pruners`: ``rlfn`` for
RLFN / SlimRLFN, ``any`` for every other network), which knows its units, cuts and files. Step 0 measures the
starting model; each later step

1. scores the channels of every unit (:mod:`slimrlfn.prune.criteria`: ``l1``, ``l2``, ``taylor`` from
   ``taylor_batches`` batches, ``random``; the same criteria for both pruners) and picks what to remove
   (:mod:`slimrlfn.prune.plan`): ``fraction`` of every unit; or ``rank="per_layer"``: ``channels_per_step`` (k)
   from every unit; ``rank="global"``: k in all, the lowest mean-normalised scores across units;
   ``latency_aware``: the candidate steps "k channels from unit u" are each timed on the current device, and the one
   saving the most latency per unit of importance removed is taken. With ``multiple_of`` m every width is kept a
   multiple of m (and a unit behind a pixel shuffle loses whole blocks of r^2). No unit goes below its minimum
   (:mod:`slimrlfn.prune.stops`);
2. cuts them (exact surgery); with ``refit_patches`` > 0 (RLFN / SlimRLFN) every convolution of the cut model is
   then refit by least squares to the uncut model's layer outputs on that many LR patches
   (:mod:`slimrlfn.prune.refit`; the PSNR of the plain cut is ``psnr_cut``); validates (``psnr_before``);
3. fine-tunes for ``finetune_iterations`` (and at most ``finetune_minutes``): L1 to the HR patch +
   ``distill_weight`` x L1 to the teacher's output (the unpruned starting model by default; another teacher of
   another range is converted), Adam, cosine decay to ``min_lr_ratio`` x ``lr``, on HR patches with their
   MATLAB-bicubic LR (:mod:`slimrlfn.train.finetune`; through the inference path for the ``any`` pruner);
4. validates again (``psnr_after``, and the PSNR of every ``val_dirs`` set), counts params and FLOPs, times the
   model alternating with RLFN and computes the NTIRE score (:mod:`slimrlfn.prune.measure`);
5. writes ``step_NN/model.pth`` + ``model.json`` (a workbook checkpoint, or a derived model) and appends its record
   to ``records.jsonl``.

It stops when every target given is met (``target_params`` M, ``target_flops`` G, ``target_latency`` ms,
``target_shape``), when ``psnr_after`` falls below ``psnr_floor`` (the final model is then the last step above it),
after ``max_steps``, or when nothing is left to remove. The final model is exported as ``final.pth`` +
``final.json`` (``slimrlfn eval --checkpoint OUT/final.pth``), and ``summary.json`` says why it stopped.

Files under ``out_dir`` (:mod:`slimrlfn.prune.records`): ``run.json``, ``records.jsonl``, ``step_NN/``,
``final.*``, ``summary.json``; every file is written atomically. Running again with the same ``out_dir`` resumes
after the last finished step (the settings that shape the result must match; targets, floor and ``max_steps`` may
change; ``overwrite`` starts again). Bad input raises :class:`slimrlfn.core.errors.UserError` before anything is
written.
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

from slimrlfn.arch.checkpoints import weights_digest
from slimrlfn.arch.derived import first_line
from slimrlfn.arch.ref import load_model
from slimrlfn.core.devices import describe_device, resolve_device
from slimrlfn.core.errors import UserError
from slimrlfn.core.files import atomic_write_json
from slimrlfn.core.locks import output_lock
from slimrlfn.core.outputs import check_output_dir
from slimrlfn.core.progress import tqdm
from slimrlfn.data.patches import PatchDataset
from slimrlfn.data.validation import load_validation
from slimrlfn.prune.criteria import accumulate_gradients, channel_scores, lowest
from slimrlfn.prune.measure import measure_model, paired_latency
from slimrlfn.prune.plan import plan_counts
from slimrlfn.prune.pruners import lcm, make_pruner
from slimrlfn.prune.records import (check_resume, clear_run, clear_start, load_records, run_document, step_checkpoint,
                                    write_records)
from slimrlfn.prune.refit import refit_pruned
from slimrlfn.prune.settings import PruneSettings, check_settings
from slimrlfn.prune.stops import check_start, check_step_size, minimum_widths, stop_reason
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
        self.spec = load_model(settings.model, "--model")
        self.contract = self.spec.contract
        self.pruner = make_pruner(self.spec, settings.scope)
        if settings.refit_patches > 0 and self.pruner.name != "rlfn":
            raise UserError(f"--refit_patches {settings.refit_patches}: only for RLFN and SlimRLFN (the refit follows "
                            f"their layers); give --refit_patches 0")
        start = self.spec.model
        self.document = run_document(settings, self.pruner.name, self.pruner.describe(start), weights_digest(start))
        self.resuming = False if settings.overwrite else check_resume(self.out_dir, self.document)
        self.records = load_records(self.out_dir) if self.resuming else []
        start_widths = self.pruner.widths(start)
        blocks = self.pruner.blocks()
        self.multiples = {u: lcm(settings.multiple_of, blocks[u]) for u in start_widths}
        self.target = self.pruner.target_widths(settings.target_shape)
        self.minimums = minimum_widths(settings, self.pruner.all_widths(start), list(start_widths), self.target,
                                       blocks)
        check_step_size(settings, start_widths, self.minimums)
        scale = self.contract.scale
        smallest = self.contract.min_size
        self.val_images = load_validation(settings.val_dir, settings.val_split, scale, settings.val_max_images,
                                          min_size=smallest)
        self.val_sets = {Path(d).name: load_validation(d, scale=scale, flag="--val_dirs", min_size=smallest)
                         for d in settings.val_dirs}
        self._dataset = None
        if settings.finetune_iterations > 0 or settings.criterion == "taylor" or settings.refit_patches > 0:
            _ = self.dataset  # an empty or unreadable --hr_dir is refused here, before the run folder is touched
        self.start_measure: Optional[Dict[str, Any]] = None

    # -- inputs --------------------------------------------------------------------------------

    @property
    def dataset(self):
        if self._dataset is None:
            self._dataset = PatchDataset(self.s.hr_dirs, self.contract.scale, self.s.lr_patch, self.s.seed,
                                         augment=True)
        return self._dataset

    def _batch(self, first: int, size: int) -> Tuple[torch.Tensor, torch.Tensor]:
        return batch_of(self.dataset, first, size, self.device, self.contract.data_range)

    def _teacher(self) -> Optional[nn.Module]:
        spec = self.s.teacher
        if self.s.distill_weight == 0 or str(spec).lower() == "none":
            return None
        if spec == "start":
            teacher = copy.deepcopy(self.spec.model)
        else:
            teacher, _ = load_teacher(spec, self.contract, self.device)
        teacher = teacher.to(self.device).eval()
        for param in teacher.parameters():
            param.requires_grad_(False)
        return teacher

    def _measure(self, model: nn.Module) -> Dict[str, Any]:
        s = self.s
        measured = measure_model(model, self.val_images, self.device, s.latency_size, s.latency_runs, s.latency_warmup,
                                 s.seed, s.latency_target, s.latency_seconds, contract=self.contract,
                                 counts=self.pruner.counts(model), describe=self.pruner.describe(model))
        measured["psnr_sets"] = {name: validate_psnr(model, images, self.device, self.contract.scale,
                                                     data_range=self.contract.data_range)["psnr"]
                                 for name, images in self.val_sets.items()}
        return measured

    def _reach(self, with_latency: bool) -> Dict[str, float]:
        """The counts (and latency) of the starting model with every unit at its minimum."""
        lowest_model = self.pruner.with_widths(self.spec.model, self.minimums)
        reach = dict(self.pruner.counts(lowest_model))
        if with_latency:
            s = self.s
            reach["latency_ms"] = paired_latency(lowest_model, None, self.device, s.latency_size, s.latency_runs,
                                                 s.latency_warmup, s.seed, data_range=self.contract.data_range)["latency_ms"]
        return reach

    # -- one step ------------------------------------------------------------------------------

    def _removals(self) -> List[Dict[str, List[List[int]]]]:
        return [r["removed_channels"] for r in self.records[1:]]

    def _save_step(self, model: nn.Module, record: Dict[str, Any]) -> None:
        self.records.append(record)
        self.pruner.save(model, step_checkpoint(self.out_dir, record["step"]), self._removals(),
                         {"step": record["step"], "psnr": record["psnr_after"], "criterion": self.s.criterion,
                          "label": f"{self.spec.label}-pruned{record['step']}"})
        write_records(self.out_dir, self.records)

    def _scores(self, groups: Any, teacher: Optional[nn.Module], step: int) -> Dict[str, List[torch.Tensor]]:
        s = self.s
        if s.criterion == "taylor":
            loss = SRLoss("l1", "l1", s.distill_weight if teacher is not None else 0.0,
                          data_range=self.contract.data_range)
            first = step * _PATCHES_PER_STEP + _PATCHES_PER_STEP // 2
            batches = (self._batch(first + i * s.batch_size, s.batch_size) for i in range(s.taylor_batches))

            def loss_fn(sr, lr, hr):
                teacher_sr = None
                if teacher is not None:
                    with torch.no_grad():
                        teacher_sr = teacher(lr)
                return loss(sr, hr, teacher_sr)[0]

            for param in groups.model.parameters():  # a loaded entry comes with requires_grad off; this is a copy
                param.requires_grad_(True)
            accumulate_gradients(groups.model, batches, loss_fn)
        scores = channel_scores(groups, s.criterion, s.reduction, seed=s.seed * 1000 + step)
        groups.model.zero_grad(set_to_none=True)
        return scores

    def _refit_batches(self, step: int) -> List[torch.Tensor]:
        """``refit_patches`` LR patches (batches of at most 8) of this step, apart from its fine-tuning and Taylor
        patches."""
        first = step * _PATCHES_PER_STEP + 3 * _PATCHES_PER_STEP // 4
        count = self.s.refit_patches
        return [self._batch(first + i, min(8, count - i))[0] for i in range(0, count, 8)]

    def _latency_saved(self, model: nn.Module, step: int) -> Callable[[str, int], float]:
        s = self.s
        base = self.pruner.with_widths(model, {})
        widths = self.pruner.widths(model)

        def saved(unit: str, count: int) -> float:
            candidate = self.pruner.with_widths(model, {unit: widths[unit] - count})
            timing = paired_latency(candidate, base, self.device, s.latency_size, s.latency_runs,
                                    s.latency_warmup, s.seed + step, data_range=self.contract.data_range)
            return timing["baseline_min_ms"] - timing["latency_min_ms"]  # minima: steadier under load

        return saved

    def step(self, model: nn.Module, teacher: Optional[nn.Module]) -> Tuple[nn.Module, Optional[Dict[str, Any]]]:
        """Prune, fine-tune and measure one step; ``(model, None)`` when nothing can be removed."""
        s = self.s
        begin = time.perf_counter()
        step = len(self.records)
        widths = self.pruner.widths(model)
        work = copy.deepcopy(model).to(self.device)
        groups = self.pruner.groups(work)
        scores = self._scores(groups, teacher, step)
        latency_fn = self._latency_saved(model, step) if s.latency_aware else None
        counts, table = plan_counts(widths, scores, self.minimums, s.channels_per_step, s.rank, self.multiples,
                                    latency_fn, s.fraction)
        if not counts:
            return model, None
        blocks = self.pruner.blocks()
        removal = {unit: [lowest(v, count, blocks[unit]) for v in scores[unit]] for unit, count in counts.items()}
        pruned = self.pruner.cut(groups, removal).to(self.device)
        psnr_before = self._psnr(pruned)
        refit = None
        if s.refit_patches > 0:
            refit_begin = time.perf_counter()
            pruned, layers = refit_pruned(model.to(self.device).eval(), removal, self._refit_batches(step))
            refit = {"psnr_cut": psnr_before, "patches": s.refit_patches, "layers": len(layers),
                     "seconds": time.perf_counter() - refit_begin}
            psnr_before = self._psnr(pruned)
        tuning = {"iterations": 0, "seconds": 0.0}
        if s.finetune_iterations > 0:
            try:
                tuning = finetune(pruned, self.dataset, teacher, s.finetune_iterations, s.batch_size, s.lr,
                                  s.distill_weight, self.device, first_patch=step * _PATCHES_PER_STEP,
                                  max_seconds=None if s.finetune_minutes is None else 60.0 * s.finetune_minutes,
                                  min_lr_ratio=s.min_lr_ratio, progress=s.progress, desc=f"step {step} fine-tune",
                                  data_range=self.contract.data_range, inference_mode=self.pruner.inference_mode)
            except RuntimeError as exc:  # e.g. an inference path that writes into tensors autograd still needs
                raise UserError(f"{self.spec.label}: cannot be fine-tuned through its inference path "
                                f"({first_line(exc)})") from None
        for param in pruned.parameters():
            param.requires_grad_(self.pruner.name == "rlfn")
        measured = self._measure(pruned)
        record = {"step": step, "criterion": s.criterion, **measured, "psnr_before": psnr_before,
                  "psnr_after": measured.pop("psnr"), "removed": counts,
                  "removed_channels": removal, "plan": table, "refit": refit, "finetune": tuning,
                  "seconds": time.perf_counter() - begin, "time": datetime.now(timezone.utc).isoformat()}
        return pruned, record

    def _psnr(self, model: nn.Module) -> float:
        return validate_psnr(model, self.val_images, self.device, self.contract.scale,
                             data_range=self.contract.data_range)["psnr"]

    # -- the loop ------------------------------------------------------------------------------

    def run(self) -> Dict[str, Any]:
        s = self.s
        teacher = self._teacher()
        if self.resuming and self.records:
            last = self.records[-1]
            model = self.pruner.load(step_checkpoint(self.out_dir, last["step"])).to(self.device)
            check_start(s, self.records[0], True, self._reach)
            self.log(f"resuming {self.out_dir} after step {last['step']} (PSNR {last['psnr_after']:.3f} dB, "
                     f"{last['params_m']:.4f} M params, {last['flops_g']:.3f} G FLOPs)")
        else:
            model = self.spec.model.to(self.device)
            measured = dict(self.start_measure) if self.start_measure is not None else self._measure(model)
            first = {"step": 0, "criterion": s.criterion, **measured, "psnr_before": measured["psnr"],
                     "psnr_after": measured.pop("psnr"), "removed": {}, "removed_channels": {}, "plan": [],
                     "finetune": {"iterations": 0, "seconds": 0.0}, "seconds": 0.0,
                     "time": datetime.now(timezone.utc).isoformat()}
            check_start(s, first, False, self._reach)
            (clear_run if s.overwrite else clear_start)(self.out_dir)  # what another run left, if anything
            self.out_dir.mkdir(parents=True, exist_ok=True)
            atomic_write_json(self.out_dir / "run.json", {**self.document, "device_info": describe_device(self.device),
                                                          "left_alone": getattr(self.pruner, "left_alone", {})})
            self._save_step(model, first)
            self.log(self._line(first))
        while True:
            reason = stop_reason(s, self.records[-1], self.pruner.widths(model), self.minimums, self.multiples,
                                 self.target)
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
        others = "".join(f", {name} {psnr:.3f} dB" for name, psnr in r.get("psnr_sets", {}).items())
        return (f"step {r['step']:2d} [{removed}]: PSNR {cut}{r['psnr_before']:.3f} -> {r['psnr_after']:.3f} dB"
                f"{others}, {r['params_m']:.4f} M params, {r['flops_g']:.3f} G FLOPs, {r['latency_ms']:.1f} ms "
                f"(RLFN {r['rlfn_latency_ms']:.1f} ms), NTIRE score {r['ntire_score']:.3f}, "
                f"{r['finetune']['iterations']} fine-tune iterations, {r['seconds']:.0f} s")

    def _finish(self, reason: str) -> Dict[str, Any]:
        s = self.s
        keep = [r for r in self.records if s.psnr_floor is None or r["psnr_after"] >= s.psnr_floor]
        final = keep[-1]
        model = self.pruner.load(step_checkpoint(self.out_dir, final["step"]))
        self.pruner.save(model, self.out_dir / "final.pth", [r["removed_channels"] for r in keep[1:]],
                         {"step": final["step"], "psnr": final["psnr_after"], "val_dir": str(s.val_dir),
                          "label": f"{self.spec.label}-pruned{final['step']}",
                          "criterion": s.criterion, "source": self.spec.ref.to_json(), "run": str(self.out_dir)})
        summary = {"stop_reason": reason, "steps": len(self.records) - 1, "final_step": final["step"],
                   "final_checkpoint": str(self.out_dir / "final.pth"), "final_config": final["config"],
                   "final_widths": final["widths"], "final_psnr": final["psnr_after"],
                   "final_params_m": final["params_m"], "final_flops_g": final["flops_g"],
                   "final_latency_ms": final["latency_ms"], "final_ntire_score": final["ntire_score"],
                   "start_psnr": self.records[0]["psnr_after"], "pruner": self.pruner.name,
                   "settings": {**asdict(s), "model": self.spec.ref.to_json()},
                   "device_info": describe_device(self.device)}
        atomic_write_json(self.out_dir / "summary.json", summary)
        self.log(f"stopped ({reason}) after step {len(self.records) - 1}; final model: step {final['step']} "
                 f"-> {self.out_dir / 'final.pth'}")
        return summary


def prune_iteratively(settings: PruneSettings, log: Optional[Callable[[str], None]] = None,
                      start_measure: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """Run (or resume) the pruning run ``settings`` describes; returns the run summary (also ``summary.json``).

    ``start_measure``: the starting model's :func:`~slimrlfn.prune.measure.measure_model` taken already (the
    explorer times step 0 once for all its criteria); a fresh run's step 0 then records it instead of timing again.
    """
    if log is None:
        log = tqdm.write if settings.progress else (lambda _line: None)
    run = PruneRun(settings, log)
    run.start_measure = start_measure
    with output_lock(run.out_dir, "--out_dir"):  # a second run into the same folder is refused at once
        return run.run()
