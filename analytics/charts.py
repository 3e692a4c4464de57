"""Accessible, self-contained inline SVG charts for ESS Pratiques.

Every public chart function is a pure function returning an SVG string meant to
be embedded inline in HTML pages and in the PDF report (WeasyPrint):

* no JavaScript, no external resource (fonts, CSS, images); presentation
  attributes only; a fixed ``viewBox`` with ``width="100%"`` and no height, so
  the chart scales with its container while keeping its aspect ratio;
* ``role="img"`` + ``<title>``/``<desc>`` referenced by ``aria-labelledby``.
  The ``desc`` is the caller's text followed (by default) by a French textual
  summary of the data, so the chart is usable without seeing it;
* all user text is XML-escaped; XML-illegal control characters are removed;
* Okabe–Ito / colour-blind-safe palettes, and colour is never the only cue
  (marker shapes, dash patterns, hatching, position, written values);
* text is dark grey on white (contrast >= 4.5:1) or, on coloured fills, black or
  white, whichever contrasts best (checked >= 4.5:1 by the tests);
* numbers use the French decimal comma (``format_fr``);
* a value of ``None`` means "suppressed / not published" (anonymity threshold):
  it is never drawn and never written anywhere (no element, attribute, tooltip
  or summary carries it, nor any other number of the same item when the item
  cannot be shown); a « masqué (moins de N réponses) » mention is shown instead.

Inputs are plain Python: the small frozen dataclasses below, or dicts with the
same field names (e.g. ``{"key": "gov", "label": "Gouvernance"}``).

Geometry helpers (``layout_radar``, ``layout_stakeholder_map``,
``layout_materiality_matrix``) expose the computed boxes for tests and callers.
"""

from __future__ import annotations

import hashlib
import html
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, TypeVar

__all__ = [
    "RadarAxis",
    "RadarSeries",
    "MapGroup",
    "GapItem",
    "MaterialityPoint",
    "DistributionRow",
    "Box",
    "PlacedPoint",
    "PlacedLabel",
    "RadarLayout",
    "ScatterLayout",
    "format_fr",
    "format_pct",
    "contrast_ratio",
    "text_width",
    "radar_chart",
    "layout_radar",
    "stakeholder_map",
    "layout_stakeholder_map",
    "gap_bars",
    "materiality_matrix",
    "layout_materiality_matrix",
    "distribution_bars",
    "OKABE_ITO",
    "SERIES_COLOURS",
    "SEQUENTIAL_5",
    "DIVERGING_5",
    "TEXT_COLOUR",
    "MUTED_TEXT_COLOUR",
]

# --------------------------------------------------------------------------
# Input types
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class RadarAxis:
    key: str
    label: str


@dataclass(frozen=True)
class RadarSeries:
    name: str
    values: Mapping[str, float | None]  # missing key == None (masqué)
    dashed: bool = False


@dataclass(frozen=True)
class MapGroup:
    key: str
    label: str
    influence: float | None  # 1..5 (None: masqué, not positioned)
    importance: float | None  # 1..5 (None: masqué, not positioned)
    size: int = 1  # number of contacts; circle area grows with it


@dataclass(frozen=True)
class GapItem:
    key: str
    label: str
    self_value: float | None
    stakeholder_value: float | None
    category: str = ""


@dataclass(frozen=True)
class MaterialityPoint:
    key: str
    label: str
    importance_org: float | None
    importance_stakeholders: float | None
    perceived_level: float | None = None


@dataclass(frozen=True)
class DistributionRow:
    key: str
    label: str
    counts: Mapping[int, int] | None  # level (1..5) -> count; None: masqué
    dont_know: int | None = None


# --------------------------------------------------------------------------
# Geometry types (outputs of the layout helpers)
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    w: float
    h: float

    @property
    def x2(self) -> float:
        return self.x + self.w

    @property
    def y2(self) -> float:
        return self.y + self.h

    def intersects(self, other: Box, pad: float = 0.0) -> bool:
        """Strict overlap (boxes that merely touch do not intersect)."""
        return (
            self.x < other.x2 + pad
            and other.x < self.x2 + pad
            and self.y < other.y2 + pad
            and other.y < self.y2 + pad
        )

    def inside(self, other: Box, tol: float = 1e-6) -> bool:
        return (
            self.x >= other.x - tol
            and self.y >= other.y - tol
            and self.x2 <= other.x2 + tol
            and self.y2 <= other.y2 + tol
        )

    def overlap_area(self, other: Box) -> float:
        dx = min(self.x2, other.x2) - max(self.x, other.x)
        dy = min(self.y2, other.y2) - max(self.y, other.y)
        return dx * dy if dx > 0 and dy > 0 else 0.0


@dataclass(frozen=True)
class PlacedPoint:
    key: str
    cx: float
    cy: float
    r: float
    jittered: bool = False


@dataclass(frozen=True)
class PlacedLabel:
    key: str
    box: Box
    lines: tuple[str, ...]
    leader: tuple[float, float, float, float] | None = None  # x1 y1 x2 y2
    overlapping: bool = False  # True only if no free spot existed (last resort)


@dataclass(frozen=True)
class RadarLayout:
    view_box: Box
    cx: float
    cy: float
    radius: float
    labels: tuple[PlacedLabel, ...]  # one per axis, same order
    anchors: tuple[str, ...]  # text-anchor of each axis label


@dataclass(frozen=True)
class ScatterLayout:
    view_box: Box
    plot: Box
    points: tuple[PlacedPoint, ...]
    labels: tuple[PlacedLabel, ...]
    fixed_boxes: tuple[Box, ...]  # quadrant captions (obstacles)
    masked_keys: tuple[str, ...]  # items not positioned (suppressed)


# --------------------------------------------------------------------------
# Formatting
# --------------------------------------------------------------------------

NNBSP = "\u202f"  # narrow no-break space (French thousands separator, before %)
MINUS = "\u2212"


def format_fr(x: float, digits: int = 1, *, signed: bool = False) -> str:
    """French number formatting: ``3.45 -> "3,5"``, ``12345.6 -> "12 345,6"``.

    Half-up rounding on the shortest decimal representation (2.25 -> "2,3"),
    U+202F thousands separator, U+2212 minus sign, ``signed`` adds "+" to
    positive values. A value that rounds to zero is written without sign.
    """
    if x is None:
        raise TypeError("format_fr() needs a number, got None")
    if isinstance(x, float) and not math.isfinite(x):
        return "–"
    try:
        d = Decimal(repr(float(x))) if not isinstance(x, int) else Decimal(x)
        q = Decimal(1).scaleb(-digits) if digits > 0 else Decimal(1)
        d = d.quantize(q, rounding=ROUND_HALF_UP)
    except InvalidOperation:  # pragma: no cover - absurdly large numbers
        return str(x)
    negative = d < 0
    d = abs(d)
    int_part, _, frac = f"{d:f}".partition(".")
    groups = []
    while len(int_part) > 3:
        groups.insert(0, int_part[-3:])
        int_part = int_part[:-3]
    groups.insert(0, int_part)
    out = NNBSP.join(groups) + ("," + frac if frac else "")
    if d == 0:
        return out
    if negative:
        return MINUS + out
    return ("+" + out) if signed else out


def format_pct(p: int | float, digits: int = 0) -> str:
    """``12 -> "12 %"`` (narrow no-break space before the percent sign)."""
    return f"{format_fr(p, digits)}{NNBSP}%"


def _masked_text(min_responses: int | None) -> str:
    if min_responses:
        unit = "réponse" if min_responses <= 1 else "réponses"
        return f"masqué (moins de {min_responses} {unit})"
    return "masqué (trop peu de réponses)"


# --------------------------------------------------------------------------
# Colours and contrast
# --------------------------------------------------------------------------

OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}
# Ordered for >= 3:1 graphic contrast on white first (blue, vermillion, green,
# purple, black); orange only for a 6th series.
SERIES_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#000000", "#E69F00")
SEQUENTIAL_5 = ("#440154", "#3B528B", "#21918C", "#5EC962", "#FDE725")  # viridis
DIVERGING_5 = ("#B35806", "#F1A340", "#DEDEDE", "#998EC3", "#542788")  # PuOr-like
TEXT_COLOUR = "#1F1F1F"
MUTED_TEXT_COLOUR = "#4D4D4D"
GRID_COLOUR = "#C8C8C8"
AXIS_COLOUR = "#595959"
WHITE = "#FFFFFF"
BLACK = "#000000"
GAP_NEG_COLOUR = OKABE_ITO["vermillion"]
GAP_POS_COLOUR = OKABE_ITO["blue"]
MAP_COLOUR = OKABE_ITO["blue"]


