"""Figures: one function per figure, drawn from results (dicts, JSON, images on disk), never from models.

Modules: :mod:`~slimrlfn.figures.style` (the one :func:`save_figure`, colours),
:mod:`~slimrlfn.figures.architecture` (widths, counts), :mod:`~slimrlfn.figures.crops` (zoomed SR crops),
:mod:`~slimrlfn.figures.quality` (PSNR per image), :mod:`~slimrlfn.figures.pruning` (the pruning
explorer; its interactive view is slimrlfn.prune.explorer), :mod:`~slimrlfn.figures.timing` (the warm-up study),
:mod:`~slimrlfn.figures.backends` (the inference paths). Every figure is PNG + PDF with the same stem;
a figure that shows a timing names the device.
"""
from slimrlfn.figures.architecture import channel_widths_figure, counts_figure
from slimrlfn.figures.backends import plot_backend_cold_warm, plot_flops_vs_speedup
from slimrlfn.figures.crops import CropBox, pick_crop_box, sr_crop_panels, sr_crops_figure
from slimrlfn.figures.pruning import ntire_score_figure, trajectory_figure, width_heatmap_figure
from slimrlfn.figures.quality import psnr_figure
from slimrlfn.figures.style import save_figure
from slimrlfn.figures.timing import plot_cold_warm, plot_first_image_share, plot_latency_traces

__all__ = ["CropBox", "channel_widths_figure", "counts_figure", "ntire_score_figure", "pick_crop_box",
           "plot_backend_cold_warm", "plot_cold_warm", "plot_first_image_share", "plot_flops_vs_speedup",
           "plot_latency_traces", "psnr_figure", "save_figure", "sr_crop_panels", "sr_crops_figure",
           "trajectory_figure", "width_heatmap_figure"]
