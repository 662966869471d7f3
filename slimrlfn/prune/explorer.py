"""The pruning trade-off explorer: every step of every criterion of a pruning run on one interactive chart.

The data part is plain Python, tested without a browser: :func:`points` turns the runs (``{criterion: records}``,
:func:`slimrlfn.prune.explore.explore`'s value or :func:`runs_from_folders` of any pruning run folder, of any model)
and the official models measured beside them into :class:`Point` values; :func:`pareto_front` marks the
non-dominated ones on two axes of :data:`AXES`; :func:`details_html` and :func:`compare_html` say what a step removed
and what it cost, alone and against another; :func:`export_step` writes a step's model (the state_dict and its
config JSON) where the user says and returns the ``slimrlfn eval`` command that evaluates it.

:class:`TradeoffExplorer` puts them in JupyterLab: a plotly ``FigureWidget`` (one colour per criterion, the
references as black symbols, the Pareto front dashed, 95 % intervals as error bars, a step's details on hover),
two axis menus, the clicked step's details beside the chart, the last two clicked side by side, and an export box.
plotly's ``FigureWidget`` was chosen over bqplot and a hand-made anywidget: it is maintained, it is an anywidget
itself in plotly 6+ (so it works in JupyterLab 4 and VS Code with no extension to enable), its hover labels and
error bars come built in, and a notebook saved with its widget state shows the chart again without a kernel.
"""
from __future__ import annotations

import html
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from slimrlfn.core.errors import UserError
from slimrlfn.core.files import PathLike
from slimrlfn.core.optional import require_module
from slimrlfn.metrics.score import SCORE_YEAR
from slimrlfn.metrics.years import YEARS
from slimrlfn.prune.records import load_records, step_checkpoint

__all__ = ["AXES", "Point", "TradeoffExplorer", "compare_html", "details_html", "export_step", "pareto_front",
           "points", "runs_from_folders"]

#: axis key -> (label, record key, 95 % interval key or None, higher is better).
AXES: Dict[str, Tuple[str, str, Optional[str], bool]] = {
    "psnr": ("PSNR [dB]", "psnr_after", None, True),
    "latency_ratio": ("latency / RLFN", "latency_ratio", "latency_ratio_ci", False),
    "flops_g": ("FLOPs [G]", "flops_g", None, False),
    "params_m": ("params [M]", "params_m", None, False),
    "ntire_score": (f"NTIRE {SCORE_YEAR} score", "ntire_score", "ntire_score_ci", False),
}
#: Colour-blind safe (Okabe-Ito) colours of successive criteria; the references are black.
COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")
#: The marker of each reference model by label, others get the next one.
REFERENCE_SYMBOLS = ("diamond", "star", "square", "cross", "triangle-up")


@dataclass(frozen=True)
class Point:
    """One step of one criterion's run (``step`` >= 0), or an official model measured beside them (``step`` None)."""

    label: str
    criterion: Optional[str]
    step: Optional[int]
    record: Mapping[str, Any] = field(repr=False)
    checkpoint: Optional[Path] = None

    @property
    def is_reference(self) -> bool:
        return self.step is None

    def value(self, axis: str) -> Optional[float]:
        key = AXES[axis][1]
        if axis == "psnr" and self.is_reference:
            key = "psnr"
        value = self.record.get(key)
        return None if value is None else float(value)

    def interval(self, axis: str) -> Optional[Tuple[float, float]]:
        key = AXES[axis][2]
        found = self.record.get(key) if key else None
        return (float(found[0]), float(found[1])) if found else None


def _check_axis(axis: str) -> None:
    if axis not in AXES:
        raise UserError(f"axis {axis!r}: expected one of {', '.join(AXES)}")


def runs_from_folders(folders: Mapping[str, PathLike]) -> Dict[str, List[Dict[str, Any]]]:
    """``{name: records}`` of pruning run folders (``slimrlfn prune --out``, of any model); a folder with no
    finished step is refused in one line."""
    runs = {}
    for name, folder in folders.items():
        records = load_records(folder)
        if not records:
            raise UserError(f"{folder}: no finished pruning step (records.jsonl); expected a `slimrlfn prune` run "
                            f"folder")
        runs[name] = records
    return runs


