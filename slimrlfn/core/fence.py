"""Third-party code run fenced: whatever it raises or exits with becomes one line, never the end of this process.

An NTIRE entry's ``select_model`` and a user's model class are code this project does not control. Catching
``Exception`` is not enough: a ``sys.exit(3)``, an ``argparse`` ``parse_args()`` that meets this process's own
command line (it prints a usage line and exits 2), or a ``KeyboardInterrupt`` the code raises itself would end the
command with no line at all, or pass for the user's Ctrl-C. :func:`fence` turns each of them into a
:class:`~slimrlfn.core.errors.UserError` naming what ran, while a real Ctrl-C (a SIGINT that arrived during the
block, seen by a handler installed for it in the main thread) still stops the command as the user asked.
"""
from __future__ import annotations

import contextlib
import signal
import threading
from typing import Any, Callable, Iterator, List

from slimrlfn.core.errors import UserError, one_line

__all__ = ["fence"]


def _passing_on(previous: Any, pressed: List[bool]) -> Callable[[int, Any], None]:
    def handler(signum: int, frame: Any) -> None:
        pressed[0] = True
        if previous is signal.SIG_IGN:
            return
        if callable(previous):
            previous(signum, frame)
            return
        raise KeyboardInterrupt

    return handler


@contextlib.contextmanager
def fence(what: str, describe: Callable[[BaseException], str] = one_line) -> Iterator[None]:
    """Run the block; any exception or exit of it becomes ``UserError("{what}: ...")`` (a UserError passes with
    ``what`` in front; an ``Exception`` is worded by ``describe``), except the user's own Ctrl-C, which goes on."""
    pressed = [False]
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.getsignal(signal.SIGINT)
        signal.signal(signal.SIGINT, _passing_on(previous, pressed))
    try:
        yield
    except UserError as exc:
        raise UserError(f"{what}: {exc}") from None
    except KeyboardInterrupt:
        if pressed[0]:
            raise
        raise UserError(f"{what}: its code raised KeyboardInterrupt (not a Ctrl-C of yours); refused") from None
    except SystemExit as exc:
        raise UserError(f"{what}: its code called sys.exit({exc.code!r}) (an argparse parse_args() of this process's "
                        f"command line exits so); refused") from None
    except Exception as exc:  # noqa: BLE001 (any failure of third-party code is one line)
        raise UserError(f"{what}: {describe(exc)}") from None
    except BaseException as exc:  # noqa: BLE001 (GeneratorExit and the like: still not the end of this process)
        raise UserError(f"{what}: its code raised {type(exc).__name__}; refused") from None
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
