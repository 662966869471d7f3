"""The ``slimrlfn`` command: the one module that knows every sub-command; each one lives in its own package.

``slimrlfn eval`` (the NTIRE ``test_demo.py`` flags), ``time``, ``train``, ``prune``, ``profile``,
``zoo``, ``models``, ``data pairs|sample``, ``export``, ``backends``, ``factsheet``, ``field``, ``official``,
``workbook``. Only the
sub-command that is asked for is imported (with its flags), so ``slimrlfn --help`` loads no model
code. A user error prints one line ``slimrlfn: error: ...`` on stderr and exits with status 2.
"""
from __future__ import annotations

import argparse
import sys
from typing import Callable, Dict, List, Optional, Tuple

from slimrlfn.core.entry import OneLineParser, run_parsed

__all__ = ["COMMANDS", "build_parser", "main"]

#: What ``slimrlfn --help`` says first.
DESCRIPTION = ("The SlimRLFN workbook (efficient x4 super-resolution): evaluation as NTIRE's test_demo.py, counts, "
               "the warm-up timing study, training, pruning, deployment paths, the factsheet.")

#: (add the flags to a parser, run the parsed arguments -> exit status)
Command = Tuple[Callable[[argparse.ArgumentParser], argparse.ArgumentParser], Callable[[argparse.Namespace], object]]


# Each loader imports one sub-command's module, when that sub-command is used.

def _eval() -> Command:
    from slimrlfn.evaluate import command
    return command.add_arguments, command.run_from_args


def _time() -> Command:
    from slimrlfn.timing import command
    return command.add_arguments, command.run_from_args


def _train() -> Command:
    from slimrlfn.train import command
    return command.add_arguments, command.run_from_args


def _prune() -> Command:
    from slimrlfn.prune import command
    return command.add_arguments, command.run_from_args


def _profile() -> Command:
    from slimrlfn.metrics import command
    return command.add_arguments, command.run_from_args


def _zoo() -> Command:
    from slimrlfn.arch import command
    return command.add_arguments, command.run_from_args


def _models() -> Command:
    from slimrlfn.arch import command
    return command.add_models_list_arguments, command.run_models


def _data() -> Command:
    from slimrlfn.data import command
    return command.add_arguments, command.run_from_args


def _export() -> Command:
    from slimrlfn.deploy import command
    return command.add_export_arguments, command.run_export


def _backends() -> Command:
    from slimrlfn.deploy import command
    return command.add_backends_arguments, command.run_backends


def _qat() -> Command:
    from slimrlfn.quantize import command
    return command.add_arguments, command.run_from_args


def _int8_sensitivity() -> Command:
    from slimrlfn.quantize import sensitivity_command
    return sensitivity_command.add_arguments, sensitivity_command.run_from_args


def _field() -> Command:
    from slimrlfn.field import command
    return command.add_arguments, command.run_from_args


def _official() -> Command:
    from slimrlfn.official import command
    return command.add_arguments, command.run_from_args


def _factsheet() -> Command:
    from slimrlfn.factsheet import command
    return command.add_factsheet_arguments, command.run_factsheet_from_args


def _workbook() -> Command:
    from slimrlfn import workbook
    return workbook.add_arguments, workbook.run_from_args


#: Sub-command -> (help line, loader of its flags and its runner).
COMMANDS: Dict[str, Tuple[str, Callable[[], Command]]] = {
    "eval": ("PSNR/SSIM/runtime as NTIRE's test_demo.py (same flags)", _eval),
    "time": ("warm-up timing study: cold vs warm, separate processes vs consecutive runs", _time),
    "train": ("train SlimRLFN: reparameterizable blocks + distillation (torchrun for several devices)", _train),
    "prune": ("iterative structured pruning with distillation fine-tuning (records.jsonl, step_NN/)", _prune),
    "profile": ("params, fvcore FLOPs, ptflops MACs, activations, convs", _profile),
    "zoo": ("list the official checkpoints (--verify: find and check them)", _zoo),
    "models": ("list every entry of an NTIRE ESR challenge repository: name, data range, params, loads or why not",
               _models),
    "data": ("datasets in the NTIRE layout", _data),
    "export": ("ONNX export (opset 17+, dynamic H/W), checked against eager on real images", _export),
    "backends": ("inference paths side by side: time, cold call, GFLOP/s, share of the matmul peak, "
                 "difference to eager", _backends),
    "qat": ("quantization-aware int8 fine-tuning (NNCF) to an OpenVINO IR for --backend openvino_int8 --int8_model",
            _qat),
    "int8-sensitivity": ("rank a model's convolutions by the int8 drop each costs (which to keep in fp32: qat "
                         "--keep_fp32)", _int8_sensitivity),
    "factsheet": ("NTIRE factsheet set: LaTeX/Markdown/CSV tables and 05_* figures from the results of "
                  "notebooks 01-04", _factsheet),
    "field": ("the field study: every entry of a challenge repository timed cold (official) and warm, ranked "
              "both ways (Kendall's tau, movers, variants against parents)", _field),
    "official": ("the organisers' own run of a year (results.json, log) re-scored with the first image removed: "
                 "ranks per track, tau, eligibility changes, load-time forwards, a local field against it", _official),
    "workbook": ("run the notebooks in order through papermill", _workbook),
}


def build_parser(only: Optional[str] = None) -> argparse.ArgumentParser:
    """The argument parser; with ``only``, just that sub-command gets its flags (and its module is imported)."""
    parser = OneLineParser(prog="slimrlfn", description=DESCRIPTION)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (help_text, load) in COMMANDS.items():
        command_parser = sub.add_parser(name, help=help_text)
        if only is None or name == only:
            add_arguments, run = load()
            command_parser.set_defaults(func=run)
            add_arguments(command_parser)
    return parser


def _command_in(argv: List[str]) -> Optional[str]:
    """The sub-command named in ``argv`` (its first word that is not an option), if it is one."""
    first = next((word for word in argv if not word.startswith("-")), None)
    return first if first in COMMANDS else None


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point; returns the exit status (2 on a user error, 130 on Ctrl-C)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    command = _command_in(argv)
    return run_parsed(lambda: build_parser(only=command or ""), argv)


if __name__ == "__main__":
    raise SystemExit(main())