def points(runs: Mapping[str, Sequence[Mapping[str, Any]]], folders: Optional[Mapping[str, PathLike]] = None,
           references: Optional[Mapping[str, Mapping[str, Any]]] = None) -> List[Point]:
    """Every step of every run (its checkpoint when ``folders`` names the run's folder and the file is there), then
    the references (``{label: row}`` of :func:`slimrlfn.prune.measure.reference_records`)."""
    found = []
    for criterion, records in runs.items():
        folder = Path(folders[criterion]) if folders and criterion in folders else None
        for record in records:
            step = int(record["step"])
            checkpoint = step_checkpoint(folder, step) if folder is not None else None
            found.append(Point(f"{criterion} step {step}", criterion, step, record,
                               checkpoint if checkpoint is not None and checkpoint.is_file() else None))
    for label, row in (references or {}).items():
        found.append(Point(label, None, None, row))
    return found


def pareto_front(candidates: Sequence[Point], x: str, y: str) -> List[Point]:
    """The points no other point beats on both axes (each axis better in its own direction: PSNR higher, the rest
    lower), in order of ``x``; points missing either value are left out."""
    _check_axis(x), _check_axis(y)
    signs = (1.0 if AXES[x][3] else -1.0, 1.0 if AXES[y][3] else -1.0)
    scored = [(p, signs[0] * p.value(x), signs[1] * p.value(y)) for p in candidates
              if p.value(x) is not None and p.value(y) is not None]
    front = [p for p, a, b in scored
             if not any((c >= a and d >= b) and (c > a or d > b) for _, c, d in scored)]
    return sorted(front, key=lambda p: (p.value(x), p.value(y)))


_HEAD = "text-align:left;padding-right:1em;white-space:nowrap;vertical-align:top"


def _interval_text(values: Optional[Tuple[float, float]], digits: int) -> str:
    return "" if not values else f" [{values[0]:.{digits}f}, {values[1]:.{digits}f}]"


def _number(value: Any, digits: int, unit: str = "") -> str:
    return "n/a" if value is None else f"{float(value):.{digits}f}{unit}"


def _start_widths(runs: Mapping[str, Sequence[Mapping[str, Any]]], point: Point) -> Dict[str, int]:
    if point.criterion is None or point.criterion not in runs or not runs[point.criterion]:
        return {}
    return dict(runs[point.criterion][0].get("widths") or {})


def _rows(point: Point, start_widths: Mapping[str, int]) -> List[Tuple[str, str]]:
    r = point.record
    rows = [("model", html.escape(point.label))]
    if not point.is_reference:
        removed = ", ".join(f"{u} -{c}" for u, c in (r.get("removed") or {}).items()) or "nothing (the start)"
        rows.append(("removed at this step", html.escape(removed)))
        widths = r.get("widths") or {}
        changed = [f"{u} {start_widths[u]}&rarr;{w}" for u, w in widths.items()
                   if u in start_widths and start_widths[u] != w]
        rows.append(("widths against step 0", ", ".join(changed) or "unchanged"))
        rows.append(("PSNR [dB]", f"{_number(r.get('psnr_after'), 3)} ({_number(r.get('psnr_before'), 3)} after the "
                                  f"surgery, then {(r.get('finetune') or {}).get('iterations', 0)} fine-tuning "
                                  f"iterations)"))
    else:
        rows.append(("PSNR [dB]", _number(r.get("psnr"), 3)))
    rows.append(("params [M]", _number(r.get("params_m"), 4)))
    rows.append(("FLOPs [G]", _number(r.get("flops_g"), 3)))
    latency = r.get("latency_ms")
    pairs = r.get("latency_pairs")
    rows.append(("latency [ms]", _number(latency, 1) + _interval_text(r.get("latency_ci_ms"), 1)
                 + (f", {pairs} pairs" if pairs else "")))
    rows.append(("latency / RLFN", _number(r.get("latency_ratio"), 3) + _interval_text(r.get("latency_ratio_ci"), 3)))
    weights = "/".join(f"{w:g}" for w in YEARS[SCORE_YEAR].weights or ())
    rows.append((f"NTIRE {SCORE_YEAR} score", f"<span title='weights {weights} (runtime/FLOPs/params); RLFN scores "
                 f"e&sup2; = 7.389'>{_number(r.get('ntire_score'), 3)}{_interval_text(r.get('ntire_score_ci'), 3)}"
                 f"</span>"))
    if point.checkpoint:
        short = "/".join(point.checkpoint.parts[-3:])  # run folder / step / file; the whole path on hover
        rows.append(("checkpoint", f"<span title='{html.escape(str(point.checkpoint))}'>.../{html.escape(short)}"
                                   f"</span>"))
    else:
        rows.append(("checkpoint", "an official model (zoo)" if point.is_reference else "not kept"))
    return rows


