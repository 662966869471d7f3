"""Deployment: whole-image and tiled forwards, the inference paths, ONNX export, and their comparison.

Modules, each over the ones before it: :mod:`~slimrlfn.deploy.forward` (one forward, whole image or
tiles), :mod:`~slimrlfn.deploy.onnx` (ONNX export checked against eager),
:mod:`~slimrlfn.deploy.backends` (the registry of inference paths), :mod:`~slimrlfn.deploy.workers`
(one path per process, for the comparison), :mod:`~slimrlfn.deploy.bench` (every path side by side),
:mod:`~slimrlfn.deploy.command` (``slimrlfn export``, ``slimrlfn backends``).
"""
from slimrlfn.deploy.backends import BACKENDS, REGISTRY, Backend, available_backends, build_backend, resolve_backend
from slimrlfn.deploy.bench import compare_backends, summarize
from slimrlfn.deploy.forward import forward_image
from slimrlfn.deploy.onnx import DEFAULT_TOLERANCE, export_onnx, onnx_to_file

__all__ = ["BACKENDS", "DEFAULT_TOLERANCE", "REGISTRY", "Backend", "available_backends", "build_backend",
           "compare_backends", "export_onnx", "forward_image", "onnx_to_file", "resolve_backend", "summarize"]