def _rel_luminance(hex_colour: str) -> float:
    h = hex_colour.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    chans = [int(h[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in chans]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast_ratio(a: str, b: str) -> float:
    """WCAG 2 contrast ratio between two ``#RRGGBB`` colours."""
    la, lb = _rel_luminance(a), _rel_luminance(b)
    hi, lo = max(la, lb), min(la, lb)
    return (hi + 0.05) / (lo + 0.05)


def _text_on(bg: str) -> str:
    return BLACK if contrast_ratio(bg, BLACK) >= contrast_ratio(bg, WHITE) else WHITE


# --------------------------------------------------------------------------
# Text measurement / wrapping (deterministic estimates, no font access)
# --------------------------------------------------------------------------

_CHAR_W: dict[str, float] = {}
for _chars, _w in (
    ("ijl'|!’`", 0.25),
    (".,:;", 0.30),
    ("ft/ ()[]", 0.31),
    ("r-\"*", 0.37),
    ("IJ", 0.32),
    ("m", 0.86),
    ("wMW", 0.86),
    ("%@&", 0.86),
    ("…—", 1.0),
    ("ABCDEFGHKLNOPQRSTUVXYZ", 0.64),
    ("0123456789", 0.60),
    ("«»–+<>=?_#$~^", 0.60),
):
    for _c in _chars:
        _CHAR_W[_c] = _w
_DEFAULT_CHAR_W = 0.57
_SAFETY = 1.08  # calibrated on DejaVu Sans, wider than most system sans-serif fonts


def text_width(s: str, size: float, bold: bool = False) -> float:
    """Estimated rendered width of ``s`` in px for a sans-serif font."""
    total = 0.0
    for ch in s:
        base = unicodedata.normalize("NFD", ch)[:1] or ch
        total += _CHAR_W.get(base, _DEFAULT_CHAR_W)
    return total * size * _SAFETY * (1.15 if bold else 1.0)


def _ellipsize(s: str, size: float, max_w: float, bold: bool = False) -> str:
    if text_width(s, size, bold) <= max_w:
        return s
    while s and text_width(s + "…", size, bold) > max_w:
        s = s[:-1]
    return s.rstrip() + "…"


def _wrap(s: str, size: float, max_w: float, max_lines: int = 2, bold: bool = False) -> list[str]:
    words = s.split()
    if not words:
        return [""]
    lines: list[str] = []
    cur = ""
    for w in words:
        cand = f"{cur} {w}" if cur else w
        if not cur or text_width(cand, size, bold) <= max_w:
            cur = cand
        else:
            lines.append(cur)
            cur = w
    lines.append(cur)
    if len(lines) > max_lines:
        lines = lines[: max_lines - 1] + [" ".join(lines[max_lines - 1 :])]
    return [_ellipsize(line, size, max_w, bold) for line in lines]


_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _clean(s: Any) -> str:
    """User text -> single-line, XML-legal text (escaping happens at output)."""
    return " ".join(_XML_ILLEGAL.sub("", str(s)).split())


def _esc(s: Any) -> str:
    return html.escape(_XML_ILLEGAL.sub("", str(s)), quote=True)


# --------------------------------------------------------------------------
# SVG primitives
# --------------------------------------------------------------------------

FONT_FAMILY = (
    "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, "
    "'Liberation Sans', 'DejaVu Sans', sans-serif"
)
W = 640.0  # every chart is 640 user units wide
M = 10.0  # outer margin


def _n(v: float) -> str:
    """Coordinate formatting: one decimal, no comma (so no "3,8"-like text)."""
    s = f"{v:.1f}"
    if s.endswith(".0"):
        s = s[:-2]
    return "0" if s in ("-0", "-0.0") else s


def _pts(points: Iterable[tuple[float, float]]) -> str:
    return " ".join(f"{_n(x)} {_n(y)}" for x, y in points)


@dataclass(frozen=True)
class _Line:
    text: str
    size: float = 12
    bold: bool = False
    italic: bool = False
    fill: str = TEXT_COLOUR
    cls: str | None = None

    @property
    def height(self) -> float:
        return round(self.size * 1.3, 1)

    @property
    def width(self) -> float:
        return text_width(self.text, self.size, self.bold)


def _block_dims(lines: Sequence[_Line]) -> tuple[float, float]:
    if not lines:
        return 0.0, 0.0
    return max(l.width for l in lines), sum(l.height for l in lines)


def _text(
    x: float,
    y: float,
    s: str,
    *,
    size: float = 12,
    fill: str = TEXT_COLOUR,
    anchor: str = "start",
    bold: bool = False,
    italic: bool = False,
    cls: str | None = None,
    transform: str | None = None,
) -> str:
    a = f'<text x="{_n(x)}" y="{_n(y)}" font-size="{_n(size)}" fill="{fill}"'
    if anchor != "start":
        a += f' text-anchor="{anchor}"'
    if bold:
        a += ' font-weight="bold"'
    if italic:
        a += ' font-style="italic"'
    if cls:
        a += f' class="{cls}"'
    if transform:
        a += f' transform="{transform}"'
    return a + f">{_esc(s)}</text>"


def _render_block(lines: Sequence[_Line], x: float, top: float, anchor: str = "start") -> list[str]:
    out = []
    y = top
    for ln in lines:
        baseline = y + (ln.height + ln.size * 0.7) / 2
        out.append(
            _text(x, baseline, ln.text, size=ln.size, fill=ln.fill, anchor=anchor,
                  bold=ln.bold, italic=ln.italic, cls=ln.cls)
        )
        y += ln.height
    return out


def _title_el(s: str) -> str:
    return f"<title>{_esc(s)}</title>"


def _uid(kind: str, id_prefix: str | None, payload: Any) -> str:
    if id_prefix:
        p = re.sub(r"[^A-Za-z0-9_-]", "-", id_prefix)
        return p if p[:1].isalpha() else f"ess-{p}"
    digest = hashlib.sha1(repr(payload).encode("utf-8", "replace")).hexdigest()[:8]
    return f"ess-{kind}-{digest}"


def _document(kind: str, uid: str, height: float, title: str, desc: str,
              body: Sequence[str], defs: Sequence[str] = ()) -> str:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_n(W)} {_n(height)}" '
        f'width="100%" preserveAspectRatio="xMidYMid meet" role="img" '
        f'aria-labelledby="{uid}-title {uid}-desc" class="ess-chart ess-chart-{kind}" '
        f'font-family="{_esc(FONT_FAMILY)}">'
    )
    parts = [
        head,
        f'<title id="{uid}-title">{_esc(_clean(title))}</title>',
        f'<desc id="{uid}-desc">{_esc(_clean(desc))}</desc>',
    ]
    if defs:
        parts.append("<defs>" + "".join(defs) + "</defs>")
    parts.append(f'<rect x="0" y="0" width="{_n(W)}" height="{_n(height)}" fill="{WHITE}"/>')
    parts.extend(body)
    parts.append("</svg>")
    return "\n".join(parts)


def _full_desc(desc: str | None, summary: str, with_summary: bool) -> str:
    desc = _clean(desc or "")
    if not with_summary:
        return desc
    if not desc:
        return summary
    return f"{desc} {summary}" if desc.endswith((".", "!", "?", ":")) else f"{desc}. {summary}"


def _marker(shape: int, x: float, y: float, s: float, fill: str, cls: str, tooltip: str) -> str:
    stroke = f'fill="{fill}" stroke="{WHITE}" stroke-width="1.2" class="{cls}"'
    t = _title_el(tooltip)
    k = shape % 5
    if k == 0:
        return f'<circle cx="{_n(x)}" cy="{_n(y)}" r="{_n(s)}" {stroke}>{t}</circle>'
    if k == 1:
        a = s * 0.9
        return (f'<rect x="{_n(x - a)}" y="{_n(y - a)}" width="{_n(2 * a)}" '
                f'height="{_n(2 * a)}" {stroke}>{t}</rect>')
    if k == 2:
        pts = [(x, y - s * 1.25), (x + s * 1.15, y + s * 0.85), (x - s * 1.15, y + s * 0.85)]
    elif k == 3:
        a = s * 1.3
        pts = [(x, y - a), (x + a, y), (x, y + a), (x - a, y)]
    else:
        pts = [(x, y + s * 1.25), (x + s * 1.15, y - s * 0.85), (x - s * 1.15, y - s * 0.85)]
    return f'<polygon points="{_pts(pts)}" {stroke}>{t}</polygon>'


def _flow_legend(items: Sequence[tuple[float, Callable[[float, float], list[str]]]],
                 top: float, row_h: float = 20.0, gap: float = 20.0,
                 x0: float = M, x1: float = W - M) -> tuple[list[str], float]:
    """Lay out legend items left to right, wrapping; returns (svg, bottom y)."""
    out: list[str] = []
    x, y = x0, top
    if not items:
        return out, top
    for width, render in items:
        if x > x0 and x + width > x1:
            x = x0
            y += row_h
        out.extend(render(x, y))
        x += width + gap
    return out, y + row_h


