"""Every chart of the page: Plotly figures drawn by a small component that updates them in place.

`st.plotly_chart` keys each chart by a hash of its figure, so in Streamlit 1.67 every new
figure unmounts the chart and mounts a new one (Plotly.newPlot): while training streamed,
the browser rebuilt the whole chart up to 20 times a second and the page's timers starved.
Here the chart's identity is its key alone (a Streamlit v2 component, no iframe; see
ui.serving.streamlit_private.keyed_component): a new figure reaches the same element, which
Plotly.react restyles in place (ui/page/plotly_chart.js).
Plotly's own script is served once per page from the app's static folder (see
provide_plotly_js: the same plotly.js version that plotly.py writes figures for).
"""

from __future__ import annotations

import base64
import contextlib
import contextvars
import functools
import html
import json
import re
import shutil
from pathlib import Path

import plotly
import plotly.io as pio
import plotly.offline
import streamlit as st

from ui.serving import streamlit_private
from viz import theme

from . import links, slide

DEFAULT_HEIGHT = 450  # plotly.js's own default height
STATIC = Path(__file__).resolve().parents[2] / "static"  # served at ./app/static/ (server.enableStaticServing)
SCRIPT = Path(__file__).with_name("plotly_chart.js")
LOADER = Path(__file__).with_name("plotly_loader.js")
FIT = Path(__file__).with_name("plotly_fit.js")  # wraps text to the drawn width; phone layout; touch scrolls the page


CARTESIAN = "plotly-cartesian.min.js"  # plotly.js's cartesian bundle (scatter, bar, heatmap, contour): 1.5 MB
FULL = "plotly.min.js"  # the full bundle inside the plotly package: 4.8 MB, ~1 s more to evaluate on a page load


def bundle_version(path: Path) -> str | None:
    """The plotly.js version a bundle's header comment names ("* plotly.js (cartesian - minified) v4.1.1"); None if none."""
    try:
        with open(path, "rb") as f:
            head = f.read(400).decode("utf-8", "replace")
    except OSError:
        return None
    found = re.search(r"^\* plotly\.js\b[^\n]*? v(\d+\.\d+\.\d+\S*)\s*$", head, re.MULTILINE)
    return found.group(1) if found else None


def provide_plotly_js(static: Path = STATIC) -> str:
    """The plotly.js the charts load: the cartesian bundle `make` fetched, if it is plotly.py's version; else the full one.

    plotly.py writes figures for one plotly.js version. A cartesian bundle of another version
    (left from an older plotly.py) is not served: the plotly package's full bundle, always
    plotly.py's own version, is.
    """
    if bundle_version(static / CARTESIAN) == plotly.offline.get_plotlyjs_version():
        return CARTESIAN
    source = Path(plotly.__file__).parent / "package_data" / FULL
    target = static / FULL
    if not target.exists() or target.stat().st_size != source.stat().st_size:
        static.mkdir(exist_ok=True)
        shutil.copyfile(source, target)
    return FULL


@functools.cache
def script_name() -> str:
    """The plotly.js file the charts load, provided once per process (the first chart, or the app's start, asks)."""
    return provide_plotly_js()


@functools.cache
def _component():
    """The chart component, registered with Streamlit once per process, when the first chart is drawn."""
    return streamlit_private.keyed_component("rnnlab_plotly", js=LOADER.read_text() + FIT.read_text() + SCRIPT.read_text())


@functools.cache
def preload_markdown() -> str:
    """A hidden same-origin iframe whose script starts the page's plotly.js loader in the page itself."""
    boot = f'{LOADER.read_text()}\nperformance.mark("rnnlab:preload");\nwindow.rnnlabLoadPlotly({json.dumps(script_name())});'
    encoded = base64.b64encode(boot.encode()).decode()  # one line, nothing for Markdown or HTML to reinterpret
    run = f'const s = parent.document.createElement("script"); s.textContent = atob("{encoded}"); parent.document.head.appendChild(s);'
    script = f"<script>{run}</script>"
    return f'<iframe title="plotly.js loader" srcdoc="{html.escape(script)}" style="display:none"></iframe>'


def preload() -> None:
    """The page's first element: start evaluating plotly.js while Streamlit builds the rest of a new tab.

    Streamlit loads the code of most element types (st.html and components included) only when
    one first appears, and React then holds those elements back ~300 ms (its reveal throttle), so a
    component could not start plotly.js before that pause ended. Markdown is drawn at once: a
    hidden iframe inside it (same origin, our own fixed text) runs the loader in the page, and
    plotly.js (~0.2 s to evaluate) is ready by the time the charts mount. Should Markdown ever
    refuse the iframe, each chart still loads plotly.js itself (ui/page/plotly_chart.js).
    """
    st.markdown(preload_markdown(), unsafe_allow_html=True)


