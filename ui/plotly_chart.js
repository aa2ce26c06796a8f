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
  div.__next = {
    fig: JSON.parse(data.spec),
    config: Object.assign({ responsive: true }, JSON.parse(data.config)),
    script: data.script,
  };
  if (!div.__drawing) drawLatest(div);
}

// Draw the newest figure; figures that arrive while one is drawn are coalesced into the latest.
async function drawLatest(div) {
  div.__drawing = true;
  try {
    const Plotly = await window.rnnlabLoadPlotly(div.__next.script);
    while (div.__next) {
      const { fig, config } = div.__next;
      div.__next = null;
      await Plotly.react(div, fig.data, fig.layout, config);
      if (!div.__listening) {
        div.__listening = true;
        div.on("plotly_click", (event) => {
          const point = event.points && event.points[0];
          if (point && div.__trigger) div.__trigger("click", point.x);
        });
      }
      if (!performance.getEntriesByName("rnnlab:first-plot").length) performance.mark("rnnlab:first-plot");
    }
  } catch (err) {
    div.textContent = "This chart could not be drawn: " + err.message;
  } finally {
    div.__drawing = false;
  }
}
