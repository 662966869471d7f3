"""Small parsers of command-line values shared by several sub-commands."""
from __future__ import annotations

from typing import List

from slimrlfn.core.errors import UserError

__all__ = ["parse_size"]


def parse_size(text: str, flag: str = "--sizes", minimum: int = 1) -> List[int]:
    """``'256x256'`` -> ``[256, 256]`` (height, width); UserError naming ``flag`` for anything else or a side below ``minimum``."""
    try:
        h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise UserError(f"{flag} {text}: expected HxW, e.g. 256x256") from None
    if min(h, w) < minimum:
        raise UserError(f"{flag} {text}: expected both sides >= {minimum}")
    return [h, w]
