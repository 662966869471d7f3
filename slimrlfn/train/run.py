"""``slimrlfn train``: SlimRLFN with reparameterizable SRLFBs and distillation, one device or many.

Follows the SlimRLFN recipe of the NTIRE 2024 ESR challenge (team 21): train-time blocks with
parallel branches (:mod:`slimrlfn.arch.reparam`), a pixel loss plus distillation to a frozen teacher
(:mod:`slimrlfn.train.losses`, RLFN by default), Adam with linear warm-up and cosine decay, optional EMA
of the weights, AMP on CUDA; every step is :class:`slimrlfn.train.loop.TrainStep`. By default the
blocks fuse their branch weights on every forward (``online_fusion``): the same function and
gradients as summing the branches, at about the cost of the deploy model
(``bench/timing/train_throughput.py``); ``--set online_fusion=false`` sums them. The final model is
exported fused, as config + ``state_dict`` (``OUT/model_final.pth`` + ``.json``), loadable by
``slimrlfn eval --checkpoint``. Settings: :mod:`slimrlfn.train.config`.

Files under ``out_dir`` (written by rank 0 only): ``config.json`` (the resolved config),
``train.log``, ``history.json`` (validation PSNR per iteration), ``train_state.pt`` (model,
optimiser, scheduler, EMA, AMP scaler, RNG states, history; loadable with ``weights_only=True``),
``checkpoints/iter_NNNNNNN.pth`` + ``.json`` (fused deploy weights every ``ckpt_every``
iterations; EMA weights when EMA is on), ``model_final.pth`` + ``.json``, ``summary.json``.

Resume (``--resume`` or ``--resume PATH``) restores everything in ``train_state.pt``; since the
patches are a pure function of (seed, patch number) (:mod:`slimrlfn.data.patches`), a resumed run
reproduces an uninterrupted one. Ctrl-C finishes the current step, writes ``train_state.pt`` and
exits with status 130 (a second Ctrl-C exits at once).

Several devices: ``torchrun --nproc_per_node=K -m slimrlfn.train ...`` trains with
DistributedDataParallel (NCCL on CUDA, Gloo on CPU; :mod:`slimrlfn.train.dist`); ``batch_size`` is
per rank, every rank draws its own shard of patches, rank 0 validates and writes every file.
"""
from __future__ import annotations

import io
import time
import warnings
from dataclasses import asdict
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import torch
import torch.distributed as dist
import torch.nn as nn
from torch.utils.data import DataLoader

from slimrlfn.arch.checkpoints import save_checkpoint
from slimrlfn.arch.config import validate_config
from slimrlfn.arch.contract import WORKBOOK_RANGE, Contract
from slimrlfn.arch.ref import load_model
from slimrlfn.arch.reparam import build_train_model, deploy_config_of, export_deploy, from_deploy
from slimrlfn.arch.rlfn import SlimRLFN
from slimrlfn.core.devices import describe_device
from slimrlfn.core.errors import UserError
from slimrlfn.core.files import atomic_write_bytes, atomic_write_json
from slimrlfn.core.locks import output_lock
from slimrlfn.core.outputs import check_output_dir
from slimrlfn.core.progress import tqdm
from slimrlfn.data.patches import PatchDataset, ShardSampler
from slimrlfn.data.validation import ValidationImage, load_validation
from slimrlfn.train.config import TrainConfig, describe_model
from slimrlfn.train.dist import DistEnv, Interrupts, ignore_sigint, init_distributed, replica_max_abs_diff
from slimrlfn.train.loop import TrainStep
from slimrlfn.train.losses import SRLoss, load_teacher
from slimrlfn.train.state import (
    STATE_KIND,
    ModelEMA,
    read_state,
    rng_state,
    seed_everything,
    set_rng_state,
    warmup_cosine,
)
from slimrlfn.train.validation import validate_psnr

__all__ = ["TrainRun", "train"]