T = TypeVar("T")


def _coerce(items: Iterable[Any], cls: type[T]) -> list[T]:
    out = []
    names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    for it in items:
        if isinstance(it, cls):
            out.append(it)
        elif isinstance(it, Mapping):
            out.append(cls(**{k: v for k, v in it.items() if k in names}))
        else:
            raise TypeError(f"expected {cls.__name__} or dict, got {type(it).__name__}")
    return out


def _num(v: Any) -> float | None:
    if v is None:
        return None
    f = float(v)
    return f if math.isfinite(f) else None


def _clamp(v: float, lo: float, hi: float) -> float:
    return max(lo, min(hi, v))


# --------------------------------------------------------------------------
# 1. Radar
# --------------------------------------------------------------------------

_RADAR_LABEL_SIZE = 13.0
_RADAR_LABEL_W = 140.0
_RADAR_GAP = 10.0


def _radar_blocks(axes: Sequence[RadarAxis], series: Sequence[RadarSeries]) -> list[list[_Line]]:
    blocks = []
    for ax in axes:
        lines = [_Line(t, _RADAR_LABEL_SIZE, cls="axis-label")
                 for t in _wrap(_clean(ax.label), _RADAR_LABEL_SIZE, _RADAR_LABEL_W)]
        for s in series:
            if _num(s.values.get(ax.key)) is None:
                txt = _ellipsize(f"{_clean(s.name)} : masqué", 11, _RADAR_LABEL_W + 40)
                lines.append(_Line(txt, 11, italic=True, fill=MUTED_TEXT_COLOUR, cls="masked"))
        blocks.append(lines)
    return blocks


def layout_radar(axes: Sequence[RadarAxis | Mapping[str, Any]],
                 series: Sequence[RadarSeries | Mapping[str, Any]] = ()) -> RadarLayout:
    """Geometry of the radar (centre, radius, axis-label boxes, total height).

    Labels sit outside the outer ring; the radius is the largest one (<= 190)
    for which every label fits horizontally; the height follows from the
    labels, so every label is inside the viewBox.
    """
    axes_ = _coerce(axes, RadarAxis)
    series_ = _coerce(series, RadarSeries)
    n = len(axes_)
    if not 3 <= n <= 8:
        raise ValueError("radar_chart needs 3 to 8 axes")
    blocks = _radar_blocks(axes_, series_)
    dims = [_block_dims(b) for b in blocks]
    angles = [-math.pi / 2 + 2 * math.pi * i / n for i in range(n)]
    cx = W / 2

    def boxes(radius: float) -> list[tuple[Box, str, float]]:
        res = []
        for (w, h), a in zip(dims, angles):
            c, s = math.cos(a), math.sin(a)
            px, py = cx + (radius + _RADAR_GAP) * c, (radius + _RADAR_GAP) * s
            if abs(c) < 0.15:
                anchor, x0 = "middle", px - w / 2
            elif c > 0:
                anchor, x0 = "start", px
            else:
                anchor, x0 = "end", px - w
            y0 = py - h / 2 + s * h / 2
            res.append((Box(x0, y0, w, h), anchor, px))
        return res

    def fits(radius: float) -> bool:
        return all(b.x >= M and b.x2 <= W - M for b, _, _ in boxes(radius))

    lo, hi = 40.0, 190.0
    if fits(hi):
        radius = hi
    else:
        for _ in range(40):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if fits(mid) else (lo, mid)
        radius = math.floor(lo)
    placed = boxes(radius)
    min_y = min([-radius] + [b.y for b, _, _ in placed])
    max_y = max([radius] + [b.y2 for b, _, _ in placed])
    cy = M - min_y
    labels = []
    for ax, block, (b, _anchor, _px) in zip(axes_, blocks, placed):
        labels.append(PlacedLabel(ax.key, Box(b.x, b.y + cy, b.w, b.h),
                                  tuple(l.text for l in block)))
    height = cy + max_y  # plot bottom; the legend is added by radar_chart
    return RadarLayout(Box(0, 0, W, height), cx, cy, radius, tuple(labels),
                       tuple(a for _, a, _ in placed))


def radar_chart(
    axes: Sequence[RadarAxis | Mapping[str, Any]],
    series: Sequence[RadarSeries | Mapping[str, Any]],
    *,
    scale_min: float = 1,
    scale_max: float = 5,
    title: str,
    desc: str | None = None,
    min_responses: int | None = None,
    summary: bool = True,
    id_prefix: str | None = None,
) -> str:
    """Themes radar: one polygon per series (colour + dash + marker shape).

    A ``None`` (or missing) value is not drawn: the polygon is broken there and
    « <série> : masqué » is written under the axis label.
    """
    axes_ = _coerce(axes, RadarAxis)
    series_ = _coerce(series, RadarSeries)
    if scale_max <= scale_min:
        raise ValueError("scale_max must be greater than scale_min")
    lay = layout_radar(axes_, series_)
    n = len(axes_)
    cx, cy, R = lay.cx, lay.cy, lay.radius
    angles = [-math.pi / 2 + 2 * math.pi * i / n for i in range(n)]
    inner = 0.12 * R

    def rad(v: float) -> float:
        v = _clamp(v, scale_min, scale_max)
        return inner + (R - inner) * (v - scale_min) / (scale_max - scale_min)

    def pt(i: int, r: float) -> tuple[float, float]:
        return cx + r * math.cos(angles[i]), cy + r * math.sin(angles[i])

    body: list[str] = ['<g class="grid">']
    ring_values = []
    v = math.ceil(scale_min)
    while v <= scale_max + 1e-9:
        ring_values.append(v)
        v += 1
    for v in ring_values:
        body.append(f'<polygon points="{_pts(pt(i, rad(v)) for i in range(n))}" fill="none" '
                    f'stroke="{GRID_COLOUR}" stroke-width="1"/>')
    for i in range(n):
        x2, y2 = pt(i, R)
        body.append(f'<line x1="{_n(cx)}" y1="{_n(cy)}" x2="{_n(x2)}" y2="{_n(y2)}" '
                    f'stroke="{GRID_COLOUR}" stroke-width="1"/>')
    for v in ring_values:
        body.append(_text(cx + 4, cy - rad(v) + 11, format_fr(v, 0), size=10,
                          fill=MUTED_TEXT_COLOUR, cls="ring-label"))
    body.append("</g>")

    # axis labels (+ masked mentions)
    blocks = _radar_blocks(axes_, series_)
    body.append('<g class="axis-labels">')
    for ax, lab, anchor, block in zip(axes_, lay.labels, lay.anchors, blocks):
        x = {"start": lab.box.x, "end": lab.box.x2, "middle": lab.box.x + lab.box.w / 2}[anchor]
        body.append(f'<g class="axis">{_title_el(_clean(ax.label))}')
        body.extend(_render_block(block, x, lab.box.y, anchor))
        body.append("</g>")
    body.append("</g>")

    # series
    masked_any = False
    summaries = []
    fills, lines_, markers = [], [], []
    for si, s in enumerate(series_):
        colour = SERIES_COLOURS[si % len(SERIES_COLOURS)]
        dash = ' stroke-dasharray="7 4"' if s.dashed else ""
        vals = [_num(s.values.get(ax.key)) for ax in axes_]
        present = [v is not None for v in vals]
        coords = [pt(i, rad(v)) if v is not None else None for i, v in enumerate(vals)]
        name = _clean(s.name)
        parts = []
        for ax, v in zip(axes_, vals):
            parts.append(f"{_clean(ax.label)} {format_fr(v) if v is not None else 'masqué'}")
        summaries.append(f"{name} : " + " ; ".join(parts) + ".")
        if all(present):
            fills.append(f'<polygon points="{_pts(coords)}" fill="{colour}" fill-opacity="0.10" '  # type: ignore[arg-type]
                         f'stroke="none"/>')
            lines_.append(f'<polygon points="{_pts(coords)}" fill="none" stroke="{colour}" '  # type: ignore[arg-type]
                          f'stroke-width="2.5" stroke-linejoin="round"{dash} class="series s{si}"/>')
        else:
            masked_any = True
            # runs of consecutive present values, cyclically
            segs = []
            for i in range(n):
                j = (i + 1) % n
                if present[i] and present[j]:
                    segs.append((coords[i], coords[j]))
            if segs:
                d = " ".join(f"M {_n(a[0])} {_n(a[1])} L {_n(b[0])} {_n(b[1])}" for a, b in segs)
                lines_.append(f'<path d="{d}" fill="none" stroke="{colour}" stroke-width="2.5" '
                              f'stroke-linecap="round"{dash} class="series s{si}"/>')
        for i, (ax, v) in enumerate(zip(axes_, vals)):
            if v is None:
                continue
            x, y = coords[i]  # type: ignore[misc]
            markers.append(_marker(si, x, y, 5.0, colour, f"marker s{si} a{i}",
                                   f"{name} — {_clean(ax.label)} : {format_fr(v)}"))
    body.append('<g class="series-fills">' + "".join(fills) + "</g>")
    body.append('<g class="series-lines">' + "".join(lines_) + "</g>")
    body.append('<g class="series-markers">' + "".join(markers) + "</g>")

    # legend
    items = []
    for si, s in enumerate(series_):
        colour = SERIES_COLOURS[si % len(SERIES_COLOURS)]
        name = _ellipsize(_clean(s.name), 12, 260)
        dash = ' stroke-dasharray="7 4"' if s.dashed else ""

        def render(x: float, y: float, si=si, colour=colour, name=name, dash=dash) -> list[str]:
            mid = y + 10
            return [
                f'<line x1="{_n(x)}" y1="{_n(mid)}" x2="{_n(x + 30)}" y2="{_n(mid)}" '
                f'stroke="{colour}" stroke-width="2.5"{dash}/>',
                _marker(si, x + 15, mid, 5.0, colour, f"legend-marker s{si}", name),
                _text(x + 38, mid + 4, name, size=12, cls="legend-label"),
            ]

        items.append((38 + text_width(name, 12), render))
    leg, bottom = _flow_legend(items, lay.view_box.h + 14)
    body.append('<g class="legend">')
    body.extend(leg)
    if masked_any:
        note = _ellipsize(f"Valeur absente = {_masked_text(min_responses)}", 11, W - 2 * M)
        body.append(_text(M, bottom + 10, note, size=11, italic=True,
                          fill=MUTED_TEXT_COLOUR, cls="masked-note"))
        bottom += 16
    body.append("</g>")
    height = bottom + M

    scale_txt = f"Échelle de {format_fr(scale_min, 0)} à {format_fr(scale_max, 0)}."
    summary_txt = " ".join([scale_txt] + summaries)
    if masked_any:
        summary_txt += f" Valeur absente = {_masked_text(min_responses)}."
    uid = _uid("radar", id_prefix, (title, axes_, series_, scale_min, scale_max))
    return _document("radar", uid, height, title, _full_desc(desc, summary_txt, summary), body)


