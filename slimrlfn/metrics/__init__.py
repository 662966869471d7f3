"""Measurements: image quality, model counts, latency, statistics and the NTIRE score.

Modules: :mod:`~slimrlfn.metrics.quality` (PSNR / SSIM as NTIRE computes them),
:mod:`~slimrlfn.metrics.counts` (fvcore FLOPs, ptflops MACs, params, activations),
:mod:`~slimrlfn.metrics.latency` (timers, the matmul peak), :mod:`~slimrlfn.metrics.stats`
(summaries, bootstrap intervals, warm-up length), :mod:`~slimrlfn.metrics.score` (the NTIRE score).
"""
from slimrlfn.metrics.counts import architecture_counts, fvcore_flops, profile_model
from slimrlfn.metrics.latency import make_timer, matmul_peak_gflops, timed_ms
from slimrlfn.metrics.quality import psnr, psnr_rgb_and_y, psnr_y, ssim, ssim_y
from slimrlfn.metrics.score import NTIRE_WEIGHTS, ntire_score
from slimrlfn.metrics.stats import bootstrap_ci, ratio_ci, summarize, warmup_length

__all__ = ["NTIRE_WEIGHTS", "architecture_counts", "bootstrap_ci", "fvcore_flops", "make_timer",
           "matmul_peak_gflops", "ntire_score", "profile_model", "psnr", "psnr_rgb_and_y", "psnr_y", "ratio_ci",
           "ssim", "ssim_y", "summarize", "timed_ms", "warmup_length"]