class TrainRun:
    """One training run: everything is checked in ``__init__`` before ``run`` writes anything."""

    def __init__(self, config: TrainConfig, env: DistEnv, callback: Optional[Callable[[int, Dict[str, Any]], None]]):
        self.config, self.env, self.callback = config, env, callback
        self.device = env.device
        self.out_dir = Path(config.out_dir)
        self.state_path = self.out_dir / "train_state.pt"
        check_output_dir(self.out_dir, "--out_dir")
        self.rep = config.rep_options()
        resume_state = self._check_outputs()
        self.loss_fn = SRLoss(config.loss, config.distill_loss, config.distill_weight, config.charbonnier_eps,
                              data_range=WORKBOOK_RANGE)
        seed_everything(config.seed)
        self.model = self._build_model()
        self.model_config = deploy_config_of(self.model)
        self.scale = self.model_config["upscale"]
        if resume_state is not None:
            self._check_resume_model(resume_state)
        self.teacher, self.teacher_label = None, None
        if config.teacher is not None and config.teacher.lower() != "none" and config.distill_weight > 0:
            self.teacher, self.teacher_label = load_teacher(config.teacher, Contract(WORKBOOK_RANGE, self.scale),
                                                            self.device)
        self.dataset = PatchDataset(config.hr_dirs, self.scale, config.lr_patch, config.seed, True,
                                    config.lr_cache_dir, progress=config.progress and env.main)
        self.val_images: List[ValidationImage] = []
        if config.val_dir is not None:
            self.val_images = load_validation(config.val_dir, config.val_split, self.scale, config.val_max_images)
        self._build_optimisation()
        self.iteration = 0
        self.train_seconds = 0.0  # training wall time over every session of this run
        self.history: List[Dict[str, Any]] = []
        if resume_state is not None:
            self._load_state(resume_state)

    # -- set-up -----------------------------------------------------------------------------------

    def _check_outputs(self) -> Optional[Dict[str, Any]]:
        resume = self.config.resume
        if resume is None:
            if self.state_path.exists() and not self.config.overwrite:
                raise UserError(f"--out_dir {self.out_dir}: already holds a run ({self.state_path.name}); pass --resume "
                                f"to continue it, --overwrite to start over, or choose another --out_dir")
            return None
        path = self.state_path if resume == "auto" else Path(resume)
        return read_state(path)

    def _build_model(self) -> nn.Module:
        config = self.config
        try:
            if config.init is not None:
                deploy = self._load_init(config.init)
                model = from_deploy(deploy, self.rep)
                if validate_config(config.model) != deploy_config_of(deploy) and config.model != {"arch": "slimrlfn"}:
                    warnings.warn(f"--init {config.init}: the model comes from that checkpoint; the 'model' setting "
                                  f"{config.model} is ignored", UserWarning, stacklevel=2)
            else:
                model = build_train_model(config.model, self.rep)
        except ValueError as exc:
            raise UserError(f"model: {exc}") from None
        return model.to(self.device).train()

    def _load_init(self, spec: str) -> nn.Module:
        deploy = load_model(spec, "--init").model
        if not isinstance(deploy, SlimRLFN):
            raise UserError(f"--init {spec}: is a {type(deploy).__name__}; training starts only from a SlimRLFN")
        return deploy

    def _check_resume_model(self, state: Dict[str, Any]) -> None:
        stored_config = state.get("model_config")
        stored_rep = {k: v for k, v in dict(state.get("rep", {})).items() if k != "online_fusion"}
        own_rep = {k: v for k, v in self.rep.items() if k != "online_fusion"}
        if stored_config != self.model_config or stored_rep != own_rep:
            where = self.config.resume if self.config.resume != "auto" else self.state_path
            raise UserError(f"--resume {where}: the checkpoint is a {describe_model(stored_config, dict(state.get('rep', {})))}"
                            f", this run builds a {describe_model(self.model_config, self.rep)}; "
                            f"resume with the model settings it was trained with")

    def _build_optimisation(self) -> None:
        config = self.config
        self.net: nn.Module = self.model
        if self.env.world_size > 1:
            device_ids = [self.device.index] if self.device.type == "cuda" else None
            self.net = nn.parallel.DistributedDataParallel(self.model, device_ids=device_ids)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=config.lr, betas=tuple(config.betas),
                                          weight_decay=config.weight_decay)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, warmup_cosine(config.iterations, config.warmup, config.lr, config.min_lr))
        self.use_amp = config.amp and self.device.type == "cuda"
        self.amp_dtype = torch.bfloat16 if config.amp_dtype == "bf16" else torch.float16
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.use_amp and self.amp_dtype == torch.float16)
        self.ema = ModelEMA(self.model, config.ema_decay) if config.ema_decay > 0 else None
        self.step = TrainStep(self.net, self.optimizer, self.loss_fn, self.device, self.teacher, self.model,
                              self.scaler, self.amp_dtype if self.use_amp else None, config.grad_clip,
                              self.scheduler, self.ema)
        if self.device.type == "cuda":
            torch.backends.cudnn.benchmark = not config.deterministic
            torch.backends.cudnn.deterministic = config.deterministic

    def _load_state(self, state: Dict[str, Any]) -> None:
        try:
            self.model.load_state_dict(state["model"], strict=True)
            self.optimizer.load_state_dict(state["optimizer"])
            self.scheduler.load_state_dict(state["scheduler"])
            self.scaler.load_state_dict(state["scaler"])
            if self.ema is not None:
                if state.get("ema") is None:
                    raise UserError("--resume: the checkpoint has no EMA weights but ema_decay > 0; "
                                    "resume with ema_decay 0 or start a new run")
                self.ema.load_state_dict(state["ema"])
        except (KeyError, RuntimeError, ValueError) as exc:
            first = str(exc).strip().splitlines()[0]
            raise UserError(f"--resume: the training state does not fit this run ({first})") from None
        self.iteration = int(state["iteration"])
        self.train_seconds = float(state.get("train_seconds", 0.0))
        self.history = list(state.get("history", []))
        set_rng_state(state["rng"], self.device)

    # -- files --------------------------------------------------------------------------------

    def _log(self, message: str, console: bool = False) -> None:
        if not self.env.main:
            return
        with open(self.out_dir / "train.log", "a") as handle:
            handle.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {message}\n")
        if console:
            tqdm.write(message)

    def _eval_model(self) -> nn.Module:
        return self.ema.module if self.ema is not None else self.model

    def _state(self) -> Dict[str, Any]:
        return {
            "kind": STATE_KIND, "version": 1, "iteration": self.iteration,
            "model_config": self.model_config, "rep": dict(self.rep),
            "model": {k: v.detach().cpu() for k, v in self.model.state_dict().items()},
            "ema": self.ema.state_dict() if self.ema is not None else None,
            "optimizer": self.optimizer.state_dict(), "scheduler": self.scheduler.state_dict(),
            "scaler": self.scaler.state_dict(), "rng": rng_state(self.device),
            "history": self.history, "train_seconds": self.train_seconds, "config": asdict(self.config),
        }

    def save_state(self) -> None:
        """Write ``train_state.pt`` atomically (rank 0)."""
        if self.env.main:
            buffer = io.BytesIO()
            torch.save(self._state(), buffer)
            atomic_write_bytes(self.state_path, buffer.getvalue())

    def _export(self, path: Path) -> Path:
        deploy = export_deploy(self._eval_model()).float().cpu()
        last = self.history[-1] if self.history else {}
        meta = {"source": "slimrlfn train", "iteration": self.iteration, "ema": self.ema is not None,
                "val_psnr": last.get("psnr") if last.get("iteration") == self.iteration else None,
                "teacher": self.teacher_label, "distill_weight": self.config.distill_weight}
        return save_checkpoint(deploy, path, extra=meta)

    def checkpoint(self) -> None:
        """Training state plus the fused deploy weights of this iteration (rank 0)."""
        if self.env.main:
            self.save_state()
            self._export(self.out_dir / "checkpoints" / f"iter_{self.iteration:07d}.pth")
            self._log(f"checkpoint at iteration {self.iteration}")

    def validate_now(self) -> Optional[float]:
        if not self.env.main or not self.val_images:
            return None
        begin = time.perf_counter()
        result = validate_psnr(export_deploy(self._eval_model()).float().to(self.device), self.val_images,
                               self.device, self.scale, data_range=WORKBOOK_RANGE)
        record = {"iteration": self.iteration, "psnr": result["psnr"], "seconds": round(time.perf_counter() - begin, 3),
                  "train_minutes": round(self.train_seconds / 60.0, 4), "lr": self.optimizer.param_groups[0]["lr"]}
        self.history = [h for h in self.history if h["iteration"] != self.iteration] + [record]
        atomic_write_json(self.out_dir / "history.json", self.history)
        self._log(f"validation at iteration {self.iteration}: PSNR {result['psnr']:.3f} dB "
                  f"({len(self.val_images)} images)", console=True)
        return result["psnr"]

    # -- the loop -----------------------------------------------------------------------------

    def _stop_requested(self, interrupts: Interrupts) -> bool:
        """Ctrl-C, or this session's training time (validation excluded) past ``max_minutes``.

        Under DDP every rank takes the same decision (rank clocks differ).
        """
        limit = self.config.max_minutes
        elapsed = self.train_seconds - self.session_start_seconds
        flags = torch.tensor([float(interrupts.requested), float(limit is not None and elapsed > 60.0 * limit)])
        if self.env.world_size > 1:
            flags = flags.to(self.device)
            dist.all_reduce(flags, op=dist.ReduceOp.MAX)
        if flags[0]:
            self.stop_reason = "interrupt"
        elif flags[1]:
            self.stop_reason = "max_minutes"
        return bool(flags.max())

    def run(self) -> Dict[str, Any]:
        config, env = self.config, self.env
        start = self.iteration
        end = min(config.iterations, config.stop_at) if config.stop_at is not None else config.iterations
        resumed = config.resume is not None
        if env.main:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            if not resumed and (self.out_dir / "train.log").exists():
                (self.out_dir / "train.log").unlink()
            atomic_write_json(self.out_dir / "config.json", {
                "config": asdict(config), "model_config": self.model_config, "rep": self.rep,
                "world_size": env.world_size, "device_info": describe_device(self.device)})
        self._log(f"{'resumed at' if resumed else 'started at'} iteration {start} of {config.iterations}: "
                  f"{describe_model(self.model_config, self.rep)}, {len(self.dataset.sources)} training images, "
                  f"{len(self.val_images)} validation images, teacher {self.teacher_label}, "
                  f"world size {env.world_size}, device {self.device}")
        for skipped in self.dataset.skipped:
            self._log(f"skipped (smaller than the HR patch): {skipped}")
        self.session_start_seconds = self.train_seconds
        self.stop_reason = "done"
        if config.val_at_start and not resumed and start == 0:
            self.validate_now()
        sampler = ShardSampler(config.batch_size, start, end, env.rank, env.world_size)
        loader = DataLoader(self.dataset, batch_size=config.batch_size, sampler=sampler, drop_last=True,
                            num_workers=config.workers, pin_memory=self.device.type == "cuda",
                            worker_init_fn=ignore_sigint if config.workers else None)
        bar = tqdm(total=config.iterations, initial=start, desc="train", unit="it",
                   disable=not (config.progress and env.main), dynamic_ncols=True)
        window = time.perf_counter()
        self.net.train()
        with Interrupts() as interrupts:
            try:
                for lr_batch, hr_batch in loader:
                    terms = self.step(lr_batch, hr_batch)
                    self.iteration += 1
                    bar.update(1)
                    if self.callback is not None:
                        self.callback(self.iteration, terms)
                    if self.iteration % config.log_every == 0 or self.iteration == end:
                        values = {k: float(v) for k, v in terms.items()}
                        bar.set_postfix(loss=f"{values['total']:.4f}", lr=f"{self.optimizer.param_groups[0]['lr']:.2e}")
                        self._log(f"iteration {self.iteration}: " + " ".join(f"{k} {v:.5f}" for k, v in values.items())
                                  + f" lr {self.optimizer.param_groups[0]['lr']:.3e}")
                    self.train_seconds += time.perf_counter() - window
                    if self.iteration % config.val_every == 0 and self.iteration != end:
                        self.validate_now()
                    if self.iteration % config.ckpt_every == 0 and self.iteration != end:
                        self.checkpoint()
                    window = time.perf_counter()
                    if self._stop_requested(interrupts):
                        break
            except KeyboardInterrupt:
                if interrupts.requested:  # a second Ctrl-C: leave at once, write nothing
                    raise
                self.stop_reason = "interrupt"  # raised between steps (e.g. by the callback)
            finally:
                bar.close()
        if self.stop_reason == "interrupt":
            self.checkpoint()
            self._log(f"interrupted at iteration {self.iteration}; state saved to {self.state_path}", console=True)
            raise KeyboardInterrupt
        return self._finish(start)

    def _finish(self, start: int) -> Dict[str, Any]:
        config, env = self.config, self.env
        replica_diff = replica_max_abs_diff(self.model, env)
        psnr = self.validate_now()
        done = self.iteration >= config.iterations
        seconds = self.train_seconds - self.session_start_seconds
        summary: Dict[str, Any] = {
            "iteration": self.iteration, "iterations": config.iterations, "completed": done,
            "stop_reason": self.stop_reason if not done else "done",
            "train_seconds": round(self.train_seconds, 3), "session_train_seconds": round(seconds, 3),
            "patches_per_second": ((self.iteration - start) * config.batch_size * env.world_size / seconds
                                   if seconds > 0 else None),
            "val_psnr": psnr, "history": self.history, "world_size": env.world_size,
            "replica_max_abs_diff": replica_diff, "out_dir": str(self.out_dir),
            "device_info": describe_device(self.device),
        }
        if env.main:
            self.save_state()
            name = "model_final.pth" if done else f"model_iter_{self.iteration:07d}.pth"
            summary["checkpoint"] = str(self._export(self.out_dir / name))
            atomic_write_json(self.out_dir / "summary.json", summary)
            self._log(f"finished at iteration {self.iteration} ({summary['stop_reason']}); "
                      f"fused model -> {summary['checkpoint']}", console=config.progress)
        return summary


def train(config: TrainConfig, callback: Optional[Callable[[int, Dict[str, Any]], None]] = None) -> Dict[str, Any]:
    """Run (or resume) the training ``config`` describes; returns the summary (also ``summary.json``).

    Under torchrun (``WORLD_SIZE`` > 1) every rank calls this. ``callback(iteration, loss_terms)``
    runs after every step (tests use it). Raises UserError before writing anything when an input
    is wrong; KeyboardInterrupt after saving ``train_state.pt`` on Ctrl-C.
    """
    env = init_distributed(config.device)
    try:
        run = TrainRun(config, env, callback)
        if not env.main:
            return run.run()
        with output_lock(run.out_dir, "--out_dir"):  # a second run into the same folder is refused at once
            return run.run()
    finally:
        if env.initialised and dist.is_initialized():
            dist.destroy_process_group()