SR_ONLY = "position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap"


def text_alternative(words: str) -> None:
    """A sentence a screen reader reads with the chart, and a sighted reader never sees twice."""
    st.markdown(f'<p style="{SR_ONLY}">{html.escape("Chart: " + words)}</p>', unsafe_allow_html=True)


def style() -> str:
    """ "present" in presentation mode (?present=1 or the toggle), else "default"."""
    return "present" if st.session_state.get("present") else "default"


def spec(fig, name: str = "chart", look: str = "default", live: bool = False) -> dict:
    """The component's data: the figure as Plotly JSON (numpy arrays as typed base64), styled, and its chart config.

    A live chart (redrawn ~10 times a second while training streams) is drawn static: no hover,
    zoom or mode bar, which a redraw would reset anyway, and ~10 % less work for the browser per frame.
    """
    config = theme.chart_config(name, look)  # the camera button saves a slide-sized PNG named for the chart
    if live:
        config["staticPlot"] = True
    return {"spec": pio.to_json(fig, validate=False), "config": json.dumps(config), "script": script_name()}


_sent: dict = {}  # key -> (figure, (style, live, cap), data, notes) last sent: a live redraw of an unchanged figure reuses its JSON
_max_height: contextvars.ContextVar[int | None] = contextvars.ContextVar("rnnlab_chart_max_height", default=None)


@contextlib.contextmanager
def height_at_most(px: int):
    """Charts drawn inside are at most px tall, their notes under them (ui.page.slide): a slide's chart stays on a 720 px screen."""
    token = _max_height.set(px)
    try:
        yield
    finally:
        _max_height.reset(token)


def prepare(fig, key: str, look: str, live: bool, cap: int | None) -> tuple[dict, list]:
    """(the component's data: the styled figure as JSON, its config and height; a slide's notes) for one chart."""
    styled = theme.styled(fig, look)
    notes = []
    if cap is not None:
        styled, height, notes = slide.fit(styled if isinstance(styled, dict) else styled.to_plotly_json(), cap)
    else:
        layout = styled.get("layout", {}) if isinstance(styled, dict) else styled.layout.to_plotly_json()
        height = int(layout.get("height") or DEFAULT_HEIGHT)
    data = spec(styled, key.removeprefix("fig_"), look, live)
    data["height"] = height  # reserved until drawn; the drawn figure may grow (wrapped text)
    return data, notes


def chart(fig, key: str, clicks: bool = False, live: bool = False, cached=None, alt: str | None = None):
    """Draw a go.Figure or a figure dict under a fixed identity (house colours, or the projector style).

    alt: the chart's one-sentence text alternative (viz.alt_text), in this run's numbers: written hidden under the
    chart for screen readers and kept as its aria-label (ui/page/plotly_chart.js). Every call passes one
    (tests/test_chart_alt.py scans ui/ for calls that do not).

    With clicks, returns the x of a point the user just clicked (once, on the rerun the click caused), else None.
    live: the chart streams (see spec).
    cached: (cache, key) of a figure kept in a process cache (ui/page/compute.py figure_key). Its prepared data, the
    figure as JSON, is kept there too, so a rerun, another session or a shared link sends it as it is (styling and
    JSON cost ~10 ms a chart a rerun); fig is then a callable that builds the figure only when that data is not kept.
    """
    look, cap = style(), _max_height.get()
    last = _sent.get(key)
    if cached is not None:
        store, fig_key = cached
        data, notes = store.get_or_compute(("chart", fig_key, key, look, live, cap), lambda: prepare(fig(), key, look, live, cap))
    elif last is not None and last[0] is fig and last[1] == (look, live, cap):  # the same figure object again (never mutated)
        data, notes = last[2], last[3]
    else:
        data, notes = prepare(fig, key, look, live, cap)
        _sent[key] = (fig, (look, live, cap), data, notes)
    events = {"on_click_change": lambda: None} if clicks else {}
    if alt:
        data = {**data, "alt": alt}
    result = _component()(key=key, data=data, **events)  # as tall as the chart the browser drew (ui/page/plotly_fit.js fits it)
    if alt:
        text_alternative(alt)
    if notes:  # a slide's chart: its notes, in the same words, under it
        st.caption("\n\n".join(links.escape(note) for note in notes))
    return getattr(result, "click", None) if clicks else None
