"""The dashboards' charts: server-side SVG drawn by pygal, each with the table of its data.

Why server-side SVG: the console works offline and on a phone, with no JavaScript and nothing
fetched from a CDN at run time. pygal links its tooltip script from a CDN unless told otherwise,
so every chart is built with ``js=[]``; the inline script pygal still writes (its configuration
for that tooltip script) and its comments (its home page) are removed, so the only URLs left in
the markup are the SVG and XLink namespace names, which are never fetched. The SVG is inlined in
the page (``viewBox`` only, no fixed size: the CSS makes it 100% wide), labelled for assistive
technology (``role="img"`` and ``aria-label``), and the same numbers are in a ``<table>`` beside
it (``Chart.columns``/``rows``), which is what a screen reader, a printout or a copy into a
spreadsheet uses.

Colours come from the console's palette (``static/dancu/console.css``: ``--accent``, ``--ink``,
``--muted``, ``--line``). Labels come from the database (unit and procedure names) and are
escaped by pygal's XML writer, or by ``_finish`` for the axis labels it writes itself.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import pygal
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from pygal.style import Style

# pygal appends a legacy import hook to sys.meta_path (for its map plugins, unused here) that
# every later import in the process walks through, with an ImportWarning each time (Python 3.11
# wants find_spec): taken out again.
sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != "PluginImportFixer"]

ACCENT, INK, MUTED, LINE = "#b3261e", "#1d2433", "#5b6577", "#d9dee7"
SECOND = "#9aa3b2"  # the "maximum" bars behind the points: a grey of the palette
FONT = 'system-ui, "Segoe UI", Roboto, "Noto Sans", sans-serif'

STYLE = Style(
    background="transparent", plot_background="transparent",
    foreground=INK, foreground_strong=INK, foreground_subtle=LINE,
    colors=(ACCENT, SECOND, "#1b6b2b", "#7a5a00"),
    font_family=FONT, label_font_family=FONT, major_label_font_family=FONT,
    value_font_family=FONT, value_label_font_family=FONT, title_font_family=FONT,
    legend_font_family=FONT, tooltip_font_family=FONT,
    label_font_size=15, major_label_font_size=15, value_font_size=14, legend_font_size=15,
    title_font_size=16, value_label_font_size=14,
    opacity=".9", opacity_hover=".9", transition="none", stroke_width="3", stroke_width_hover="3",
    guide_stroke_color=LINE, major_guide_stroke_color=LINE,
    guide_stroke_dasharray="0", major_guide_stroke_dasharray="0",
    value_colors=("#fff", INK),  # numbers printed inside the bars: white on the accent, ink on grey
)
WIDTH = 400  # the viewBox: on a 390 px phone it is drawn at ~340 px, so 15 px text stays legible
LINE_CHARS = 20  # a longer axis label (unit, group, procedure names) is set on two lines
BAR_HEIGHT = 38  # per bar of a horizontal ranking (room for a label on two lines)
MAX_RANKED_BARS = 20  # more rows than this: the chart shows the first and last ten, the table all
PHONE_ENDS = 5  # a long ranking's table on a phone: the first and last five, the rest behind "see all"
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_SCRIPT = re.compile(r"<script\b.*?</script>", re.S)  # pygal's config for its tooltip script


@dataclass(frozen=True)
class Cell:
    """One cell of a chart's table: text, an optional link (drill-down), numbers right-aligned."""

    text: str
    href: str = ""
    numeric: bool = False


