"""What every notebook does first: its data made when it is the embedded sample, and errors that name the notebook's
parameters in one line.

:func:`notebook_data` makes the embedded sample (:func:`slimrlfn.data.sample.make_sample`) when ``data_dir`` is the
sample's folder and it is missing, so a notebook opened alone from a fresh clone runs; any other missing folder is
refused in one line that names the parameter. :func:`notebook_errors` shows the package's :class:`~slimrlfn.core.
errors.UserError` inside a notebook as one line, with the command line's flags (``--val_dir``) renamed to the
notebook's parameters (``data_dir``), and no traceback through the package; the cell still fails (papermill stops).
"""
from __future__ import annotations

import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any, Mapping, Optional

from slimrlfn.core.errors import UserError
from slimrlfn.core.files import PathLike
from slimrlfn.data.sample import make_sample
from slimrlfn.figures.style import set_stamp

__all__ = ["FLAG_PARAMETERS", "QUICK_NOTE", "SAMPLE_FOLDER", "notebook_data", "notebook_errors", "conclusion_markdown",
           "quick_mode", "rename_flags", "timing_context"]

#: What every figure of a quick-mode run says under it, and what the notebook says first.
QUICK_NOTE = "quick mode: a check that everything runs, on a few images and runs; not a result"
#: The folder name the notebooks' default ``data_dir`` (``../data/sample``) ends in.
SAMPLE_FOLDER = Path("data") / "sample"
#: A command-line flag of the package -> the notebooks' parameter that sets it.
FLAG_PARAMETERS: Mapping[str, str] = {"--val_dir": "data_dir", "--data_dir": "data_dir", "--hr_dirs": "hr_dir",
                                      "--hr_dir": "hr_dir", "--out_dir": "results_dir", "--save_dir": "results_dir",
                                      "--device": "device", "--cpu_threads": "cpu_threads", "--threads": "cpu_threads",
                                      "--criterion": "criteria", "--scope": "scope", "--rank": "rank",
                                      "--channels_per_step": "channels_per_step", "--multiple_of": "multiple_of",
                                      "--psnr_floor": "psnr_floor"}


def rename_flags(message: str, names: Mapping[str, str] = FLAG_PARAMETERS) -> str:
    """``message`` with each known ``--flag`` written as the notebook parameter ``name =``."""
    return re.sub(r"--[a-z_0-9]+", lambda m: f"{names[m.group(0)]} =" if m.group(0) in names else m.group(0),
                  message)


def notebook_data(data_dir: PathLike, parameter: str = "data_dir", progress: bool = False) -> Path:
    """``data_dir`` as a Path, made as the embedded sample when it is the sample's folder and missing (written beside
    it and renamed into place, so an interrupted run leaves no half-made folder); another missing folder, or one
    without ``DIV2K_LSDIR_valid_HR``, is refused in one line naming ``parameter``."""
    path = Path(data_dir)
    if path.is_dir():
        if not (path / "DIV2K_LSDIR_valid_HR").is_dir():
            raise UserError(f"{parameter} = {str(data_dir)!r}: no DIV2K_LSDIR_valid_HR/ in it; expected an "
                            f"NTIRE-layout folder (DIV2K_LSDIR_valid_HR/ and _LR/), or '../data/sample' for the "
                            f"embedded sample")
        return path
    if path.resolve().parts[-2:] != SAMPLE_FOLDER.parts:
        raise UserError(f"{parameter} = {str(data_dir)!r}: no such folder; set {parameter} to an NTIRE-layout folder, "
                        f"or to '../data/sample' to have the embedded sample made there")
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".sample-", dir=path.parent))
    try:
        make_sample(staging, progress=progress)
        staging.replace(path)
    except FileExistsError:  # made meanwhile by another notebook
        pass
    except OSError as exc:
        if not path.is_dir():
            raise UserError(f"{parameter} = {str(data_dir)!r}: could not make the embedded sample there "
                            f"({exc.strerror or exc})") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    print(f"{parameter}: made the embedded sample in {path} (4 validation and 2 test photos)")
    return path


def notebook_errors(names: Mapping[str, str] = FLAG_PARAMETERS, shell: Optional[Any] = None) -> bool:
    """In a notebook kernel, show every later :class:`UserError` as one line (flags renamed with :func:`rename_flags`)
    with no traceback; the cell still fails. False outside IPython (nothing to do)."""
    if shell is None:
        try:
            from IPython import get_ipython
        except ImportError:
            return False
        shell = get_ipython()
    if shell is None:
        return False

    def one_line(shell: Any, etype: type, value: BaseException, tb: Any, tb_offset: Optional[int] = None) -> Any:
        message = rename_flags(str(value), names)
        line = f"{etype.__name__}: {message}"
        show = getattr(shell, "_showtraceback", None)
        if show is not None:  # the kernel's error output: ename UserError, the message, a one-line "traceback"
            show(etype, message, [line])
        else:
            print(line, file=sys.stderr)
        return [line]

    shell.set_custom_exc((UserError,), one_line)
    return True


def quick_mode(quick: bool, show: bool = True) -> Optional[str]:
    """Say so when a notebook runs in quick mode: every figure it saves from now on carries :data:`QUICK_NOTE`
    (:func:`slimrlfn.figures.style.set_stamp`), and the notebook shows the note as its first output (``show``).
    Returns the note, or None in full mode (which clears the stamp)."""
    note = QUICK_NOTE if quick else None
    set_stamp(note)
    if note and show:
        text = (f"**Quick mode.** This run is {note.split(': ', 1)[1]}: its figures and tables say so; `make workbook "
                f"MODE=full` gives the results.")
        try:
            from IPython import get_ipython
            from IPython.display import Markdown, display
        except ImportError:
            get_ipython = None
        if get_ipython is not None and get_ipython() is not None:
            display(Markdown(f"> {text}"))
        else:
            print(text.replace("**", "").replace("`", ""))
    return note


def timing_context(threads: int, device_name: str) -> str:
    """What a latency table or figure must say of how it was timed: the device, torch's threads and the machine's
    load (1-minute load average against its CPUs, when the system reports one)."""
    import os

    try:
        load = f", load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs"
    except (AttributeError, OSError):
        load = ""
    return f"timed on {device_name}, {threads} thread{'s' if threads != 1 else ''}{load}"


def conclusion_markdown(text: str, heading: str = "Conclusion") -> str:
    """A computed conclusion (one paragraph of sentences) as Markdown: a bold heading, then one bullet per sentence,
    so a notebook shows it wrapped at words, not as a printed line cut mid-word."""
    sentences = [part.strip() for part in re.split(r"(?<=[.!?])\s+(?=[A-Z0-9(])", text.strip()) if part.strip()]
    return f"**{heading}**\n\n" + "\n".join(f"- {sentence}" for sentence in sentences)
