"""One place for colours and layout, so every chart reads the same in a lecture hall."""

from __future__ import annotations

import math
import re

import numpy as np
import plotly.colors as pc
import plotly.graph_objects as go
import plotly.io as pio

TEMPLATE = "plotly_white"  # Plotly's default for every figure, once use_template() is called


def use_template() -> None:
    """Make TEMPLATE Plotly's default template; idempotent, called once at the app's start (never at import).

    Set once for the process: assigning template= per figure re-validates the whole template (30-50 ms
    a figure). Importing viz changes no global state; a figure built before this call has Plotly's own.
    Assigning the default validates (deep-copies) the template too, ~40 ms: the page calls this on every
    rerun, so it assigns only when the default is not TEMPLATE yet.
    """
    if pio.templates.default != TEMPLATE:
        pio.templates.default = TEMPLATE


FONT = dict(family="Inter, Segoe UI, Helvetica, Arial, sans-serif", size=14, color="#1f2933")
GRID = "#e4e7eb"
COLORS = {
    "grad_h": "#2563eb",  # blue: dL/dh_t
    "grad_c": "#d97706",  # amber: dL/dc_t (LSTM cell state)
    "bound": "#6b7280",  # grey: theory bound
    "last": "#7c3aed",  # violet: the last step's loss alone
    "contrib": "#0d9488",  # teal: per-step contribution to dL/dW_hh
    "loss": "#dc2626",  # red
    "before": "#9ca3af",  # grey: norm before clipping
    "after": "#2563eb",  # blue: norm after clipping
    "clip": "#dc2626",  # red markers: clipping events
    "overflow": "#b91c1c",
    "truncation": "#db2777",
    "compare": "#111827",  # near black, dashed: the configuration compared with
    "compare_c": "#92400e",  # dark amber, dotted: the compared configuration's cell state
    "state": "#4b5563",  # dark grey, dash-dot: the forward state's norm, drawn where no gradient is finite
}
GATE_COLORS = {
    "i": "#16a34a",
    "f": "#2563eb",
    "g": "#d97706",
    "o": "#7c3aed",
    "r": "#16a34a",
    "z": "#2563eb",
    "n": "#d97706",
    "h": "#2563eb",
}
GATE_NAMES = {
    "i": "input gate i",
    "f": "forget gate f",
    "g": "candidate g",
    "o": "output gate o",
    "r": "reset gate r",
    "z": "update gate z",
    "n": "candidate n",
    "h": "hidden state h",
}
EXTRA_COLORS = ("#0d9488", "#db2777", "#65a30d", "#9333ea")  # gates of cells the tables above do not know


def gate_label(name: str) -> str:
    """Readable name of a gate the trace recorded; a cell this module does not know still gets a label."""
    return GATE_NAMES.get(name, f"gate {name}")


def gate_color(name: str, index: int = 0) -> str:
    """Colour of a gate; unknown gates cycle through EXTRA_COLORS by their position in the trace."""
    return GATE_COLORS.get(name, EXTRA_COLORS[index % len(EXTRA_COLORS)])


# Sequential scale for log10 gradient magnitudes; diverging scale for signed activations.
SEQUENTIAL = "Viridis"
DIVERGING = "RdBu_r"
LABEL_PX = 25  # vertical room one tick label needs on a y axis


def base_layout(fig: go.Figure, title: str, x_title: str | None = None, y_title: str | None = None, height: int = 420) -> go.Figure:
    """Apply the house layout: white background, light grid, readable fonts, hover on x."""
    fig.update_layout(
        title=dict(text=f"<b>{title}</b>", x=0.01, xanchor="left"),
        font=FONT,
        height=height,
        margin=dict(l=70, r=30, t=70, b=60),
        legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1.0),
        hoverlabel=dict(font_size=14),
    )
    if x_title is not None:
        fig.update_xaxes(title_text=x_title, gridcolor=GRID)
    if y_title is not None:
        fig.update_yaxes(title_text=y_title, gridcolor=GRID)
    return fig


NARROW_PX = 600  # a chart drawn narrower than this (a phone) takes its figure's phone layout (ui/page/plotly_fit.js)


def phone_layout(fig: go.Figure, patch: dict) -> go.Figure:
    """Give a figure its own layout for a phone-sized chart: {"layout.xaxis.range": [a, b], "layout.height": 700, ...}.

    The server builds one figure for every screen; the page's chart applies this patch when it
    is drawn narrower than NARROW_PX (ui/page/plotly_fit.js), where it also wraps text and lays
    colour bars flat. Paths are dotted, list items as [i]; the patch travels in layout.meta.
    """
    meta = fig.layout.meta if isinstance(fig.layout.meta, dict) else {}
    return fig.update_layout(meta={**meta, "narrow": dict(patch)})