# --------------------------------------------------------------------------
# Label placement (shared by the stakeholder map and the materiality matrix)
# --------------------------------------------------------------------------

_DIRECTIONS = ((1, 0), (-1, 0), (0, -1), (0, 1), (1, -1), (1, 1), (-1, -1), (-1, 1))
_LABEL_FONT = 12.0
_LABEL_LH = round(_LABEL_FONT * 1.3, 1)
_LABEL_PAD = 3.0


def _circle_hits_box(cx: float, cy: float, r: float, b: Box, pad: float = 0.0) -> bool:
    nx, ny = _clamp(cx, b.x, b.x2), _clamp(cy, b.y, b.y2)
    return (nx - cx) ** 2 + (ny - cy) ** 2 < (r + pad) ** 2


def _candidate(p: PlacedPoint, w: float, h: float, d: float, dx: int, dy: int) -> Box:
    r = p.r + d
    if dy == 0:
        x = p.cx + r if dx > 0 else p.cx - r - w
        return Box(x, p.cy - h / 2, w, h)
    if dx == 0:
        y = p.cy + r if dy > 0 else p.cy - r - h
        return Box(p.cx - w / 2, y, w, h)
    k = r * math.sqrt(0.5)
    px, py = p.cx + dx * k, p.cy + dy * k
    return Box(px if dx > 0 else px - w, py if dy > 0 else py - h, w, h)


def _box_gap(p: PlacedPoint, b: Box) -> float:
    """Distance from the edge of circle ``p`` to box ``b`` (negative if they overlap)."""
    nx, ny = _clamp(p.cx, b.x, b.x2), _clamp(p.cy, b.y, b.y2)
    return math.hypot(nx - p.cx, ny - p.cy) - p.r


def _leader(p: PlacedPoint, b: Box) -> tuple[float, float, float, float] | None:
    """Leader line from the circle edge to the nearest point of a displaced label."""
    nx, ny = _clamp(p.cx, b.x, b.x2), _clamp(p.cy, b.y, b.y2)
    dist = math.hypot(nx - p.cx, ny - p.cy)
    if dist - p.r <= 7.0 or dist == 0:
        return None
    ux, uy = (nx - p.cx) / dist, (ny - p.cy) / dist
    return (p.cx + ux * p.r, p.cy + uy * p.r, nx, ny)


def _segment_hits_box(seg: tuple[float, float, float, float], b: Box, pad: float = 1.0) -> bool:
    """Liang–Barsky clipping test of a segment against a (padded) box."""
    x1, y1, x2, y2 = seg
    dx, dy = x2 - x1, y2 - y1
    t0, t1 = 0.0, 1.0
    for pp, q in ((-dx, x1 - (b.x - pad)), (dx, (b.x2 + pad) - x1),
                  (-dy, y1 - (b.y - pad)), (dy, (b.y2 + pad) - y1)):
        if pp == 0:
            if q < 0:
                return False
            continue
        t = q / pp
        if pp < 0:
            t0 = max(t0, t)
        else:
            t1 = min(t1, t)
        if t0 > t1:
            return False
    return True


_Placement = tuple[Box, "tuple[float, float, float, float] | None", bool]


def _place_labels(points: Sequence[PlacedPoint], sizes: Sequence[tuple[float, float]],
                  bounds: Box, fixed: Sequence[Box]) -> list[_Placement]:
    """Deterministic greedy label placement, in input order.

    Returns ``(box, leader, overlapping)`` per point. For each label, candidate
    boxes are tried right, left, above, below, then the four diagonals, at
    growing distances from the circle; the first candidate is kept that stays
    inside ``bounds`` and does not intersect already placed labels, ``fixed``
    boxes, circles, or already drawn leader lines (nor has its own leader
    crossing a label). Successive passes relax the rules: 1) all circles
    avoided and the label must be nearer to its own point than to any other;
    2) other circles may be covered, except their centre dot; 3) the
    "nearest" rule is dropped; 4) full scan of the area, nearest spot first;
    5) same, leaders may cross; 6) (pathological crowding only) the least
    overlapping candidate, flagged ``overlapping=True``.
    """
    placed: list[Box] = []
    leaders: list[tuple[float, float, float, float]] = []
    result: list[_Placement] = []

    def free(b: Box, own: int, circles_full: bool, nearest: bool, check_leaders: bool) -> bool:
        if not b.inside(bounds):
            return False
        if any(b.intersects(o, 2.0) for o in placed) or any(b.intersects(o, 2.0) for o in fixed):
            return False
        for j, q in enumerate(points):
            r = q.r if (circles_full or j == own) else min(q.r, 4.0)
            if _circle_hits_box(q.cx, q.cy, r, b, 1.0):
                return False
        if nearest:
            g_own = _box_gap(points[own], b)
            if any(_box_gap(q, b) < g_own - 2.0 for j, q in enumerate(points) if j != own):
                return False
        if check_leaders:
            if any(_segment_hits_box(seg, b) for seg in leaders):
                return False
            seg = _leader(points[own], b)
            if seg and any(_segment_hits_box(seg, o) for o in [*placed, *fixed]):
                return False
        return True

    def ring_candidates(p: PlacedPoint, w: float, h: float, steps: int):
        for k in range(steps):
            for dx, dy in _DIRECTIONS:
                yield _candidate(p, w, h, 3.0 + 6.0 * k, dx, dy)

    def scan_candidates(p: PlacedPoint, w: float, h: float):
        cands = []
        yy = bounds.y
        while yy + h <= bounds.y2:
            xx = bounds.x
            while xx + w <= bounds.x2:
                cands.append(Box(xx, yy, w, h))
                xx += 5.0
            yy += 5.0
        cands.sort(key=lambda b: ((b.x + b.w / 2 - p.cx) ** 2 + (b.y + b.h / 2 - p.cy) ** 2,
                                  b.y, b.x))
        return cands

    for i, (p, (w, h)) in enumerate(zip(points, sizes)):
        chosen: Box | None = None
        passes = (
            (lambda: ring_candidates(p, w, h, 12), True, True, True),
            (lambda: ring_candidates(p, w, h, 40), False, True, True),
            (lambda: ring_candidates(p, w, h, 40), False, False, True),
            (lambda: scan_candidates(p, w, h), False, False, True),
            (lambda: scan_candidates(p, w, h), False, False, False),
        )
        for gen, circles_full, nearest, check_leaders in passes:
            chosen = next((b for b in gen() if free(b, i, circles_full, nearest, check_leaders)), None)
            if chosen is not None:
                break
        overlapping = False
        if chosen is None:  # pathologically crowded input: least overlap
            overlapping = True
            best: tuple[float, Box] | None = None
            for b in ring_candidates(p, w, h, 12):
                if b.inside(bounds):
                    score = sum(b.overlap_area(o) for o in placed)
                    if best is None or score < best[0]:
                        best = (score, b)
            chosen = best[1] if best else Box(_clamp(p.cx, bounds.x, bounds.x2 - w),
                                              _clamp(p.cy, bounds.y, bounds.y2 - h), w, h)
        seg = _leader(p, chosen)
        placed.append(chosen)
        if seg:
            leaders.append(seg)
        result.append((chosen, seg, overlapping))
    return result


