"""One place for colours and layout, so every chart reads the same in a lecture hall."""

from __future__ import annotations

import math

import plotly.graph_objects as go
import plotly.io as pio

# Set once: assigning template= per figure re-validates the whole template (30-50 ms a figure).
pio.templates.default = "plotly_white"

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