def details_html(point: Point, runs: Mapping[str, Sequence[Mapping[str, Any]]]) -> str:
    """A two-column HTML table of what ``point`` is: what its step removed and its widths against the start, PSNR,
    params, FLOPs, latency and ratio with their 95 % intervals [low, high] and pairs, the score under
    :data:`SCORE_YEAR`'s weights (on hover), the checkpoint's path (the whole path on hover)."""
    body = "".join(f"<tr><th style='{_HEAD}'>{k}</th><td style='text-align:left'>{v}</td></tr>"
                   for k, v in _rows(point, _start_widths(runs, point)))
    return f"<table class='slimrlfn-details' style='font-size:90%'>{body}</table>"


def compare_html(first: Point, second: Point, runs: Mapping[str, Sequence[Mapping[str, Any]]]) -> str:
    """Two points side by side, one row per quantity of :func:`details_html`."""
    a, b = _rows(first, _start_widths(runs, first)), _rows(second, _start_widths(runs, second))
    by_name = dict(b)
    names = [k for k, _ in a] + [k for k, _ in b if k not in dict(a)]
    cells = "".join(f"<tr><th style='{_HEAD}'>{k}</th>"
                    f"<td style='text-align:left;padding-right:1.5em;vertical-align:top'>{dict(a).get(k, '')}</td>"
                    f"<td style='text-align:left;vertical-align:top'>{by_name.get(k, '')}</td></tr>"
                    for k in names if k != "model")
    head = (f"<tr><th></th><th style='text-align:left'>{html.escape(first.label)}</th>"
            f"<th style='text-align:left'>{html.escape(second.label)}</th></tr>")
    return f"<table class='slimrlfn-compare' style='font-size:90%'>{head}{cells}</table>"


def export_step(point: Point, dest: PathLike, overwrite: bool = False) -> Tuple[Path, str]:
    """Copy ``point``'s model (``model.pth`` and the config ``.json`` beside it) to ``dest`` (a ``.pth``, its
    ``.json`` beside it); ``(dest, the slimrlfn eval command that evaluates it)``. An existing ``dest`` is
    refused unless ``overwrite``; nothing is left half-written."""
    if point.checkpoint is None:
        raise UserError(f"{point.label}: no checkpoint to export (an official model, or a run folder without it)")
    target = Path(dest).expanduser()
    if target.suffix != ".pth":
        raise UserError(f"export path {dest}: expected a file name ending in .pth (its config goes beside it)")
    config = point.checkpoint.with_suffix(".json")
    if not config.is_file():
        raise UserError(f"{config}: missing; a pruning step keeps its config beside its state_dict")
    target_config = target.with_suffix(".json")
    for path in (target, target_config):
        if path.exists() and not overwrite:
            raise UserError(f"export path {path}: exists; choose another name or pass overwrite=True")
    if not target.parent.is_dir():
        raise UserError(f"export path {dest}: no folder {target.parent}")
    written = []
    try:
        for source, path in ((config, target_config), (point.checkpoint, target)):
            partial = path.with_name(f".{path.name}.partial")
            shutil.copyfile(source, partial)
            partial.replace(path)
            written.append(path)
    except OSError as exc:
        for path in written:
            path.unlink(missing_ok=True)
        raise UserError(f"export path {dest}: could not write ({exc.strerror or exc})") from None
    return target, f"slimrlfn eval --checkpoint {target}"