@dataclass(frozen=True)
class _ScatterItem:
    key: str
    lines: tuple[str, ...]
    xv: float
    yv: float
    r: float


def _scatter_layout(items: Sequence[_ScatterItem], plot: Box, pad: float,
                    fixed: Sequence[Box], height: float,
                    masked: Sequence[str], min_sep: float = 8.0) -> ScatterLayout:
    """Map values to pixels, separate (quasi) coincident points with a
    deterministic sunflower offset of at least ``min_sep`` px, place labels."""
    def sx(v: float) -> float:
        return plot.x + pad + (_clamp(v, 1, 5) - 1) / 4 * (plot.w - 2 * pad)

    def sy(v: float) -> float:
        return plot.y2 - pad - (_clamp(v, 1, 5) - 1) / 4 * (plot.h - 2 * pad)

    points: list[PlacedPoint] = []
    golden = math.pi * (3 - math.sqrt(5))
    for it in items:
        x0, y0 = sx(it.xv), sy(it.yv)
        x, y, k = x0, y0, 0
        while any(math.hypot(x - q.cx, y - q.cy) < min_sep for q in points) and k < 400:
            k += 1
            rr = min_sep * 1.1 * math.sqrt(k)
            x = _clamp(x0 + rr * math.cos(k * golden), plot.x + it.r, plot.x2 - it.r)
            y = _clamp(y0 + rr * math.sin(k * golden), plot.y + it.r, plot.y2 - it.r)
        points.append(PlacedPoint(it.key, x, y, it.r, k > 0))
    sizes = []
    for it in items:
        w = max(text_width(t, _LABEL_FONT) for t in it.lines) + 2 * _LABEL_PAD
        sizes.append((w, len(it.lines) * _LABEL_LH + 2))
    placements = _place_labels(points, sizes, plot, fixed)
    labels = []
    for it, (b, seg, overlapping) in zip(items, placements):
        labels.append(PlacedLabel(it.key, b, it.lines, seg, overlapping))
    return ScatterLayout(Box(0, 0, W, height), plot, tuple(points), tuple(labels),
                         tuple(fixed), tuple(masked))


def _render_scatter_frame(lay: ScatterLayout, pad: float, x_title: str, y_title: str) -> list[str]:
    plot = lay.plot
    out = ['<g class="frame">',
           f'<rect x="{_n(plot.x)}" y="{_n(plot.y)}" width="{_n(plot.w)}" height="{_n(plot.h)}" '
           f'fill="none" stroke="{AXIS_COLOUR}" stroke-width="1"/>']
    for v in range(1, 6):
        x = plot.x + pad + (v - 1) / 4 * (plot.w - 2 * pad)
        y = plot.y2 - pad - (v - 1) / 4 * (plot.h - 2 * pad)
        mid = v == 3
        stroke = AXIS_COLOUR if mid else "#E3E3E3"
        dash = ' stroke-dasharray="6 4"' if mid else ""
        out.append(f'<line x1="{_n(x)}" y1="{_n(plot.y)}" x2="{_n(x)}" y2="{_n(plot.y2)}" '
                   f'stroke="{stroke}" stroke-width="1"{dash}/>')
        out.append(f'<line x1="{_n(plot.x)}" y1="{_n(y)}" x2="{_n(plot.x2)}" y2="{_n(y)}" '
                   f'stroke="{stroke}" stroke-width="1"{dash}/>')
        out.append(_text(x, plot.y2 + 16, str(v), size=11, fill=MUTED_TEXT_COLOUR,
                         anchor="middle", cls="tick"))
        out.append(_text(plot.x - 8, y + 4, str(v), size=11, fill=MUTED_TEXT_COLOUR,
                         anchor="end", cls="tick"))
    out.append(_text(plot.x + plot.w / 2, plot.y2 + 36, x_title, size=12, anchor="middle",
                     bold=True, cls="axis-title"))
    ty = plot.y + plot.h / 2
    out.append(_text(22, ty, y_title, size=12, anchor="middle", bold=True, cls="axis-title",
                     transform=f"rotate(-90 22 {_n(ty)})"))
    out.append("</g>")
    return out


def _render_labels(lay: ScatterLayout) -> list[str]:
    out = ['<g class="labels">']
    for lab in lay.labels:
        if lab.leader:
            x1, y1, x2, y2 = lab.leader
            out.append(f'<line x1="{_n(x1)}" y1="{_n(y1)}" x2="{_n(x2)}" y2="{_n(y2)}" '
                       f'stroke="{AXIS_COLOUR}" stroke-width="1" class="leader"/>')
    for lab in lay.labels:
        b = lab.box
        out.append(f'<rect x="{_n(b.x)}" y="{_n(b.y)}" width="{_n(b.w)}" height="{_n(b.h)}" '
                   f'fill="{WHITE}" fill-opacity="0.85" rx="2" class="label-bg"/>')
        lines = [_Line(t, _LABEL_FONT, cls="point-label") for t in lab.lines]
        out.extend(_render_block(lines, b.x + _LABEL_PAD, b.y + 1))
    out.append("</g>")
    return out


def _corner_captions(plot: Box, captions: Mapping[str, str]) -> list[tuple[Box, str, str]]:
    """Boxes for quadrant captions: keys 'tl', 'tr', 'bl', 'br'."""
    size = 13.0
    h = round(size * 1.3, 1)
    res = []
    for pos, txt in captions.items():
        w = text_width(txt, size, bold=True)
        x = plot.x + 8 if pos[1] == "l" else plot.x2 - 8 - w
        y = plot.y + 6 if pos[0] == "t" else plot.y2 - 6 - h
        res.append((Box(x, y, w, h), txt, pos))
    return res


def _render_captions(caps: Sequence[tuple[Box, str, str]]) -> list[str]:
    out = ['<g class="quadrants">']
    for b, txt, _ in caps:
        out.extend(_render_block([_Line(txt, 13, bold=True, fill=MUTED_TEXT_COLOUR,
                                        cls="quadrant-label")], b.x, b.y))
    out.append("</g>")
    return out


def _note_lines(prefix: str, labels: Sequence[str], min_responses: int | None) -> list[_Line]:
    if not labels:
        return []
    txt = f"{prefix} : " + ", ".join(f"« {l} »" for l in labels) + f" — {_masked_text(min_responses)}."
    return [_Line(t, 11, italic=True, fill=MUTED_TEXT_COLOUR, cls="masked-note")
            for t in _wrap(txt, 11, W - 2 * M, max_lines=6)]


# --------------------------------------------------------------------------
# 2. Stakeholder map (Mendelow)
# --------------------------------------------------------------------------

_MAP_PLOT = Box(66, 10, 560, 470)
_MAP_RMIN, _MAP_RMAX = 6.0, 28.0
_MAP_PAD = _MAP_RMAX + 6
MENDELOW = {"tl": "Satisfaire", "tr": "Gérer de près", "bl": "Surveiller", "br": "Informer"}


def _quadrant(influence: float, importance: float) -> str:
    hi_inf, hi_imp = influence >= 3, importance >= 3
    return MENDELOW[("t" if hi_inf else "b") + ("r" if hi_imp else "l")]


def _map_radius(size: int, max_size: int) -> float:
    if max_size <= 0 or size <= 0:
        return _MAP_RMIN
    return max(_MAP_RMIN, _MAP_RMAX * math.sqrt(size / max_size))


def _map_label(g: MapGroup, show_size: bool) -> tuple[str, ...]:
    txt = _clean(g.label)
    if show_size:
        txt = f"{txt} ({format_fr(g.size, 0)})"
    return tuple(_wrap(txt, _LABEL_FONT, 130))


def _map_parts(groups: Sequence[MapGroup], show_size: bool):
    visible = [g for g in groups if _num(g.influence) is not None and _num(g.importance) is not None]
    masked = [g for g in groups if g not in visible]
    max_size = max((max(0, int(g.size or 0)) for g in visible), default=0)
    items = [_ScatterItem(g.key, _map_label(g, show_size), float(g.importance), float(g.influence),
                          _map_radius(int(g.size or 0), max_size)) for g in visible]
    return visible, masked, items, max_size