@dataclass
class Chart:
    """An SVG chart and the table of the same numbers, rendered by ``kpi/chart.html``."""

    key: str  # for tests and anchors: "trend", "ranking", "groups"
    title: str
    svg: SafeString
    columns: list[str]
    rows: list[list[Cell]]
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    fold_label: str = ""  # a ranking: "see all N …", the summary of the rows a phone folds away

    @property
    def head(self) -> list[tuple[str, bool]]:
        """The column titles, each with whether its cells are numbers (right-aligned)."""
        first = self.rows[0] if self.rows else []
        return [(title, i < len(first) and first[i].numeric) for i, title in enumerate(self.columns)]

    @property
    def labelled_rows(self) -> list[list[tuple[Cell, str]]]:
        """Each cell with its column's title (shown beside the number when a phone stacks
        the table's rows)."""
        return [list(zip(row, self.columns, strict=False)) for row in self.rows]

    @property
    def fold(self) -> tuple[int, int] | None:
        """The rows (first, last; counted from 1) a phone folds away behind ``fold_label``: all
        but the first and last ``PHONE_ENDS``, when that hides more than a couple. The table
        keeps every row (a desktop shows them all; the fold is the phone's CSS)."""
        if not self.fold_label or len(self.rows) <= 2 * PHONE_ENDS + 2:
            return None
        return PHONE_ENDS + 1, len(self.rows) - PHONE_ENDS


def _config(**kwargs: Any) -> dict[str, Any]:
    return {"js": [], "style": STYLE, "disable_xml_declaration": True, "explicit_size": False,
            "width": WIDTH, "show_legend": False, "print_values": False, "margin": 8, "margin_right": 18,
            "truncate_legend": -1,
            "spacing": 10, "truncate_label": -1, "no_data_text": "—", **kwargs}


def _finish(chart: Any, title: str, labels: dict[str, str] | None = None) -> SafeString:
    """The rendered SVG without pygal's script and comments, labelled for assistive technology,
    with the axis labels keyed by ``_keyed`` put back (on two lines where they are long)."""
    svg = _SCRIPT.sub("", _COMMENT.sub("", chart.render(is_unicode=True)))
    for key, label in (labels or {}).items():
        lines = [escape(line) for line in two_lines(label).split("\n")]
        axis = re.compile(rf'<text x="([^"]+)" y="([^"]+)"([^>]*)>{re.escape(key)}</text>')
        if len(lines) == 2:
            svg = axis.sub(partial(_two_tspans, lines[0], lines[1]), svg)
        svg = svg.replace(key, escape(label))  # the axis text of one line, and pygal's <desc>
    svg = svg.replace("<svg ", f'<svg role="img" aria-label="{escape(title)}" ', 1)
    return mark_safe(svg)  # noqa: S308 - labels and title escaped here, the rest by pygal's XML writer


def _two_tspans(first: str, second: str, m: re.Match[str]) -> str:
    return (f'<text x="{m[1]}" y="{m[2]}"{m[3]}><tspan x="{m[1]}" dy="-0.45em">{first}</tspan>'
            f'<tspan x="{m[1]}" dy="1.15em">{second}</tspan></text>')


def _keyed(labels: Sequence[str]) -> tuple[list[str], dict[str, str]]:
    """Stand-ins for axis labels, each as long as the label's longest line: pygal sizes its
    margin from a label's length (0.6 × font size a character) and draws no second line, so a
    two-line label is given to it as a key of that width and written by ``_finish``."""
    keys, mapping = [], {}
    for i, label in enumerate(labels):
        width = max(len(line) for line in two_lines(label).split("\n"))
        key = f"@@{i}@@".ljust(width, "_")
        keys.append(key)
        mapping[key] = label
    return keys, mapping


def two_lines(label: str) -> str:
    """A label on at most two lines of about ``LINE_CHARS``: a short one as it is, one of up to
    two lines split at the space nearest its middle, a longer one filled word by word and its
    second line shortened with "…" (the table beside the chart has the whole name)."""
    if len(label) <= LINE_CHARS or " " not in label:
        return label
    limit = LINE_CHARS + 4
    spaces = [i for i, ch in enumerate(label) if ch == " "]
    middle = len(label) // 2
    cut = min(spaces, key=lambda i: abs(i - middle))
    if cut > limit or len(label) - cut - 1 > limit:  # too long for two balanced lines
        cut = max((i for i in spaces if i <= limit), default=spaces[0])
    first, second = label[:cut], label[cut + 1:]
    if len(second) > limit:
        second = second[:limit - 1].rstrip() + "…"
    return f"{first}\n{second}"


def percent(ratio: float | None) -> float | None:
    """A ratio (0..1) as a percentage rounded to one decimal, None stays None (no denominator)."""
    return None if ratio is None else round(ratio * 100, 1)