class TradeoffExplorer:
    """The interactive chart of :mod:`slimrlfn.prune.explorer` in JupyterLab (display ``.widget``).

    ``runs`` is ``{criterion: records}``, ``folders`` ``{criterion: run folder}`` (for the checkpoints; any pruning
    run of any model), ``references`` the official models measured beside them. :meth:`select` is what a click
    does, :meth:`export` what the export button does; both work without a browser too."""

    def __init__(
        self,
        runs: Mapping[str, Sequence[Mapping[str, Any]]],
        folders: Optional[Mapping[str, PathLike]] = None,
        references: Optional[Mapping[str, Mapping[str, Any]]] = None,
        x: str = "latency_ratio",
        y: str = "psnr",
        eval_hint: str = "",
        on_export: Optional[Callable[[Path, str], None]] = None,
    ) -> None:
        import ipywidgets as widgets

        require_module("plotly", "the interactive trade-off explorer (pip install -e '.[notebooks]')")
        import plotly.graph_objects as go

        _check_axis(x), _check_axis(y)
        if not runs:
            raise UserError("the explorer needs at least one pruning run")
        self.runs = {k: list(v) for k, v in runs.items()}
        self.points = points(self.runs, folders, references)
        self.selected: List[int] = []
        self._suggested = ""
        self.eval_hint = eval_hint
        self.on_export = on_export
        options = [(label, key) for key, (label, *_rest) in AXES.items()]
        self.x_menu = widgets.Dropdown(options=options, value=x, description="x axis")
        self.y_menu = widgets.Dropdown(options=options, value=y, description="y axis")
        self.details = widgets.HTML("<i>click a point to see its step</i>")
        self.compare = widgets.HTML("<i>click a second point to compare the two</i>")
        self.path = widgets.Text(value="", placeholder="pruned_step.pth", description="export to",
                                 layout=widgets.Layout(width="310px"))
        self.export_button = widgets.Button(description="export selected", icon="download",
                                            layout=widgets.Layout(width="170px"))
        self.message = widgets.HTML()
        self.figure = go.FigureWidget(layout=dict(width=600, height=460, margin=dict(l=60, r=10, t=30, b=50),
                                                  template="simple_white", clickmode="event",
                                                  legend=dict(orientation="h", y=-0.18)))
        self._traces: List[Tuple[Any, List[int]]] = []
        self._draw()
        self.x_menu.observe(lambda _change: self._draw(), names="value")
        self.y_menu.observe(lambda _change: self._draw(), names="value")
        self.export_button.on_click(lambda _button: self._export_clicked())
        side = widgets.VBox([widgets.HTML("<b>selected</b>"), self.details, widgets.HBox([self.path,
                             self.export_button]), self.message], layout=widgets.Layout(width="520px"))
        below = widgets.VBox([widgets.HTML("<b>the last two clicked, side by side</b>"), self.compare])
        self.widget = widgets.VBox([widgets.HBox([self.x_menu, self.y_menu]), widgets.HBox([self.figure, side]),
                                    below])
        self.widget.add_class("slimrlfn-explorer")

    # the chart --------------------------------------------------------------------------------------------
    def _trace_points(self) -> List[Tuple[str, List[int]]]:
        groups: Dict[str, List[int]] = {}
        for index, point in enumerate(self.points):
            groups.setdefault(point.criterion if point.criterion is not None else "", []).append(index)
        return list(groups.items())

    def _draw(self) -> None:
        import plotly.graph_objects as go

        x, y = self.x_menu.value, self.y_menu.value
        traces, members = [], []
        for number, (criterion, indexes) in enumerate(self._trace_points()):
            shown = [i for i in indexes if self.points[i].value(x) is not None and self.points[i].value(y) is not None]
            if criterion:
                colour = COLOURS[number % len(COLOURS)]
                traces.append(self._scatter(go, shown, x, y, criterion, "lines+markers", dict(color=colour, size=9),
                                            dict(color=colour, width=1)))
                members.append(shown)
            else:
                for k, index in enumerate(shown):
                    symbol = REFERENCE_SYMBOLS[k % len(REFERENCE_SYMBOLS)]
                    traces.append(self._scatter(go, [index], x, y, self.points[index].label, "markers",
                                                dict(color="black", size=13, symbol=symbol), None))
                    members.append([index])
        front = pareto_front(self.points, x, y)
        traces.append(go.Scatter(x=[p.value(x) for p in front], y=[p.value(y) for p in front], mode="lines",
                                 name="Pareto front", line=dict(color="#777777", dash="dash", width=1),
                                 hoverinfo="skip"))
        members.append([])
        traces.append(go.Scatter(x=[], y=[], mode="markers", name="selected", hoverinfo="skip", showlegend=False,
                                 marker=dict(size=20, color="rgba(0,0,0,0)", line=dict(color="#000000", width=2))))
        members.append([])
        with self.figure.batch_update():
            self.figure.data = ()
            self.figure.add_traces(traces)
            self.figure.layout.xaxis.title = AXES[x][0]
            self.figure.layout.yaxis.title = AXES[y][0]
        self._traces = list(zip(self.figure.data, members))
        for trace, indexes in self._traces:
            if indexes:
                trace.on_click(self._clicked)
        self._mark_selected()

    def _scatter(self, go: Any, indexes: List[int], x: str, y: str, name: str, mode: str, marker: Dict[str, Any],
                 line: Optional[Dict[str, Any]]) -> Any:
        chosen = [self.points[i] for i in indexes]
        options: Dict[str, Any] = {}
        for axis, key in ((x, "error_x"), (y, "error_y")):
            spans = [p.interval(axis) for p in chosen]
            if any(spans):
                plus = [(s[1] - p.value(axis)) if s else 0.0 for p, s in zip(chosen, spans)]
                minus = [(p.value(axis) - s[0]) if s else 0.0 for p, s in zip(chosen, spans)]
                options[key] = dict(type="data", symmetric=False, array=plus, arrayminus=minus, thickness=1, width=3)
        hover = [f"<b>{html.escape(p.label)}</b><br>PSNR {_number(p.value('psnr'), 3)} dB<br>"
                 f"latency / RLFN {_number(p.value('latency_ratio'), 3)}<br>FLOPs {_number(p.value('flops_g'), 3)} G, "
                 f"params {_number(p.value('params_m'), 4)} M<br>NTIRE score {_number(p.value('ntire_score'), 3)}"
                 for p in chosen]
        return go.Scatter(x=[p.value(x) for p in chosen], y=[p.value(y) for p in chosen], mode=mode, name=name,
                          marker=marker, line=line, customdata=indexes, hovertext=hover, hoverinfo="text",
                          text=[str(p.step) if p.step is not None else "" for p in chosen], **options)

    def _clicked(self, trace: Any, points_state: Any, _selector: Any) -> None:
        for trace_now, indexes in self._traces:
            if trace_now is trace and points_state.point_inds:
                self.select(indexes[points_state.point_inds[0]])
                return

    def _mark_selected(self) -> None:
        x, y = self.x_menu.value, self.y_menu.value
        marker = self._traces[-1][0] if self._traces else None
        if marker is not None:
            chosen = [self.points[i] for i in self.selected]
            marker.x = [p.value(x) for p in chosen]
            marker.y = [p.value(y) for p in chosen]

    # what a click and the export button do ------------------------------------------------------------------
    def select(self, index: int) -> Point:
        """Select point ``index`` (of :attr:`points`): its details; with the one selected before, both side by
        side."""
        point = self.points[index]
        self.selected = (self.selected + [index])[-2:]
        self.details.value = details_html(point, self.runs)
        if len(self.selected) == 2:
            first, second = (self.points[i] for i in self.selected)
            self.compare.value = compare_html(first, second, self.runs)
        self._mark_selected()
        if point.checkpoint is not None and self.path.value in ("", self._suggested):  # never over what was typed
            self._suggested = f"{(point.criterion or 'model')}_step{point.step:02d}.pth"
            self.path.value = self._suggested
        return point

    def export(self, dest: PathLike, overwrite: bool = False) -> Tuple[Path, str]:
        """Export the last selected step to ``dest``; ``(path, eval command)``."""
        if not self.selected:
            raise UserError("no step selected: click a point first")
        path, command = export_step(self.points[self.selected[-1]], dest, overwrite=overwrite)
        command = f"{command} {self.eval_hint}".strip()
        if self.on_export is not None:
            self.on_export(path, command)
        return path, command

    def _export_clicked(self) -> None:
        try:
            path, command = self.export(self.path.value.strip() or "pruned_step.pth")
        except UserError as exc:
            self.message.value = f"<span style='color:#B00020'>{html.escape(str(exc))}</span>"
            return
        self.message.value = (f"<div style='font-size:90%;word-break:break-all'>wrote <code class='slimrlfn-exported'>"
                              f"{html.escape(str(path.resolve()))}</code> (+ .json); evaluate it with<br>"
                              f"<code class='slimrlfn-command'>{html.escape(command)}</code></div>")
