// Fits a figure to the width it is drawn at, before Plotly draws it (prepended to ui/page/plotly_chart.js).
// The server builds one figure for every screen; Plotly never wraps text, so on a 390 px phone titles, notes and
// axis titles ran off the right edge. Here they are wrapped at word boundaries to the room they have (measured
// with the figure's own font), and the figure grows to hold the extra lines. Below NARROW_PX a figure may also
// carry its own phone layout (layout.meta.narrow, a {"layout.x.y": value} patch built by viz/), and colour bars
// move above the plot. On a touch screen a drag scrolls the page: no drag-zoom, and the chart lets vertical pans through.

const NARROW_PX = 600; // a chart narrower than this gets the phone layout
const TOUCH_QUERY = "(hover: none) and (pointer: coarse)"; // phones and tablets; a touch laptop with a mouse keeps zoom
const PAD_PX = 6; // room kept between a wrapped text and the edge it would cross
const LINE_SPACING = 1.3; // plotly.js's line height, in em
const BAR_PX = 40; // a flat colour bar over the plot: the bar and its tick labels above it
const COLORBAR_PX = 64; // ... and the line of its title

function touchScreen() {
  return window.matchMedia(TOUCH_QUERY).matches;
}

// Everything this module does to a figure about to be drawn width px wide.
function fitFigure(fig, width, touch) {
  const layout = (fig.layout = fig.layout || {});
  if (touch) noDragZoom(fig);
  if (!(width > 0)) return fig;
  // Plotly.react measures the element again only when the layout itself asks for autosize: without it a chart keeps the
  // width of its first draw, and one first drawn in a wider column ran past its column and the screen (a slide's x axis
  // stopped at 80 of 99), however often its text was refitted to the new width.
  if (layout.width === undefined) layout.autosize = true;
  if (width < NARROW_PX) applyPatch(fig, (layout.meta || {}).narrow);
  const centre = titleCentre(layout); // the title's first line stays where it was; what is added goes below it
  const m = margins(layout), top = m.t, plot = (layout.height || 450) - m.t - m.b;
  const legend = layout.legend, below = legendBelow(legend) ? -legend.y * plot : null; // px from the plot's bottom edge
  // A chart as wide as a screen or a slide column keeps its height (a projector's 720 px): wrapped lines take their room
  // from the plot, down to MIN_PLOT of it. On a phone the page scrolls, so the chart grows instead and its plot keeps its size.
  fitting = { spare: width >= NARROW_PX ? plot * (1 - MIN_PLOT) : 0, legendDrop: 0 };
  if (width < NARROW_PX) colorbarsAbove(fig, width);
  wrapToWidth(fig, width);
  legendClearsTitle(fig, width, centre);
  if (margins(layout).t !== top) pinTitle(layout, centre); // the top margin grew: the title keeps its place
  const now = (layout.height || 450) - m.t - m.b;
  if (below !== null && (now !== plot || fitting.legendDrop)) legend.y = -(below + fitting.legendDrop) / now; // same px as before
  fitting = { spare: 0, legendDrop: 0 };
  return fig;
}

const MIN_PLOT = 0.6;
let fitting = { spare: 0, legendDrop: 0 }; // the figure being fitted: px its plot may still give up; px the legend moved down

function legendBelow(legend) {
  return !!legend && typeof legend.y === "number" && legend.y < 0 && (legend.yref || "paper") === "paper";
}

function axisNames(fig) {
  const names = new Set(Object.keys(fig.layout).filter((k) => /^[xy]axis\d*$/.test(k)));
  for (const trace of fig.data || []) {
    names.add("xaxis" + (trace.xaxis || "x").slice(1));
    names.add("yaxis" + (trace.yaxis || "y").slice(1));
  }
  return names;
}

// A touch drag over the chart scrolls the page: Plotly only holds on to a touch (preventDefault) while a drag mode is set.
function noDragZoom(fig) {
  fig.layout.dragmode = false;
  for (const name of axisNames(fig)) fig.layout[name] = Object.assign(fig.layout[name] || {}, { fixedrange: true });
}

// A phone layout patch: {"layout.height": 700, "layout.xaxis.range": [..], "data[2].visible": false}.
function applyPatch(fig, patch) {
  if (!patch || typeof patch !== "object") return;
  for (const [path, value] of Object.entries(patch)) {
    const keys = path.replace(/\[(\d+)\]/g, ".$1").split(".");
    let node = fig;
    for (const key of keys.slice(0, -1)) {
      if (node[key] === undefined || node[key] === null) node[key] = /^\d+$/.test(key) ? [] : {};
      node = node[key];
    }
    node[keys[keys.length - 1]] = value;
  }
}