def log_axis(span: tuple[float, float] | None, plot_px: float) -> dict:
    """A log y axis over span = log10 (lo, hi) that labels whole decades only, as many as fit without overlap.

    Plotly's own choice labels the digits 2..9 of a decade (a bare "5" just below 1 reads as 5, not 0.5).
    """
    axis = dict(type="log", exponentformat="power", minor=dict(showgrid=False))
    if span is None:
        return axis
    lo, hi = span
    fit = max(plot_px / LABEL_PX, 1.0)
    step = max(1, math.ceil((hi - lo) / fit))
    return dict(axis, range=[lo, hi], dtick=step, tick0=0)


# --- Presentation mode: larger type, thicker lines, a colour-blind-safe palette (Okabe & Ito 2008) -------------------
OKABE_ITO = {
    "orange": "#E69F00",
    "sky blue": "#56B4E9",
    "bluish green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish purple": "#CC79A7",
    "black": "#000000",
}
# Each house colour and the Okabe-Ito colour it becomes; greys and neutrals stay (they carry no hue to confuse).
SAFE_COLORS = {
    "#2563eb": OKABE_ITO["blue"],  # grad_h, forget / update gate, norm after clipping
    "#d97706": OKABE_ITO["orange"],  # grad_c, candidates
    "#7c3aed": OKABE_ITO["sky blue"],  # the last step's loss alone, output gate
    "#0d9488": OKABE_ITO["bluish green"],  # contrib
    "#16a34a": OKABE_ITO["bluish green"],  # input / reset gate
    "#dc2626": OKABE_ITO["vermillion"],  # loss, clipping events
    "#b91c1c": OKABE_ITO["vermillion"],  # overflow
    "#db2777": OKABE_ITO["reddish purple"],  # truncation
    "#9333ea": OKABE_ITO["reddish purple"],
    "#65a30d": OKABE_ITO["black"],
}
SAFE_COLORWAY = [OKABE_ITO[k] for k in ("blue", "orange", "bluish green", "vermillion", "sky blue", "reddish purple", "black", "yellow")]
PRESENT_MIN_FONT = 18  # px: the smallest text on a projected chart
FONT_SCALE = 1.4  # every font (14 px notes -> 20 px) ...
PIXEL_SCALE = 1.4  # ... and the pixel geometry around them (height, margins, shifts), so the layout keeps its proportions
LINE_SCALE = 1.75  # line widths
MARKER_SCALE = 1.4
FONT_KEYS = {"font", "tickfont", "textfont", "insidetextfont", "outsidetextfont", "grouptitlefont", "titlefont"}
SHIFT_KEYS = {"xshift", "yshift", "standoff"}
DATA_KEYS = {"x", "y", "z", "customdata", "ids", "hovertemplate", "texttemplate"}
_RGB = {tuple(int(h[i : i + 2], 16) for i in (1, 3, 5)): s for h, s in SAFE_COLORS.items()}
PNG_SIZE = dict(width=1600, height=900, scale=2)  # the camera button's image: a 16:9 slide at twice the pixels


def present(fig, sizes: bool = True, palette: bool = True):
    """The same figure for a projector: fonts >= 18 px, thicker lines, Okabe-Ito colours; a go.Figure or a figure dict.

    Applied to a finished figure (at the draw boundary, after any cache), so every builder
    honours it and a cached figure is never changed: the input is left as it was.
    """
    if isinstance(fig, go.Figure):
        return unvalidated_figure(_restyle(fig.to_plotly_json(), "", sizes, palette))  # the restyle keeps it valid
    return _restyle(fig, "", sizes, palette)


def unvalidated_figure(spec: dict) -> go.Figure:
    """A go.Figure of a figure dict Plotly already validated (or will): built without validating it again.

    Validation costs 5-25 ms a figure; with a Plotly that lacks the private switch, the figure is validated.
    """
    try:
        return go.Figure(spec, _validate=False)
    except TypeError:
        return go.Figure(spec)


_SHAPES_VALIDATED: set = set()  # the shapes of streamed figures Plotly has validated in this process


def streamed_figure(data: list, layout: dict) -> go.Figure:
    """A figure rebuilt many times a second with new numbers (training streams): Plotly validates each shape once.

    Every figure is built without Plotly's validation (~2 ms instead of 7 for the training
    dashboard, on the server's part of every streamed update). The first of each shape (its
    traces' and its layout's attribute names) is also built validated, so a wrong attribute
    still raises; every frame of a stream is thus built, and serialised, the same way.
    """
    data = [_named_scales(t) for t in data]
    shape = (tuple(_shape(t) for t in data), _shape(layout))
    if shape not in _SHAPES_VALIDATED:
        go.Figure(data=data, layout=layout)  # raises on an attribute Plotly does not know
        _SHAPES_VALIDATED.add(shape)
    return unvalidated_figure({"data": data, "layout": layout})