def layout_stakeholder_map(groups: Sequence[MapGroup | Mapping[str, Any]], *,
                           show_size: bool = True, min_responses: int | None = None) -> ScatterLayout:
    """Geometry of the stakeholder map: circles (after de-duplication offset)
    and non-overlapping label boxes, all inside the plot area."""
    groups_ = _coerce(groups, MapGroup)
    visible, masked, items, _ = _map_parts(groups_, show_size)
    caps = _corner_captions(_MAP_PLOT, MENDELOW)
    notes = _note_lines("Non positionnés", [_clean(g.label) for g in masked], min_responses)
    height = _MAP_PLOT.y2 + 48 + 2 * _MAP_RMAX + 12 + _block_dims(notes)[1] + M
    return _scatter_layout(items, _MAP_PLOT, _MAP_PAD, [b for b, _, _ in caps], height,
                           [g.key for g in masked])


def stakeholder_map(
    groups: Sequence[MapGroup | Mapping[str, Any]],
    *,
    title: str,
    desc: str | None = None,
    show_size: bool = True,
    min_responses: int | None = None,
    summary: bool = True,
    id_prefix: str | None = None,
) -> str:
    """Mendelow power/interest grid: x = importance / intérêt, y = influence.

    Circle area is proportional to ``size`` (number of contacts, min radius);
    the count is appended to the label unless ``show_size=False``. Groups with
    a ``None`` coordinate are not positioned and are listed as masked.
    """
    groups_ = _coerce(groups, MapGroup)
    visible, masked, items, max_size = _map_parts(groups_, show_size)
    lay = layout_stakeholder_map(groups_, show_size=show_size, min_responses=min_responses)
    caps = _corner_captions(_MAP_PLOT, MENDELOW)
    body = _render_scatter_frame(lay, _MAP_PAD, "Importance / intérêt →", "Influence →")
    body.extend(_render_captions(caps))
    body.append('<g class="groups">')
    # biggest circles first so that small ones stay visible on top
    order = sorted(range(len(visible)), key=lambda i: (-lay.points[i].r, i))
    for g, p in ((visible[i], lay.points[i]) for i in order):
        tip = (f"{_clean(g.label)} : influence {format_fr(float(g.influence))}, importance "
               f"{format_fr(float(g.importance))}, {format_fr(int(g.size or 0), 0)} contact(s) — "
               f"{_quadrant(float(g.influence), float(g.importance))}")
        body.append(f'<g class="group">{_title_el(tip)}'
                    f'<circle cx="{_n(p.cx)}" cy="{_n(p.cy)}" r="{_n(p.r)}" fill="{MAP_COLOUR}" '
                    f'fill-opacity="0.22" stroke="{MAP_COLOUR}" stroke-width="1.5"/>'
                    f'<circle cx="{_n(p.cx)}" cy="{_n(p.cy)}" r="2.5" fill="{TEXT_COLOUR}"/></g>')
    body.append("</g>")
    body.extend(_render_labels(lay))

    # size legend
    y0 = _MAP_PLOT.y2 + 48
    body.append('<g class="legend">')
    if visible:
        cap = "Surface des cercles : nombre de contacts"
        cap += " (entre parenthèses)" if show_size else ""
        body.append(_text(M, y0 + _MAP_RMAX + 4, cap, size=11, fill=MUTED_TEXT_COLOUR))
        x = M + text_width(cap, 11) + 16
        samples = sorted({max_size, max(1, round(max_size / 4))} - {0}, reverse=True)
        for sval in samples:
            r = _map_radius(sval, max_size)
            body.append(f'<circle cx="{_n(x + r)}" cy="{_n(y0 + _MAP_RMAX)}" r="{_n(r)}" '
                        f'fill="{MAP_COLOUR}" fill-opacity="0.22" stroke="{MAP_COLOUR}" stroke-width="1.5"/>')
            body.append(_text(x + 2 * r + 6, y0 + _MAP_RMAX + 4, format_fr(sval, 0), size=11,
                              fill=MUTED_TEXT_COLOUR))
            x += 2 * r + 6 + text_width(format_fr(sval, 0), 11) + 16
    notes = _note_lines("Non positionnés", [_clean(g.label) for g in masked], min_responses)
    body.extend(_render_block(notes, M, y0 + 2 * _MAP_RMAX + 12))
    body.append("</g>")
    if not groups_:
        body.append(_text(_MAP_PLOT.x + _MAP_PLOT.w / 2, _MAP_PLOT.y + _MAP_PLOT.h / 2,
                          "Aucune donnée", size=13, anchor="middle", fill=MUTED_TEXT_COLOUR))

    parts = []
    for g in visible:
        parts.append(f"{_clean(g.label)} : influence {format_fr(float(g.influence))}, importance "
                     f"{format_fr(float(g.importance))}, {format_fr(int(g.size or 0), 0)} contact(s), "
                     f"quadrant « {_quadrant(float(g.influence), float(g.importance))} »")
    for g in masked:
        parts.append(f"{_clean(g.label)} : {_masked_text(min_responses)}")
    summary_txt = ("Axe horizontal : importance / intérêt (1 à 5) ; axe vertical : influence "
                   "(1 à 5). " + " ; ".join(parts) + ("." if parts else ""))
    uid = _uid("map", id_prefix, (title, groups_))
    return _document("stakeholder-map", uid, lay.view_box.h, title,
                     _full_desc(desc, summary_txt, summary), body)


# --------------------------------------------------------------------------
# 3. Gap bars
# --------------------------------------------------------------------------

_GAP_LABEL_W = 212.0
_GAP_X0, _GAP_X1 = 262.0, 582.0
_GAP_RANGE = 4.0


