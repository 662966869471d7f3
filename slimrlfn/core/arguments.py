"""Small parsers of command-line values shared by several sub-commands."""
from __future__ import annotations

from typing import List, Optional

from slimrlfn.core.errors import UserError

__all__ = ["MIN_BYTES_PER_LR_PIXEL", "check_fits_memory", "machine_memory_bytes", "parse_size"]


def parse_size(text: str, flag: str = "--sizes", minimum: int = 1) -> List[int]:
    """``'256x256'`` -> ``[256, 256]`` (height, width); UserError naming ``flag`` for anything else or a side below ``minimum``."""
    try:
        h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise UserError(f"{flag} {text}: expected HxW, e.g. 256x256") from None
    if min(h, w) < minimum:
        raise UserError(f"{flag} {text}: expected both sides >= {minimum}")
    return [h, w]


#: Bytes per LR pixel an SR forward needs at the least: the x4 output (16 pixels x 3 channels) and about 60 feature
#: channels at LR resolution, a few alive at once, in fp32. A lower bound: the real peak is higher.
MIN_BYTES_PER_LR_PIXEL = 4 * (16 * 3 + 3 * 60)


def machine_memory_bytes() -> Optional[int]:
    """The machine's physical memory, None where the system does not say."""
    import os

    try:
        return int(os.sysconf("SC_PHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        return None


def check_fits_memory(size: List[int], flag: str = "--sizes", memory: Optional[int] = None) -> None:
    """Refuse, in one line naming ``flag``, an LR input whose forward cannot fit this machine's memory even by
    :data:`MIN_BYTES_PER_LR_PIXEL` (instead of a traceback from the allocator after the models are loaded)."""
    memory = machine_memory_bytes() if memory is None else memory
    need = size[0] * size[1] * MIN_BYTES_PER_LR_PIXEL
    if memory is not None and need > memory:
        raise UserError(f"{flag} {size[0]}x{size[1]}: one forward needs at least {need / 2 ** 30:.0f} GiB, more than "
                        f"this machine's {memory / 2 ** 30:.0f} GiB of memory; expected a smaller LR size")