// On a narrow single-panel chart a vertical colour bar takes a third of the width: lay it flat above the plot.
function colorbarsAbove(fig, width) {
  const layout = fig.layout;
  const bars = [];
  for (const trace of fig.data || []) {
    if ((trace.xaxis || "x") !== "x" || (trace.yaxis || "y") !== "y") return; // subplots: their patch decides
    if (/^(heatmap|contour|histogram2d)/.test(trace.type || "") && trace.showscale !== false) bars.push((trace.colorbar = trace.colorbar || {}));
    else if (trace.marker && trace.marker.showscale === true) bars.push((trace.marker.colorbar = trace.marker.colorbar || {}));
  }
  if (bars.length !== 1 || Object.keys(layout).some((k) => /^[xy]axis\d+$/.test(k))) return;
  const bar = bars[0];
  const title = bar.title && typeof bar.title === "object" ? bar.title : { text: bar.title };
  Object.assign(bar, { orientation: "h", x: 0, xanchor: "left", len: 1, lenmode: "fraction", y: 1, yanchor: "bottom", ypad: 4 });
  Object.assign(bar, { thickness: 12, ticklabelposition: "outside top", tickangle: 0, title: { text: "" } });
  // Its title as a note above the bar: Plotly 3 moves the page title and the axis titles up by a line or more
  // when a flat colour bar has a title of its own.
  const notes = (layout.annotations = layout.annotations || []);
  for (const note of notes.filter(aboveThePlot)) note.yshift = (note.yshift || 0) + COLORBAR_PX;
  if (title.text) {
    const font = Object.assign({}, title.font || {});
    notes.push({ text: title.text, showarrow: false, xref: "paper", x: 0, xanchor: "left", yref: "paper", y: 1, yanchor: "bottom", yshift: BAR_PX, font });
  }
  grow(layout, "t", COLORBAR_PX);
  const m = margins(layout);
  m.r = Math.min(m.r, 30);
  thinTicks(bar, width - m.l - m.r);
}

// At most one tick label per TICK_PX of a flat colour bar (the figure's own tick values, every k-th kept).
const TICK_PX = 48;
function thinTicks(bar, length) {
  if (!Array.isArray(bar.tickvals) || length <= 0) return;
  const step = Math.ceil(bar.tickvals.length / Math.max(1, Math.floor(length / TICK_PX)));
  if (step <= 1) return;
  const keep = (_, i) => (bar.tickvals.length - 1 - i) % step === 0; // the top of the scale always labelled
  if (Array.isArray(bar.ticktext)) bar.ticktext = bar.ticktext.filter(keep);
  bar.tickvals = bar.tickvals.filter(keep);
}

function margins(layout) {
  layout.margin = Object.assign({ l: 80, r: 80, t: 100, b: 80 }, layout.margin || {});
  return layout.margin;
}

// px more room at the figure's top or bottom: the figure grows by it, or the plot gives it up (see fitFigure).
function grow(layout, side, px) {
  if (px <= 0) return;
  margins(layout)[side] += px;
  const taken = Math.min(fitting.spare, px); // from the plot, while it may give
  fitting.spare -= taken;
  layout.height = (layout.height || 450) + px - taken;
}

// px from the top to the middle of the title's first line (Plotly's automatic place: the middle of the top margin).
function titleCentre(layout) {
  const title = layout.title;
  if (!title || !title.text) return null;
  if (typeof title.y === "number" && (title.yref || "container") === "container") return (1 - title.y) * (layout.height || 450);
  return margins(layout).t / 2;
}

// A title anchored by its middle keeps its first line there and puts further lines below it (Plotly 3).
function pinTitle(layout, centre) {
  if (centre === null) return;
  Object.assign(layout.title, { yref: "container", yanchor: "middle", y: 1 - centre / (layout.height || 450) });
}

function aboveThePlot(note) {
  return (note.yref || "y") === "paper" && note.y >= 1 && note.yanchor === "bottom";
}

function belowThePlot(note) {
  return (note.yref || "y") === "paper" && note.y <= 0 && note.yanchor === "top" && (note.yshift || 0) < 0;
}

// ---- Wrapping ---------------------------------------------------------------------------------------------------

let canvas = null;
function textWidth(text, size, family, bold) {
  canvas = canvas || document.createElement("canvas");
  const ctx = canvas.getContext("2d");
  ctx.font = `${bold ? "bold " : ""}${size}px ${family}`;
  return ctx.measureText(text).width;
}

