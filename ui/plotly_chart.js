// In-place Plotly chart for the page (a Streamlit v2 component, no iframe).
// Called on every render with the figure as JSON: the first call creates the plot, later calls
// restyle the same element with Plotly.react, so the chart never disappears while it updates.
// Plotly itself is loaded once per page from the app's static folder (see ui/charts.py).

function loadPlotly() {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  if (!window.__rnnlabPlotly) {
    window.__rnnlabPlotly = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = "./app/static/plotly.min.js";
      script.onload = () => resolve(window.Plotly);
      script.onerror = () => reject(new Error("could not load ./app/static/plotly.min.js"));
      document.head.appendChild(script);
    });
  }
  return window.__rnnlabPlotly;
}

export default function (component) {
  const { data, parentElement } = component;
  let div = parentElement.querySelector("[data-testid='rnnlabChart']");
  if (!div) {
    div = document.createElement("div");
    div.dataset.testid = "rnnlabChart";
    div.style.width = "100%";
    parentElement.appendChild(div);
  }
  if (data.spec === div.__spec) return; // a redraw of the same figure: nothing to do
  div.__spec = data.spec;
  div.__next = { fig: JSON.parse(data.spec), config: Object.assign({ responsive: true }, JSON.parse(data.config)) };
  if (!div.__drawing) drawLatest(div);
}

// Draw the newest figure; figures that arrive while one is drawn are coalesced into the latest.
async function drawLatest(div) {
  div.__drawing = true;
  try {
    const Plotly = await loadPlotly();
    while (div.__next) {
      const { fig, config } = div.__next;
      div.__next = null;
      await Plotly.react(div, fig.data, fig.layout, config);
    }
  } catch (err) {
    div.textContent = "This chart could not be drawn: " + err.message;
  } finally {
    div.__drawing = false;
  }
}