def gap_bars(
    items: Sequence[GapItem | Mapping[str, Any]],
    *,
    title: str,
    desc: str | None = None,
    min_responses: int | None = None,
    summary: bool = True,
    id_prefix: str | None = None,
) -> str:
    """Diverging bars of the gap ``stakeholder_value - self_value`` (−4..+4).

    Left (negative, hatched vermillion): « point aveugle », stakeholders rate
    the practice lower than the self-assessment. Right (solid blue): « force
    cachée » (same words as ``analytics.compare.CATEGORY_LABELS``). The signed value is written at the bar end. Items are grouped by
    ``category`` (order of first appearance). If either value is ``None`` the
    item is masked and none of its values is written.
    """
    items_ = _coerce(items, GapItem)
    uid = _uid("gap", id_prefix, (title, items_))
    unit = (_GAP_X1 - _GAP_X0) / (2 * _GAP_RANGE)
    zero = (_GAP_X0 + _GAP_X1) / 2
    hatch_id = f"{uid}-hatch"
    defs = [f'<pattern id="{hatch_id}" width="6" height="6" patternUnits="userSpaceOnUse" '
            f'patternTransform="rotate(45)"><rect width="6" height="6" fill="{GAP_NEG_COLOUR}"/>'
            f'<line x1="0" y1="0" x2="0" y2="6" stroke="{WHITE}" stroke-width="2.2"/></pattern>']

    def neg_rect(x: float, y: float, w: float, h: float, extra: str = "") -> str:
        return (f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(w)}" height="{_n(h)}" '
                f'fill="{GAP_NEG_COLOUR}"{extra}/>'
                f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(w)}" height="{_n(h)}" '
                f'fill="url(#{hatch_id})"/>')

    def pos_rect(x: float, y: float, w: float, h: float, extra: str = "") -> str:
        return (f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(w)}" height="{_n(h)}" '
                f'fill="{GAP_POS_COLOUR}"{extra}/>')

    body: list[str] = []
    # legend
    leg_items = []
    for txt, rect in (("Point aveugle : les parties prenantes perçoivent moins que vous", neg_rect),
                      ("Force cachée : les parties prenantes perçoivent plus que vous", pos_rect)):
        def render(x: float, y: float, txt=txt, rect=rect) -> list[str]:
            return [rect(x, y + 3, 22, 12), _text(x + 28, y + 13, txt, size=11, cls="legend-label")]
        leg_items.append((28 + text_width(txt, 11), render))
    leg, y = _flow_legend(leg_items, M)
    body.append('<g class="legend">')
    body.extend(leg)
    body.append(_text(M, y + 12, "Écart = moyenne des parties prenantes − auto-diagnostic "
                      "(de −4 à +4)", size=11, fill=MUTED_TEXT_COLOUR))
    body.append("</g>")
    y += 24
    tick_y = y + 12
    y += 20
    rows_top = y

    # rows
    cats: list[str] = []
    by_cat: dict[str, list[GapItem]] = {}
    for it in items_:
        c = _clean(it.category or "")
        if c not in by_cat:
            cats.append(c)
            by_cat[c] = []
        by_cat[c].append(it)
    show_headers = any(cats)
    rows_svg: list[str] = []
    parts: list[str] = []
    masked_txt = _masked_text(min_responses)
    for c in cats:
        if show_headers and c:
            rows_svg.append(_text(M, y + 17, _ellipsize(c, 12, W - 2 * M, bold=True), size=12,
                                  bold=True, cls="category"))
            y += 24
        for it in by_cat[c]:
            label = _clean(it.label)
            lines = [_Line(t, 12, cls="row-label") for t in _wrap(label, 12, _GAP_LABEL_W)]
            _, bh = _block_dims(lines)
            row_h = max(28.0, bh + 8)
            mid = y + row_h / 2
            sv, ov = _num(it.self_value), _num(it.stakeholder_value)
            g = ['<g class="gap-row">']
            g.extend(_render_block(lines, M, mid - bh / 2))
            if sv is None or ov is None:
                g.insert(1, _title_el(f"{label} : {masked_txt}"))
                tw = text_width(masked_txt, 11)
                g.append(f'<rect x="{_n(zero - tw / 2 - 6)}" y="{_n(mid - 9)}" width="{_n(tw + 12)}" '
                         f'height="18" fill="{WHITE}" stroke="{GRID_COLOUR}" stroke-dasharray="3 2"/>')
                g.append(_text(zero, mid + 4, masked_txt, size=11, italic=True,
                               fill=MUTED_TEXT_COLOUR, anchor="middle", cls="masked"))
                parts.append(f"{label} : {masked_txt}")
            else:
                gap = ov - sv
                gtxt = format_fr(gap, 1, signed=True)
                g.insert(1, _title_el(f"{label} : écart {gtxt} (parties prenantes "
                                      f"{format_fr(ov)}, auto-diagnostic {format_fr(sv)})"))
                parts.append(f"{label} : écart {gtxt} (parties prenantes {format_fr(ov)}, "
                             f"auto-diagnostic {format_fr(sv)})")
                length = min(abs(gap), _GAP_RANGE) * unit
                if format_fr(gap, 1) == "0,0":
                    g.append(f'<polygon points="{_pts([(zero, mid - 6), (zero + 6, mid), (zero, mid + 6), (zero - 6, mid)])}" '
                             f'fill="{TEXT_COLOUR}" class="bar zero"/>')
                    g.append(_text(zero + 10, mid + 4, gtxt, size=12, cls="value"))
                elif gap < 0:
                    g.append(neg_rect(zero - length, mid - 7, length, 14, ' class="bar neg"'))
                    g.append(_text(zero - length - 5, mid + 4, gtxt, size=12, anchor="end",
                                   cls="value"))
                else:
                    g.append(pos_rect(zero, mid - 7, length, 14, ' class="bar pos"'))
                    g.append(_text(zero + length + 5, mid + 4, gtxt, size=12, cls="value"))
            g.append("</g>")
            rows_svg.append("".join(g))
            y += row_h
    rows_bottom = y
    if not items_:
        rows_svg.append(_text(zero, y + 18, "Aucune donnée", size=13, anchor="middle",
                              fill=MUTED_TEXT_COLOUR))
        y += 28
        rows_bottom = y

    # axis: grid lines + ticks (drawn under the rows)
    axis = ['<g class="axis">']
    for t in range(-int(_GAP_RANGE), int(_GAP_RANGE) + 1):
        x = zero + t * unit
        colour, width = (AXIS_COLOUR, 1.5) if t == 0 else ("#E3E3E3", 1)
        axis.append(f'<line x1="{_n(x)}" y1="{_n(rows_top - 4)}" x2="{_n(x)}" y2="{_n(rows_bottom)}" '
                    f'stroke="{colour}" stroke-width="{width}"/>')
        axis.append(_text(x, tick_y, format_fr(t, 0, signed=True), size=11,
                          fill=MUTED_TEXT_COLOUR, anchor="middle", cls="tick"))
    axis.append("</g>")
    body.extend(axis)
    body.append('<g class="rows">')
    body.extend(rows_svg)
    body.append("</g>")
    height = y + M
    summary_txt = ("Écart entre la moyenne des parties prenantes et l'auto-diagnostic, par pratique"
                   " (négatif : point aveugle). " + " ; ".join(parts) + ("." if parts else ""))
    return _document("gap-bars", uid, height, title, _full_desc(desc, summary_txt, summary),
                     body, defs)


# --------------------------------------------------------------------------
# 4. Materiality matrix
# --------------------------------------------------------------------------

_MAT_PLOT = Box(66, 10, 560, 470)
_MAT_R = 13.0
_MAT_PAD = _MAT_R + 8
_MAT_CAPTIONS = {"tr": "Enjeux prioritaires"}


