// In-place Plotly chart for the page (a Streamlit v2 component, no iframe).
// Called on every render with the figure as JSON: the first call creates the plot, later calls
// restyle the same element with Plotly.react, so the chart never disappears while it updates.
// Plotly itself is loaded once per page from the app's static folder by ui/page/plotly_loader.js (prepended).

export default function (component) {
  const { data, parentElement } = component;
  let div = parentElement.querySelector("[data-testid='rnnlabChart']");
  if (!div) {
    div = document.createElement("div");
    div.dataset.testid = "rnnlabChart";
    div.style.width = "100%";
    div.style.height = data.height + "px"; // room kept while plotly.js loads; then the drawn figure's own height
    parentElement.appendChild(div);
  }
  div.__trigger = component.setTriggerValue; // a click reports its x to Python (charts that listen)
  div.__alt = data.alt || ""; // the chart's one-sentence text alternative (ui.page.charts.chart alt=), for its aria-label
  if (data.spec === div.__spec) return; // a redraw of the same figure: nothing to do
  div.__spec = data.spec;
  div.__next = { spec: data.spec, config: data.config, script: data.script }; // parsed when drawn: a coalesced one never is
  div.__shown = div.__next; // what a change of width draws again
  watchWidth(div);
  queue.waiting.add(div);
  if (!queue.running) drawQueued();
}

// Text is wrapped for the width a figure is drawn at (ui/page/plotly_fit.js): when the chart's width changes by more
// than a few pixels (a phone turned, a window resized, the sidebar opened), the same figure is fitted and drawn again;
// and always when the element became narrower than the figure drawn in it (the figure would run past its column).
const REFIT_PX = 24;

function watchWidth(div) {
  if (div.__widthObserver || typeof ResizeObserver === "undefined") return;
  div.__widthObserver = new ResizeObserver(() => {
    const width = div.clientWidth;
    const drawn = (div._fullLayout && div._fullLayout.width) || 0; // a figure wider than its element, by any px, is redrawn
    if (div.__fitWidth === undefined || (Math.abs(width - div.__fitWidth) < REFIT_PX && drawn <= width + 1) || !div.__shown) return;
    div.__fitWidth = width; // once per change
    div.__next = div.__next || div.__shown;
    queue.waiting.add(div);
    if (!queue.running) drawQueued();
  });
  div.__widthObserver.observe(div);
}

// One chart is drawn at a time, the one highest on screen first, and the page gets the main thread back between
// two: on a page load the first chart shows as soon as it is drawn, not after every chart of the page.
const queue = window.__rnnlabCharts || (window.__rnnlabCharts = { waiting: new Set(), running: false });

function nextChart() {
  let best = null;
  for (const div of queue.waiting) {
    if (!div.isConnected) queue.waiting.delete(div);
    else if (!best || div.getBoundingClientRect().top < best.getBoundingClientRect().top) best = div;
  }
  if (best) queue.waiting.delete(best);
  return best;
}

// Draw the newest figure of each waiting chart; figures that arrive while one is drawn are coalesced into the latest.
async function drawQueued() {
  queue.running = true;
  try {
    const first = queue.waiting.values().next().value;
    const Plotly = await window.rnnlabLoadPlotly(first.__next.script);
    for (let div = nextChart(); div; div = nextChart()) {
      if (!div.__next) continue;
      const { spec, config } = div.__next;
      div.__next = null;
      try {
        const touch = touchScreen();
        div.__fitWidth = div.clientWidth;
        div.style.touchAction = touch ? "pan-y" : ""; // a vertical drag over the chart scrolls the page
        const fig = fitFigure(allowTickOverflow(JSON.parse(spec)), div.__fitWidth, touch);
        div.style.height = (fig.layout.height || 450) + "px"; // the element grows with the lines fitting added
        // The config only when it changed: Plotly copies and compares the whole config on every call that passes one.
        const fresh = config + touch !== div.__config;
        div.__config = config + touch;
        reducedMotion(fig);
        // As a figure object, so its frames (an animation: viz/backward_anim.py) come along; Plotly.react keeps or replaces them.
        await Plotly.react(div, { data: fig.data, layout: fig.layout, frames: fig.frames || [], config: fresh ? chartConfig(config, touch) : undefined });
      } catch (err) {
        failed(div, err);
        continue;
      }
      toolbarOutOfTabOrder(div);
      if (!div.__listening) {
        div.__listening = true;
        div.on("plotly_click", (event) => {
          const point = event.points && event.points[0];
          if (point && div.__trigger) div.__trigger("click", point.x);
        });
      }
      if (!performance.getEntriesByName("rnnlab:first-plot").length) performance.mark("rnnlab:first-plot");
      await new Promise((resolve) => setTimeout(resolve, 0)); // a task boundary: the browser may paint and answer input
    }
  } catch (err) {
    for (const div of queue.waiting) failed(div, err); // plotly.js did not load: no chart can be drawn
    queue.waiting.clear();
  } finally {
    queue.running = false;
  }
}

