// In-place Plotly chart for the page (a Streamlit v2 component, no iframe).
// Called on every render with the figure as JSON: the first call creates the plot, later calls
// restyle the same element with Plotly.react, so the chart never disappears while it updates.
// Plotly itself is loaded once per page from the app's static folder by ui/plotly_loader.js (prepended).

export default function (component) {
  const { data, parentElement } = component;
  let div = parentElement.querySelector("[data-testid='rnnlabChart']");
  if (!div) {
    div = document.createElement("div");
    div.dataset.testid = "rnnlabChart";
    div.style.width = "100%";
    parentElement.appendChild(div);
  }
  div.__trigger = component.setTriggerValue; // a click reports its x to Python (charts that listen)
  if (data.spec === div.__spec) return; // a redraw of the same figure: nothing to do
  div.__spec = data.spec;
  div.__next = { spec: data.spec, config: data.config, script: data.script }; // parsed when drawn: a coalesced one never is
  queue.waiting.add(div);
  if (!queue.running) drawQueued();
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
        const fig = allowTickOverflow(JSON.parse(spec));
        // The config only when it changed: Plotly copies and compares the whole config on every call that passes one.
        const fresh = config !== div.__config;
        div.__config = config;
        await Plotly.react(div, fig.data, fig.layout, fresh ? Object.assign({ responsive: true }, JSON.parse(config)) : undefined);
      } catch (err) {
        failed(div, err);
        continue;
      }
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
