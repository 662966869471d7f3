"""Progress bars: tqdm's text bar in a terminal, and in a notebook kernel a bar drawn as plain HTML output.

``from slimrlfn.core.progress import tqdm`` replaces ``from tqdm.auto import tqdm`` throughout the package.
tqdm.auto's notebook bar is an ipywidget: a notebook saved after a run keeps only a reference to the widget's
model, and reopened shows "Error displaying widget: model not found" once per finished bar (8 times in notebook
02). :class:`HtmlTqdm` draws the same meter as a ``<pre>`` output updated in place through an IPython display
handle (no widget, no comm), so the saved notebook shows the finished bars as they ended, live or not.
"""
from __future__ import annotations

import html
import io
from typing import Any

from tqdm.std import tqdm as text_tqdm

__all__ = ["HtmlTqdm", "in_kernel", "tqdm"]


def in_kernel() -> bool:
    """Whether this runs in a Jupyter kernel (JupyterLab, papermill), not a terminal or plain IPython."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


class HtmlTqdm(text_tqdm):
    """tqdm's meter as an HTML output updated through a display handle (see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._handle: Any = None
        kwargs["file"] = io.StringIO()  # tqdm's own terminal writes go nowhere
        kwargs.setdefault("mininterval", 0.5)  # each redraw is a message to the front end
        super().__init__(*args, **kwargs)

    def display(self, msg: Any = None, pos: Any = None) -> bool:
        from IPython.display import HTML, display

        text = self.__str__() if msg is None else msg
        shown = HTML(f"<pre class='slimrlfn-progress' style='margin:0'>{html.escape(text)}</pre>" if text else "")
        if self._handle is None:
            self._handle = display(shown, display_id=True)
        else:
            self._handle.update(shown)
        return True


def tqdm(*args: Any, **kwargs: Any) -> text_tqdm:
    """A progress bar: :class:`HtmlTqdm` in a notebook kernel, tqdm's text bar elsewhere."""
    return (HtmlTqdm if in_kernel() else text_tqdm)(*args, **kwargs)


tqdm.write = text_tqdm.write  # type: ignore[attr-defined]  # a line above the bars, as tqdm.write
