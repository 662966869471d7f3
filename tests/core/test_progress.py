"""Progress bars: text in a terminal; in a notebook kernel an HTML output updated through one display handle (no
widget, so a saved notebook reopens without "model not found")."""
from __future__ import annotations

import IPython.display

from slimrlfn.core import progress
from slimrlfn.core.progress import HtmlTqdm, in_kernel, tqdm
from tqdm.std import tqdm as text_tqdm


def test_outside_a_kernel_the_bar_is_tqdm_text():
    assert not in_kernel()
    bar = tqdm(range(3), disable=True)
    assert type(bar) is text_tqdm and tqdm.write == text_tqdm.write


def test_the_kernel_bar_is_one_display_updated_in_place(monkeypatch):
    shown, updates = [], []

    class Handle:
        def update(self, obj):
            updates.append(obj.data)

    def display(obj, display_id=False):
        assert display_id is True
        shown.append(obj.data)
        return Handle()

    monkeypatch.setattr(IPython.display, "display", display)
    monkeypatch.setattr(progress, "in_kernel", lambda: True)
    bar = tqdm(total=4, desc="eval rlfn", mininterval=0)
    assert isinstance(bar, HtmlTqdm)
    for _ in range(4):
        bar.update(1)
    bar.close()
    assert len(shown) == 1 and "eval rlfn" in shown[0] and "0/4" in shown[0] and "<pre" in shown[0]
    assert updates and "4/4" in updates[-1] and "100%" in updates[-1]
    assert all("widget" not in text for text in shown + updates)