// prefers-reduced-motion: an animated figure plays at the slower pace its layout.meta names (one step a REDUCED_MS);
// its transitions are 0 ms anyway, nothing plays by itself, and the slider still steps every frame.
function reducedMotion(fig) {
  const slow = ((fig.layout || {}).meta || {}).reduced_play_ms;
  if (!slow || !window.matchMedia || !window.matchMedia("(prefers-reduced-motion: reduce)").matches) return;
  for (const menu of fig.layout.updatemenus || []) {
    for (const button of menu.buttons || []) {
      const opts = button.method === "animate" && button.args && button.args[0] === null ? button.args[1] : null;
      if (opts && opts.frame) opts.frame.duration = slow;
    }
  }
}

// On a touch screen the page scrolls under a drag: no wheel or drag zoom, and no toolbar (its zoom buttons would turn
// drag-zoom back on, and with no hover to hide it, it sat over the chart's title).
function chartConfig(config, touch) {
  const out = Object.assign({ responsive: true }, JSON.parse(config));
  if (touch) Object.assign(out, { scrollZoom: false, displayModeBar: false });
  return out;
}

function failed(div, err) {
  div.textContent = "This chart could not be drawn: " + err.message;
}

// Plotly's default "hide past div" for tick labels measures every label's box once per label on every redraw
// (quadratic, each measurement a forced layout): about a quarter of Plotly's work per streamed dashboard update
// (profiled in Chromium). Our figures keep their labels inside the margins, so overflow is allowed, on every
// axis the traces use or the layout names.
function allowTickOverflow(fig) {
  const layout = (fig.layout = fig.layout || {});
  const names = new Set(Object.keys(layout).filter((k) => /^[xy]axis\d*$/.test(k)));
  for (const trace of fig.data || []) {
    names.add("xaxis" + (trace.xaxis || "x").slice(1));
    names.add("yaxis" + (trace.yaxis || "y").slice(1));
  }
  for (const name of names) {
    const axis = (layout[name] = layout[name] || {});
    if (axis.ticklabeloverflow === undefined) axis.ticklabeloverflow = "allow";
  }
  return fig;
}

// Keyboard order: each chart's toolbar (about 10 buttons) stays out of the tab order, so Tab reaches the page's
// controls first. The chart itself is one stop; Enter on it moves into its toolbar, whose buttons Tab then walks
// until focus leaves the toolbar.
function toolbarOutOfTabOrder(div) {
  const sync = () => {
    const bar = div.querySelector(".modebar");
    const inside = !!bar && bar.contains(document.activeElement);
    for (const b of div.querySelectorAll(".modebar-btn")) b.tabIndex = inside ? 0 : -1;
  };
  if (!document.getElementById("rnnlab-toolbar-focus")) {  // Plotly shows its toolbar on hover only: on focus too
    const style = document.createElement("style");
    style.id = "rnnlab-toolbar-focus";
    style.textContent = '[data-testid="rnnlabChart"]:focus-within .modebar { opacity: 1 !important; }';
    document.head.appendChild(style);
  }
  if (!div.__toolbarWatched) {
    div.__toolbarWatched = true;
    div.tabIndex = 0;
    div.setAttribute("role", "figure");
    div.addEventListener("keydown", (e) => {
      const first = div.querySelector(".modebar-btn");
      if (e.target !== div || e.key !== "Enter" || !first) return;
      e.preventDefault();
      first.tabIndex = 0;
      first.focus();
    });
    div.addEventListener("focusin", sync);
    div.addEventListener("focusout", () => setTimeout(sync, 0));
  }
  const title = ((div._fullLayout && div._fullLayout.title) || {}).text || "";
  const alt = div.__alt || ((div._fullLayout && div._fullLayout.meta) || {}).alt; // the chart's one-sentence text alternative
  const words = title.replace(/<[^>]+>/g, "") + (alt ? ". " + alt : "");
  div.setAttribute("aria-label", "Chart: " + words + " (Enter: its toolbar)");
  sync();
}