const ENTITIES = { "&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#39;": "'", "&nbsp;": " " };
function plain(text) {
  return text.replace(/&[a-z#0-9]+;/gi, (e) => ENTITIES[e.toLowerCase()] || "?");
}

// Plotly's pseudo-HTML text with a <br> wherever a line would pass `room` px; the style tags open at a break are
// closed before it and reopened after it. Returns the text and how many lines it gained.
function wrapText(text, room, size, family) {
  // A "<" that opens no tag (as Plotly reads tags: no "<" or ">" inside) is a word: "γ·σ_max = 0.9 < 1" lost its "<".
  const tokens = String(text).match(/<br\s*\/?>|<[^<>]+>|\s+|[^<\s]+|</gi) || [];
  const open = []; // style tags open here, outermost first
  let out = "", width = 0, words = 0, space = false, gained = 0;
  for (const token of tokens) {
    if (/^<br\s*\/?>$/i.test(token)) {
      out += token;
      width = words = 0;
      space = false;
    } else if (token[0] === "<" && token.length > 1) {
      track(open, token);
      out += token;
    } else if (/^\s/.test(token)) {
      space = words > 0;
    } else {
      const scale = open.some((t) => /^<\s*su[bp]\b/i.test(t)) ? 0.7 : 1;
      const bold = open.some((t) => /^<\s*b\b/i.test(t));
      const w = textWidth(plain(token), size * scale, family, bold);
      const gap = space ? textWidth(" ", size * scale, family, bold) : 0;
      if (space && width + gap + w > room) { // a line breaks only where the text has a space: x<sub>t</sub> stays whole
        out += closing(open) + "<br>" + open.join("") + token;
        width = w;
        gained += 1;
      } else {
        out += (space ? " " : "") + token;
        width += gap + w;
      }
      words += 1;
      space = false;
    }
  }
  return { text: out, gained };
}

function tagName(tag) {
  return ((tag.match(/^<\/?\s*([a-z]+)/i) || [])[1] || "").toLowerCase();
}

function track(open, tag) {
  const name = tagName(tag);
  if (!name || /\/>$/.test(tag)) return;
  if (/^<\//.test(tag)) {
    const i = open.map(tagName).lastIndexOf(name);
    if (i >= 0) open.splice(i, 1);
  } else open.push(tag);
}

function closing(open) {
  return open.map((t) => `</${tagName(t)}>`).reverse().join("");
}

// Where a paper- or domain-referenced x lands, in px from the figure's left edge; null for data coordinates.
function xPixel(layout, ref, x, plotLeft, plotWidth) {
  ref = ref || "x"; // Plotly's default: the first x axis
  if (ref === "paper") return plotLeft + x * plotWidth;
  const dom = ref.match(/^x(\d*)( domain)?$/);
  if (!dom) return null;
  const axis = layout["xaxis" + dom[1]] || {}, d = axis.domain || [0, 1];
  if (!dom[2]) {
    // data coordinates: only on a linear axis whose range the figure fixes (an autorange is known after drawing only)
    const r = axis.range;
    if (!Array.isArray(r) || r[1] === r[0] || (axis.type && axis.type !== "linear") || typeof x !== "number") return null;
    x = (x - r[0]) / (r[1] - r[0]);
  }
  return plotLeft + (d[0] + x * (d[1] - d[0])) * plotWidth;
}

// A horizontal legend above the plot grows upward, row by row; on a narrow chart it meets the title. Its rows are
// packed as Plotly packs them (swatch, name, gap), and the plot moves down until the legend clears the title.
const LEGEND_ITEM_PX = 50;
const LEGEND_ROW = 1.5; // a legend row's height, in font sizes

function legendClearsTitle(fig, width, centre) {
  const layout = fig.layout, legend = layout.legend, title = layout.title;
  if (!legend || legend.orientation !== "h" || !(legend.y >= 1) || legend.yanchor !== "bottom" || layout.showlegend === false) return;
  if (centre === null || !title || !title.text) return;
  const base = layout.font || {}, family = base.family || "sans-serif", fontSize = base.size || 12;
  const m = margins(layout), plotWidth = width - m.l - m.r, plotHeight = (layout.height || 450) - m.t - m.b;
  const size = (legend.font && legend.font.size) || fontSize;
  let rows = 1, used = 0, widest = 0;
  for (const trace of fig.data || []) {
    if (trace.showlegend === false || !trace.name || /^(heatmap|contour)/.test(trace.type || "")) continue;
    const w = textWidth(plain(String(trace.name).replace(/<[^>]+>/g, "")), size, family, false) + LEGEND_ITEM_PX;
    if (used > 0 && used + w > plotWidth) [rows, used] = [rows + 1, 0];
    used += w;
    widest = Math.max(widest, used);
  }
  const tsize = (title.font && title.font.size) || Math.round(fontSize * 1.4);
  const lines = String(title.text).split(/<br\s*\/?>/i);
  const titleRight = (typeof title.x === "number" ? title.x : 0.5) * width + Math.max(...lines.map((l) => textWidth(plain(l.replace(/<[^>]+>/g, "")), tsize, family, true)));
  const x = typeof legend.x === "number" ? m.l + legend.x * plotWidth : m.l;
  const legendLeft = legend.xanchor === "right" ? x - widest : legend.xanchor === "center" ? x - widest / 2 : x;
  if (legendLeft >= titleRight) return; // side by side, as on a wide screen
  const legendTop = m.t - (legend.y - 1) * plotHeight - rows * size * LEGEND_ROW;
  const titleBottom = centre + (lines.length - 0.5) * tsize * LINE_SPACING;
  grow(layout, "t", titleBottom + PAD_PX - legendTop);
}

// Room for a text anchored at px (from the figure's left edge) before it passes an edge of the figure.
function room(anchor, px, width) {
  if (anchor === "auto" || !anchor) anchor = px < width / 3 ? "left" : px > (2 * width) / 3 ? "right" : "center";
  if (anchor === "left") return width - px - PAD_PX;
  if (anchor === "right") return px - PAD_PX;
  return 2 * Math.min(px, width - px) - 2 * PAD_PX;
}

function wrapToWidth(fig, width) {
  const layout = fig.layout;
  const base = layout.font || {};
  const family = base.family || '"Open Sans", verdana, arial, sans-serif';
  const fontSize = base.size || 12;
  const m = margins(layout);
  const plotWidth = width - m.l - m.r;
  // Notes above and below the plot first (they are stacked: a longer one pushes the ones beyond it away).
  const notes = (layout.annotations || []).filter((a) => a && a.text && a.showarrow === false && !a.textangle);
  let top = 0, bottom = 0;
  const gained = new Map();
  for (const note of notes) {
    const size = (note.font && note.font.size) || fontSize;
    const px = xPixel(layout, note.xref, note.x || 0, m.l, plotWidth);
    if (px === null) continue;
    const fitted = wrapText(note.text, room(note.xanchor, px + (note.xshift || 0), width) - 2 * ((note.borderpad || 1) + 1), size, family);
    if (fitted.gained <= 0) continue;
    note.text = fitted.text;
    gained.set(note, fitted.gained * size * LINE_SPACING);
  }
  const stacked = (group, sign) => {
    // each note moves by what the notes nearer the plot gained; returns how far the stack reaches beyond before
    let reach = 0;
    const order = group.slice().sort((a, b) => sign * ((a.yshift || 0) - (b.yshift || 0)));
    const moved = order.map((note) => order.filter((o) => sign * ((o.yshift || 0) - (note.yshift || 0)) < 0).reduce((s, o) => s + (gained.get(o) || 0), 0));
    order.forEach((note, i) => {
      if (moved[i]) note.yshift = (note.yshift || 0) + sign * moved[i];
      reach = Math.max(reach, moved[i] + (gained.get(note) || 0));
    });
    return reach;
  };
  top = stacked(notes.filter(aboveThePlot), 1);
  bottom = stacked(notes.filter(belowThePlot), -1);
  // The bottom x axis titles: wrapped to the plot's width; what sits below them moves down.
  for (const name of Object.keys(layout).filter((k) => /^xaxis\d*$/.test(k))) {
    const axis = layout[name], title = axis && axis.title;
    const text = title && (typeof title === "object" ? title.text : title);
    const anchored = layout["yaxis" + String(axis.anchor || "y").slice(1)] || {};
    if (!text || (anchored.domain || [0, 1])[0] > 0) continue; // an axis higher up: its own patch gives it room
    const size = (title.font && title.font.size) || Math.round(fontSize * 1.2);
    const d = axis.domain || [0, 1];
    const fitted = wrapText(text, (d[1] - d[0]) * plotWidth - 2 * PAD_PX, size, family);
    if (fitted.gained <= 0) continue;
    axis.title = Object.assign(typeof title === "object" ? title : {}, { text: fitted.text });
    const px = fitted.gained * size * LINE_SPACING;
    fitting.legendDrop += px; // a legend below the plot moves down with the axis title (fitFigure places it)
    for (const note of notes.filter(belowThePlot)) note.yshift -= px;
    bottom += px;
  }
  grow(layout, "t", top);
  grow(layout, "b", bottom);
  // The title last: it sits in the top margin, from the top edge down.
  const title = layout.title;
  if (title && title.text) {
    const size = (title.font && title.font.size) || Math.round(fontSize * 1.4);
    const x = typeof title.x === "number" ? title.x : 0.5;
    const fitted = wrapText(title.text, room(title.xanchor, x * width, width), size, family);
    if (fitted.gained > 0) {
      title.text = fitted.text;
      grow(layout, "t", fitted.gained * size * LINE_SPACING);
    }
  }
}
