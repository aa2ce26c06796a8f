// Loads plotly.js once per page and shares it: window.__rnnlabPlotly is the promise of window.Plotly.
// Used by the page's first element (ui/page/charts.py preload), so Plotly loads while the script still
// runs, and by every chart (ui/page/plotly_chart.js), which waits for the same promise.
window.rnnlabLoadPlotly = function (name) {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  if (!window.__rnnlabPlotly) {
    window.__rnnlabPlotly = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = "./app/static/" + name;
      performance.mark("rnnlab:plotly-requested"); // read by bench/bench_browser.py
      script.onload = () => {
        performance.mark("rnnlab:plotly-loaded");
        resolve(window.Plotly);
      };
      script.onerror = () => reject(new Error("could not load ./app/static/" + name));
      document.head.appendChild(script);
    });
  }
  return window.__rnnlabPlotly;
};