def format_percent(ratio: float | None) -> str:
    value = percent(ratio)
    return "—" if value is None else f"{value:.1f}\u00a0%"  # never "100,0" and "%" on two lines


def trend_chart(title: str, points: Sequence[tuple[str, float | None]], *, percent_axis: bool = True,
                maximum: float | None = None, columns: list[str], rows: list[list[Cell]],
                note: str = "") -> Chart:
    """A line over the periods (oldest first); a period with no denominator is a gap."""
    values = [percent(v) if percent_axis else v for _, v in points]
    chart = pygal.Line(**_config(height=300, x_label_rotation=0, show_dots=True, dots_size=4,
                                 allow_interruptions=True, show_minor_x_labels=False,
                                 x_labels_major_every=max(1, -(-len(points) // 4)),
                                 range=(0, 100) if percent_axis else ((0, maximum) if maximum else None),
                                 show_y_guides=True,
                                 stroke_style={"width": 3}))
    chart.x_labels = [label for label, _ in points]
    chart.add(title, values)
    return Chart("trend", title, _finish(chart, title), columns, rows, note)


def ranking_chart(title: str, items: Sequence[tuple[str, float | None]], *, percent_axis: bool = False,
                  maximum: float | None = None, columns: list[str], rows: list[list[Cell]],
                  note: str = "", fold_label: str = "") -> Chart:
    """Horizontal bars, best first (``items`` already sorted). Over ``MAX_RANKED_BARS`` rows the
    chart draws the first and last ten (the table has every row and ``note`` says so)."""
    shown = list(items)
    if len(shown) > MAX_RANKED_BARS:
        half = MAX_RANKED_BARS // 2
        shown = shown[:half] + shown[-half:]
    values = [(percent(v) if percent_axis else v) for _, v in shown]
    top = 100.0 if percent_axis else maximum
    # pygal draws the first value at the bottom: reversed, the best is on top
    chart = pygal.HorizontalBar(**_config(height=max(140, 50 + BAR_HEIGHT * len(shown)),
                                          range=(0, top) if top else None, show_y_guides=False,
                                          y_labels=_ticks(top),
                                          formatter=_value_format(percent_axis)))
    chart.x_labels, labels = _keyed([label for label, _ in reversed(shown)])
    chart.add(title, list(reversed(values)))
    return Chart("ranking", title, _finish(chart, title, labels), columns, rows, note, fold_label=fold_label)


def groups_chart(title: str, groups: Sequence[tuple[str, float, float]], *, series: tuple[str, str],
                 columns: list[str], rows: list[list[Cell]], note: str = "") -> Chart:
    """The index's groups: points earned (accent) over the group's maximum (grey), one pair of
    bars per group, labels on the left."""
    chart = pygal.HorizontalBar(**_config(height=70 + 64 * len(groups), show_legend=True,
                                          legend_at_bottom=True, legend_at_bottom_columns=2,
                                          print_values=True, formatter=_value_format(False),
                                          show_y_guides=False,
                                          y_labels=_ticks(max((m for _, _, m in groups), default=0))))
    shown = list(reversed(groups))
    chart.x_labels, labels = _keyed([label for label, _, _ in shown])
    chart.add(series[0], [points for _, points, _ in shown])
    chart.add(series[1], [maximum for _, _, maximum in shown])
    return Chart("groups", title, _finish(chart, title, labels), columns, rows, note)


def _ticks(top: float | None) -> list[float] | None:
    """Four or five round ticks on a value axis (pygal's own crowd a 390 px phone)."""
    if not top:
        return None
    step = next(s for s in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000) if top / s <= 5) \
        if top <= 5000 else top / 4
    ticks, value = [], 0.0
    while value <= top + 1e-9:
        ticks.append(value)
        value += step
    return ticks


def _value_format(percent_axis: bool) -> Any:
    def fmt(value: float | None) -> str:
        if value is None:
            return "—"
        if percent_axis:
            return f"{value:.1f}%"
        return f"{value:.1f}".rstrip("0").rstrip(".") if value % 1 else f"{int(value)}"
    return fmt
