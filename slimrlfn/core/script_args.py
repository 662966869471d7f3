"""Arguments handed on to another program's script: the values of its path options made absolute.

Follows the command line of the NTIRE ESR challenge's ``test_demo.py`` (its path options ``--data_dir`` and
``--save_dir``, each as ``--option VALUE`` or ``--option=VALUE``). The launcher that runs that script unchanged on a
CPU (``bench/timing/official_on_cpu.py``, where this function was first) changes directory before it runs it, so a
relative path must be made absolute first, against the caller's folder (without that, the script found no images
and stopped on a division by zero). Standard library only: the launcher's start-up time is part of what
``bench/timing/vs_test_demo.py`` measures.
"""
from __future__ import annotations

import os
from typing import List, Sequence

__all__ = ["PATH_OPTIONS", "absolute_path_options"]

#: The options of ``test_demo.py`` whose value is a path.
PATH_OPTIONS = ("--data_dir", "--save_dir")


def absolute_path_options(script_args: Sequence[str]) -> List[str]:
    """``script_args`` with the value of every path option (``--data_dir X`` or ``--data_dir=X``) made absolute,
    against the current directory; everything else unchanged."""
    out, follows_path_option = [], False
    for word in script_args:
        if follows_path_option:
            word, follows_path_option = os.path.abspath(word), False
        elif word in PATH_OPTIONS:
            follows_path_option = True
        elif word.split("=", 1)[0] in PATH_OPTIONS and "=" in word:
            option, value = word.split("=", 1)
            word = f"{option}={os.path.abspath(value)}"
        out.append(word)
    return out