def _named_scales(trace: dict) -> dict:
    """The trace with a named colour scale spelled out, as validation would (plotly.js's own "Viridis" differs)."""
    scale = trace.get("colorscale")
    return dict(trace, colorscale=pc.get_colorscale(scale)) if isinstance(scale, str) else trace


def _shape(node):
    """The attribute names of a figure node, nested (the values left out); lists of dicts by their items' shapes."""
    if isinstance(node, dict):
        return tuple((k, _shape(v)) for k, v in sorted(node.items()) if k not in DATA_KEYS)
    if isinstance(node, (list, tuple)) and node and isinstance(node[0], dict):
        return tuple(_shape(v) for v in node)
    return None


def styled(fig, style: str = "default"):
    """fig as it is ("default") or for a projector ("present")."""
    if style not in ("default", "present"):
        raise ValueError(f"style: must be 'default' or 'present' (got {style!r})")
    return present(fig) if style == "present" else fig


def chart_config(name: str, style: str = "default") -> dict:
    """Plotly's chart config: the camera button saves `name`.png at slide size (1600 x 900, scale 2)."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "chart"
    filename = f"rnn-lab-{slug}" + ("-present" if style == "present" else "")
    return {"displaylogo": False, "toImageButtonOptions": dict(format="png", filename=filename, **PNG_SIZE)}


def _restyle(value, key: str, sizes: bool, palette: bool):
    """A restyled copy of one node of a figure dict; key is the name it sits under. Numeric data is shared, never copied."""
    if isinstance(value, dict):
        out = {k: v if k in DATA_KEYS or k == "template" else _restyle(v, k, sizes, palette) for k, v in value.items()}
        if sizes:
            _resize(out, key)
        if key == "layout":
            out = _layout_sizes(out) if sizes else out
            out = dict(out, colorway=SAFE_COLORWAY) if palette else out
        return out
    if isinstance(value, (list, tuple)):
        if len(value) <= 16 or isinstance(value[0], (dict, list, tuple, str)):  # short lists: colour-scale pairs (0, "#hex")
            return [_restyle(v, key, sizes, palette) for v in value]
        return value
    if palette and isinstance(value, str):
        return _safe_color(value)
    return value


def _resize(node: dict, key: str) -> None:
    """Scale this node's sizes in place (node is already a fresh copy)."""
    if key in FONT_KEYS and node.get("size") is not None:
        node["size"] = _font_size(node["size"])
    if key == "line" and _number(node.get("width")):
        node["width"] = node["width"] * LINE_SCALE
    if key == "marker" and "size" in node:
        node["size"] = _scaled(node["size"], MARKER_SCALE)
    if _number(node.get("arrowwidth")):
        node["arrowwidth"] = node["arrowwidth"] * LINE_SCALE
    for k in SHIFT_KEYS & node.keys():
        if _number(node[k]):
            node[k] = node[k] * PIXEL_SCALE


def _layout_sizes(layout: dict) -> dict:
    """Whole-figure pixel geometry and the base font (the size every unsized text inherits)."""
    out = dict(layout)
    font = dict(out.get("font") or {})
    if font.get("size") is None:  # an explicit size was scaled with the other fonts; plotly.js's default is 12 px
        font["size"] = _font_size(12)
    out["font"] = font
    for k in ("height", "width"):
        if _number(out.get(k)):
            out[k] = round(out[k] * PIXEL_SCALE)
    if isinstance(out.get("margin"), dict):
        out["margin"] = {k: v * PIXEL_SCALE if _number(v) else v for k, v in out["margin"].items()}
    return out


def _font_size(size):
    """A font size (or an array of them) scaled up, never below PRESENT_MIN_FONT."""
    if _number(size):
        return max(round(size * FONT_SCALE), PRESENT_MIN_FONT)
    scaled = _scaled(size, FONT_SCALE)
    return np.maximum(np.round(scaled), PRESENT_MIN_FONT) if isinstance(scaled, np.ndarray) else scaled


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _scaled(v, k: float):
    if _number(v):
        return v * k
    try:
        return np.asarray(v, dtype=np.float64) * k
    except (TypeError, ValueError):
        return v


def _safe_color(text: str) -> str:
    """A house colour (hex or rgba of it) as its Okabe-Ito counterpart; any other string unchanged."""
    low = text.strip().lower()
    if low in SAFE_COLORS:
        return SAFE_COLORS[low]
    if low.startswith("rgba(") and low.endswith(")"):
        parts = [p.strip() for p in low[5:-1].split(",")]
        try:
            rgb = tuple(int(p) for p in parts[:3])
        except ValueError:
            return text
        if rgb in _RGB and len(parts) == 4:
            h = _RGB[rgb]
            return f"rgba({int(h[1:3], 16)},{int(h[3:5], 16)},{int(h[5:7], 16)},{parts[3]})"
    return text