def _level_index(level: float) -> int:
    q = int(Decimal(repr(float(level))).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return int(_clamp(q, 1, 5)) - 1


def _mat_parts(points: Sequence[MaterialityPoint]):
    visible = [p for p in points
               if _num(p.importance_org) is not None and _num(p.importance_stakeholders) is not None]
    masked = [p for p in points if p not in visible]
    items = [_ScatterItem(p.key, tuple(_wrap(_clean(p.label), _LABEL_FONT, 130)),
                          float(p.importance_org), float(p.importance_stakeholders), _MAT_R)
             for p in visible]
    return visible, masked, items


def layout_materiality_matrix(points: Sequence[MaterialityPoint | Mapping[str, Any]], *,
                              min_responses: int | None = None) -> ScatterLayout:
    pts = _coerce(points, MaterialityPoint)
    visible, masked, items = _mat_parts(pts)
    caps = _corner_captions(_MAT_PLOT, _MAT_CAPTIONS)
    notes = _note_lines("Non positionnés", [_clean(p.label) for p in masked], min_responses)
    height = _MAT_PLOT.y2 + 48 + 34 + _block_dims(notes)[1] + M
    return _scatter_layout(items, _MAT_PLOT, _MAT_PAD, [b for b, _, _ in caps], height,
                           [p.key for p in masked], min_sep=2 * _MAT_R + 2)


def materiality_matrix(
    points: Sequence[MaterialityPoint | Mapping[str, Any]],
    *,
    title: str,
    desc: str | None = None,
    min_responses: int | None = None,
    summary: bool = True,
    id_prefix: str | None = None,
) -> str:
    """Materiality matrix: x = importance for the organisation, y = importance
    for stakeholders (1–5); marker colour = perceived level (5-step viridis)
    with the level written inside. A ``None`` stakeholder importance removes
    the point (listed as masked, without any of its numbers); a ``None``
    perceived level gives a white dashed marker without number."""
    pts = _coerce(points, MaterialityPoint)
    visible, masked, _ = _mat_parts(pts)
    lay = layout_materiality_matrix(pts, min_responses=min_responses)
    caps = _corner_captions(_MAT_PLOT, _MAT_CAPTIONS)
    masked_txt = _masked_text(min_responses)
    body = _render_scatter_frame(lay, _MAT_PAD, "Importance pour l'organisation →",
                                 "Importance pour les parties prenantes →")
    body.extend(_render_captions(caps))
    body.append('<g class="points">')
    parts = []
    for p, pp in zip(visible, lay.points):
        label = _clean(p.label)
        lvl = _num(p.perceived_level)
        coords = (f"importance pour l'organisation {format_fr(float(p.importance_org))}, "
                  f"pour les parties prenantes {format_fr(float(p.importance_stakeholders))}")
        if lvl is None:
            tip = f"{label} : {coords}, niveau perçu {masked_txt}"
            body.append(f'<g class="point">{_title_el(tip)}<circle cx="{_n(pp.cx)}" cy="{_n(pp.cy)}" '
                        f'r="{_n(_MAT_R)}" fill="{WHITE}" stroke="{AXIS_COLOUR}" stroke-width="1.5" '
                        f'stroke-dasharray="3 2"/></g>')
        else:
            fill = SEQUENTIAL_5[_level_index(lvl)]
            tip = f"{label} : {coords}, niveau perçu {format_fr(lvl)}"
            body.append(f'<g class="point">{_title_el(tip)}<circle cx="{_n(pp.cx)}" cy="{_n(pp.cy)}" '
                        f'r="{_n(_MAT_R)}" fill="{fill}" stroke="{TEXT_COLOUR}" stroke-width="1"/>'
                        + _text(pp.cx, pp.cy + 4, format_fr(lvl), size=11, bold=True,
                                fill=_text_on(fill), anchor="middle", cls="level on-fill")
                        + "</g>")
        parts.append(tip)
    body.append("</g>")
    body.extend(_render_labels(lay))
    for p in masked:
        parts.append(f"{_clean(p.label)} : {masked_txt}")

    # legend
    y0 = _MAT_PLOT.y2 + 48
    body.append('<g class="legend">')
    cap = "Niveau perçu (1 = faible, 5 = élevé) :"
    body.append(_text(M, y0 + 15, cap, size=11, fill=MUTED_TEXT_COLOUR))
    x = M + text_width(cap, 11) + 12
    for i, colour in enumerate(SEQUENTIAL_5):
        cx = x + 11
        body.append(f'<circle cx="{_n(cx)}" cy="{_n(y0 + 11)}" r="10" fill="{colour}" '
                    f'stroke="{TEXT_COLOUR}" stroke-width="1"/>')
        body.append(_text(cx, y0 + 15, str(i + 1), size=11, bold=True, fill=_text_on(colour),
                          anchor="middle", cls="on-fill"))
        x += 26
    x += 10
    body.append(f'<circle cx="{_n(x + 11)}" cy="{_n(y0 + 11)}" r="10" fill="{WHITE}" '
                f'stroke="{AXIS_COLOUR}" stroke-width="1.5" stroke-dasharray="3 2"/>')
    body.append(_text(x + 27, y0 + 15, "niveau masqué", size=11, fill=MUTED_TEXT_COLOUR))
    notes = _note_lines("Non positionnés", [_clean(p.label) for p in masked], min_responses)
    body.extend(_render_block(notes, M, y0 + 34))
    body.append("</g>")
    if not pts:
        body.append(_text(_MAT_PLOT.x + _MAT_PLOT.w / 2, _MAT_PLOT.y + _MAT_PLOT.h / 2,
                          "Aucune donnée", size=13, anchor="middle", fill=MUTED_TEXT_COLOUR))
    summary_txt = ("Axe horizontal : importance pour l'organisation (1 à 5) ; axe vertical : "
                   "importance pour les parties prenantes (1 à 5). " + " ; ".join(parts)
                   + ("." if parts else ""))
    uid = _uid("materiality", id_prefix, (title, pts))
    return _document("materiality", uid, lay.view_box.h, title,
                     _full_desc(desc, summary_txt, summary), body)


# --------------------------------------------------------------------------
# 5. Distribution bars
# --------------------------------------------------------------------------

_DIST_LABEL_W = 200.0
_DIST_X0 = 220.0
_DIST_W = 300.0
LEVELS = (1, 2, 3, 4, 5)


def _largest_remainder(counts: Sequence[int]) -> list[int]:
    total = sum(counts)
    if total <= 0:
        return [0] * len(counts)
    raw = [c * 100 / total for c in counts]
    floors = [math.floor(r) for r in raw]
    rest = 100 - sum(floors)
    order = sorted(range(len(counts)), key=lambda i: (-(raw[i] - floors[i]), i))
    for i in order[:rest]:
        floors[i] += 1
    return floors


def distribution_bars(
    rows: Sequence[DistributionRow | Mapping[str, Any]],
    *,
    title: str,
    desc: str | None = None,
    level_labels: Mapping[int, str] | None = None,
    min_responses: int | None = None,
    summary: bool = True,
    id_prefix: str | None = None,
) -> str:
    """100 % stacked bars of answers per level 1..5 (diverging palette, level
    order left to right, percentages written in segments >= 8 %).

    « Ne sait pas » answers are excluded from the percentages and written after
    the bar with the number of answers. ``counts=None`` masks the whole row
    (its ``dont_know`` is not written either).
    """
    rows_ = _coerce(rows, DistributionRow)
    labels = {lv: f"Niveau {lv}" for lv in LEVELS}
    if level_labels:
        labels.update({int(k): _clean(v) for k, v in level_labels.items()})
    masked_txt = _masked_text(min_responses)
    body: list[str] = []

    leg_items = []
    for lv, colour in zip(LEVELS, DIVERGING_5):
        txt = _ellipsize(labels[lv], 11, 200)

        def render(x: float, y: float, colour=colour, txt=txt) -> list[str]:
            return [f'<rect x="{_n(x)}" y="{_n(y + 3)}" width="14" height="14" fill="{colour}" '
                    f'stroke="{AXIS_COLOUR}" stroke-width="0.5"/>',
                    _text(x + 19, y + 14, txt, size=11, cls="legend-label")]

        leg_items.append((19 + text_width(txt, 11), render))
    leg, y = _flow_legend(leg_items, M, gap=14)
    body.append('<g class="legend">')
    body.extend(leg)
    body.append(_text(M, y + 10, "Pourcentages hors « ne sait pas » (NSP) ; n = nombre de "
                      "réponses de 1 à 5.", size=11, fill=MUTED_TEXT_COLOUR))
    body.append("</g>")
    y += 24

    parts = []
    body.append('<g class="rows">')
    for row in rows_:
        label = _clean(row.label)
        lines = [_Line(t, 12, cls="row-label") for t in _wrap(label, 12, _DIST_LABEL_W)]
        _, bh = _block_dims(lines)
        row_h = max(34.0, bh + 8)
        mid = y + row_h / 2
        g = ['<g class="dist-row">']
        g.extend(_render_block(lines, M, mid - bh / 2))
        counts = row.counts
        if counts is not None:
            bad = [k for k in counts if int(k) not in LEVELS]
            if bad:
                raise ValueError(f"levels must be 1..5, got {bad!r}")
        if counts is None:
            g.insert(1, _title_el(f"{label} : {masked_txt}"))
            g.append(f'<rect x="{_n(_DIST_X0)}" y="{_n(mid - 10)}" width="{_n(_DIST_W)}" height="20" '
                     f'fill="{WHITE}" stroke="{AXIS_COLOUR}" stroke-width="1" stroke-dasharray="4 3"/>')
            g.append(_text(_DIST_X0 + _DIST_W / 2, mid + 4, masked_txt, size=11, italic=True,
                           fill=MUTED_TEXT_COLOUR, anchor="middle", cls="masked"))
            parts.append(f"{label} : {masked_txt}")
        else:
            vals = [max(0, int(counts.get(lv, counts.get(str(lv), 0)) or 0))  # type: ignore[call-overload]
                    for lv in LEVELS]
            total = sum(vals)
            pcts = _largest_remainder(vals)
            dk = row.dont_know
            desc_parts = [f"{labels[lv]} {format_pct(p)} ({c})" for lv, p, c in zip(LEVELS, pcts, vals)]
            extra = f" ; NSP {dk}" if dk is not None else ""
            tip = f"{label} : " + " ; ".join(desc_parts) + extra + f" ; n = {total}"
            g.insert(1, _title_el(tip))
            parts.append(tip)
            if total == 0:
                g.append(_text(_DIST_X0 + _DIST_W / 2, mid + 4, "aucune réponse", size=11,
                               italic=True, fill=MUTED_TEXT_COLOUR, anchor="middle"))
            else:
                x = _DIST_X0
                for lv, c, p, colour in zip(LEVELS, vals, pcts, DIVERGING_5):
                    if c == 0:
                        continue
                    w = _DIST_W * c / total
                    g.append(f'<rect x="{_n(x)}" y="{_n(mid - 10)}" width="{_n(w)}" height="20" '
                             f'fill="{colour}" stroke="{WHITE}" stroke-width="1" class="seg l{lv}"/>')
                    if c * 100 / total >= 8:
                        g.append(_text(x + w / 2, mid + 4, format_pct(p), size=11,
                                       fill=_text_on(colour), anchor="middle", cls="pct on-fill"))
                    x += w
            tx = _DIST_X0 + _DIST_W + 10
            if dk is not None:
                g.append(_text(tx, mid - 2, f"n = {format_fr(total, 0)}", size=11,
                               fill=MUTED_TEXT_COLOUR, cls="n"))
                g.append(_text(tx, mid + 12, f"NSP : {format_fr(int(dk), 0)}", size=11,
                               fill=MUTED_TEXT_COLOUR, cls="nsp"))
            else:
                g.append(_text(tx, mid + 4, f"n = {format_fr(total, 0)}", size=11,
                               fill=MUTED_TEXT_COLOUR, cls="n"))
        g.append("</g>")
        body.append("".join(g))
        y += row_h
    if not rows_:
        body.append(_text(W / 2, y + 18, "Aucune donnée", size=13, anchor="middle",
                          fill=MUTED_TEXT_COLOUR))
        y += 28
    body.append("</g>")
    height = y + M
    summary_txt = "Répartition des réponses par niveau. " + " ; ".join(parts) + ("." if parts else "")
    uid = _uid("distribution", id_prefix, (title, rows_, labels))
    return _document("distribution", uid, height, title, _full_desc(desc, summary_txt, summary), body)
