// The page: opens the GPU engine through WebGPU (or the CPU engine without it), analyses the
// chosen preset as the controls move, draws the middle slice's heat map with the colours the
// Rust side computed (tunnelgrid-render's maps), and runs the benchmark.
import init, { open_gpu, open_cpu, presets } from "./pkg/tunnelgrid_web.js";

const $ = (id) => document.getElementById(id);

// Everything the tests read back lives here (window.tunnelgrid).
const state = {
  explorer: null,
  kind: null,
  fallbackReason: null,
  device: null,
  presets: [],
  busy: false,
  pending: false,
  analyses: 0,
  heatmapsDrawn: 0,
  request: null,
  report: null,
  summary: null,
  heatmap: null,
  error: null,
  loadToFirstHeatmapMs: null,
  bench: null,
  benchJson: null,
};
window.tunnelgrid = state;

// The browser's own words for its adapter (Chrome hides the name wgpu reads, but gives the
// vendor and architecture).
let adapterLabel = "";

// Why the page cannot use WebGPU, or null when it can.
async function webgpuUnavailable() {
  if (new URLSearchParams(location.search).get("engine") === "cpu") {
    return "the page was opened with ?engine=cpu";
  }
  if (!navigator.gpu) return "this browser has no WebGPU (navigator.gpu is missing)";
  try {
    const adapter = await navigator.gpu.requestAdapter();
    if (!adapter) return "WebGPU gave no adapter";
    const info = adapter.info ?? {};
    adapterLabel = [info.vendor, info.architecture, info.device, info.description]
      .filter((s) => s).join(" ");
  } catch (e) {
    return `WebGPU failed: ${e.message ?? e}`;
  }
  return null;
}

async function openEngine() {
  let why = await webgpuUnavailable();
  if (!why) {
    try {
      return { explorer: await open_gpu(adapterLabel), why: null };
    } catch (e) {
      why = `the GPU engine could not start: ${e.message ?? e}`;
    }
  }
  return { explorer: open_cpu(), why };
}

function showEngine() {
  const el = $("engine");
  if (state.kind === "gpu") {
    el.textContent = `Engine: GPU through WebGPU — ${state.explorer.engine_name()}`;
    el.classList.remove("fallback");
  } else {
    el.textContent = `Engine: CPU (WebAssembly, one thread) — ${state.explorer.engine_name()}. ` +
      `Falling back to the CPU engine because ${state.fallbackReason}.`;
    el.classList.add("fallback");
  }
  const d = state.device;
  $("adapter").textContent = d.adapter
    ? JSON.stringify(d.adapter, null, 2)
    : "no WebGPU adapter: the CPU engine runs in WebAssembly";
}

function currentPreset() {
  return state.presets.find((p) => p.name === $("preset").value);
}

function fillControls() {
  for (const p of state.presets) {
    const o = document.createElement("option");
    o.value = p.name;
    o.textContent = p.name;
    $("preset").append(o);
  }
  for (const n of state.device.explore_sizes) {
    const o = document.createElement("option");
    o.value = String(n);
    o.textContent = `${n}³`;
    $("size").append(o);
  }
  $("size").value = state.device.explore_sizes.includes(32) ? "32" : String(state.device.explore_sizes.at(-1));
  presetChanged(false);
}

// A new preset: its own default conditions on the sliders, and p or (P, T) shown.
function presetChanged(run = true) {
  const p = currentPreset();
  $("preset-description").textContent = p.description;
  $("p-controls").hidden = !p.bernoulli;
  $("pt-controls").hidden = p.bernoulli;
  $("pressure").value = String(p.pressure_gpa);
  $("temperature").value = String(p.temperature_k);
  $("p").value = String(p.p);
  showSliderValues();
  if (run) analyze();
}

function showSliderValues() {
  $("pressure-value").textContent = $("pressure").value;
  $("temperature-value").textContent = $("temperature").value;
  $("p-value").textContent = Number($("p").value).toFixed(4);
}

function readRequest() {
  const p = currentPreset();
  const seed = Number($("seed").value);
  return {
    preset: p.name,
    size: Number($("size").value),
    // NaN keeps the material's own value: p for tunnel presets, (P, T) for Bernoulli ones.
    pressure: p.bernoulli ? NaN : Number($("pressure").value),
    temperature: p.bernoulli ? NaN : Number($("temperature").value),
    seed: Number.isInteger(seed) && seed >= 0 ? seed : NaN,
    p: p.bernoulli ? Number($("p").value) : NaN,
  };
}

function showError(message) {
  state.error = message;
  $("error").hidden = !message;
  $("error").textContent = message ?? "";
}

// Runs the analysis for the controls; while one runs, moves of the controls coalesce into one
// more run with their latest values.
async function analyze() {
  if (state.busy) {
    state.pending = true;
    return;
  }
  state.busy = true;
  document.body.dataset.status = "busy";
  try {
    do {
      state.pending = false;
      const r = readRequest();
      if (Number.isNaN(r.seed)) throw new Error("seed: must be a whole number from 0 to 4294967295");
      const out = JSON.parse(await state.explorer.analyze(r.preset, r.size, r.pressure, r.temperature, r.seed, r.p));
      state.request = r;
      state.report = out.report;
      state.summary = out.summary;
      state.analyses += 1;
      showResults();
      drawHeatmap();
    } while (state.pending);
    showError(null);
  } catch (e) {
    showError(String(e.message ?? e));
  } finally {
    state.busy = false;
    document.body.dataset.status = "ready";
  }
}

function showResults() {
  const states = state.report.states;
  for (const axis of ["x", "y", "z"]) {
    const s = states[axis];
    const td = $(`state-${axis}`);
    const name = s == null ? "–" : String(s).replace(/_/g, " ").toLowerCase();
    td.textContent = name;
    td.className = name;
  }
  $("summary").textContent = state.summary;
}

function selectedField() {
  return document.querySelector('input[name="field"]:checked').value;
}

function rgb(c) {
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

function tickLabel(v) {
  if (v === 0) return "0";
  const a = Math.abs(v);
  return a >= 1e4 || a < 1e-2 ? v.toExponential(1) : String(Number(v.toPrecision(3)));
}

// Draws the heat map as tunnelgrid render lays out its PNGs: title, framed cells with axes,
// a colour bar on the right for continuous fields, the legend underneath.
function drawHeatmap() {
  const map = JSON.parse(state.explorer.heatmap(selectedField()));
  state.heatmap = { field: selectedField(), title: map.title, nx: map.nx, ny: map.ny };
  const canvas = $("heatmap");
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.fillStyle = "#222";
  ctx.textAlign = "center";
  ctx.font = "bold 17px 'DejaVu Sans', sans-serif";
  ctx.fillText(map.title, canvas.width / 2, 28);
  ctx.font = "14px 'DejaVu Sans', sans-serif";

  const side = 560;
  const scale = side / Math.max(map.nx, map.ny);
  const w = map.nx * scale, h = map.ny * scale;
  const left = 90, top = 70;
  ctx.fillText(map.panel_title, left + w / 2, top - 10);

  // Cells: one pixel each in an offscreen image, scaled up without smoothing; row 0 is the
  // bottom row of the picture.
  const img = new ImageData(map.nx, map.ny);
  for (let j = 0; j < map.ny; j++) {
    for (let i = 0; i < map.nx; i++) {
      const src = 3 * (j * map.nx + i);
      const dst = 4 * ((map.ny - 1 - j) * map.nx + i);
      img.data[dst] = map.rgb[src];
      img.data[dst + 1] = map.rgb[src + 1];
      img.data[dst + 2] = map.rgb[src + 2];
      img.data[dst + 3] = 255;
    }
  }
  const off = new OffscreenCanvas(map.nx, map.ny);
  off.getContext("2d").putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(off, left, top, w, h);
  ctx.strokeStyle = "#222";
  ctx.lineWidth = 1;
  ctx.strokeRect(left + 0.5, top + 0.5, w, h);

  // Axes: ticks at quarters of the cell range.
  ctx.fillStyle = "#222";
  ctx.font = "12px 'DejaVu Sans', sans-serif";
  for (let k = 0; k <= 4; k++) {
    const xv = Math.round((map.nx * k) / 4), yv = Math.round((map.ny * k) / 4);
    const x = left + xv * scale, y = top + h - yv * scale;
    ctx.beginPath();
    ctx.moveTo(x, top + h); ctx.lineTo(x, top + h + 5);
    ctx.moveTo(left, y); ctx.lineTo(left - 5, y);
    ctx.stroke();
    ctx.textAlign = "center";
    ctx.fillText(String(xv), x, top + h + 18);
    ctx.textAlign = "right";
    ctx.fillText(String(yv), left - 8, y + 4);
  }
  ctx.font = "14px 'DejaVu Sans', sans-serif";
  ctx.textAlign = "center";
  ctx.fillText(map.x_label, left + w / 2, top + h + 40);
  ctx.save();
  ctx.translate(left - 50, top + h / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.fillText(map.y_label, 0, 0);
  ctx.restore();

  if (map.colour_bar) {
    const bar = map.colour_bar;
    const bx = left + w + 40, bw = 24;
    const n = bar.colours.length;
    for (let k = 0; k < n; k++) {
      ctx.fillStyle = rgb(bar.colours[k]);
      const y0 = top + h - ((k + 1) * h) / n;
      ctx.fillRect(bx, y0, bw, h / n + 1);
    }
    ctx.strokeRect(bx + 0.5, top + 0.5, bw, h);
    ctx.fillStyle = "#222";
    ctx.textAlign = "left";
    ctx.font = "12px 'DejaVu Sans', sans-serif";
    for (let k = 0; k <= 4; k++) {
      const v = bar.min + ((bar.max - bar.min) * k) / 4;
      const y = top + h - (h * k) / 4;
      ctx.beginPath(); ctx.moveTo(bx + bw, y); ctx.lineTo(bx + bw + 5, y); ctx.stroke();
      ctx.fillText(tickLabel(v), bx + bw + 8, y + 4);
    }
    ctx.save();
    ctx.font = "14px 'DejaVu Sans', sans-serif";
    ctx.textAlign = "center";
    ctx.translate(bx + bw + 75, top + h / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.fillText(bar.label, 0, 0);
    ctx.restore();
  }

  // Legend: one swatch per fixed colour, in rows under the picture.
  ctx.font = "14px 'DejaVu Sans', sans-serif";
  ctx.textAlign = "left";
  let x = left, y = top + h + 72;
  for (const entry of map.legend) {
    const width = 24 + ctx.measureText(entry.label).width + 28;
    if (x + width > canvas.width - 20) { x = left; y += 24; }
    ctx.fillStyle = rgb(entry.rgb);
    ctx.fillRect(x, y - 12, 16, 16);
    ctx.strokeStyle = "#888";
    ctx.strokeRect(x + 0.5, y - 11.5, 16, 16);
    ctx.fillStyle = "#222";
    ctx.fillText(entry.label, x + 22, y + 1);
    x += width;
  }
  state.heatmapsDrawn += 1;
  if (state.loadToFirstHeatmapMs === null) {
    // Milliseconds from the start of navigation to the first heat map on screen.
    state.loadToFirstHeatmapMs = performance.now();
  }
}

function stageCell(s) {
  return `${(s.device_s ?? s.wall_s) * 1e3 < 10 ? ((s.device_s ?? s.wall_s) * 1e3).toFixed(2) : ((s.device_s ?? s.wall_s) * 1e3).toFixed(1)} ms (${s.msites_per_s.toFixed(1)})`;
}

async function runBenchmark() {
  const button = $("bench-run");
  button.disabled = true;
  $("bench-download").hidden = true;
  state.bench = null;
  state.benchJson = null;
  const sizes = state.device.bench_sizes;
  try {
    const json = await state.explorer.bench(Uint32Array.from(sizes), 1, (size) => {
      $("bench-status").textContent = `running ${size}³ (of ${sizes.map((n) => n + "³").join(", ")})…`;
    });
    state.benchJson = json;
    state.bench = JSON.parse(json);
    const body = $("bench-table").querySelector("tbody");
    body.replaceChildren();
    for (const r of state.bench) {
      const tr = document.createElement("tr");
      for (const v of [r.size, r.sites, stageCell(r.bonds), stageCell(r.labels), stageCell(r.stats), stageCell(r.whole)]) {
        const td = document.createElement("td");
        td.textContent = String(v);
        tr.append(td);
      }
      body.append(tr);
    }
    $("bench-table").hidden = false;
    $("bench-status").textContent = `done: ${state.bench[0]?.engine ?? ""}; timing: ${state.bench[0]?.timing ?? ""}; ms per stage (Msites/s)`;
    const link = $("bench-download");
    link.href = URL.createObjectURL(new Blob([json + "\n"], { type: "application/json" }));
    link.hidden = false;
  } catch (e) {
    $("bench-status").textContent = `benchmark failed: ${e.message ?? e}`;
  } finally {
    button.disabled = false;
  }
}

async function main() {
  await init();
  const { explorer, why } = await openEngine();
  state.explorer = explorer;
  state.kind = explorer.kind();
  state.fallbackReason = why;
  state.device = JSON.parse(explorer.device());
  state.presets = JSON.parse(presets());
  showEngine();
  fillControls();
  $("preset").addEventListener("change", () => presetChanged(true));
  for (const id of ["size", "seed"]) $(id).addEventListener("change", analyze);
  for (const id of ["pressure", "temperature", "p"]) {
    $(id).addEventListener("input", () => { showSliderValues(); analyze(); });
  }
  for (const radio of document.querySelectorAll('input[name="field"]')) {
    radio.addEventListener("change", () => { if (state.report) drawHeatmap(); });
  }
  $("bench-run").addEventListener("click", runBenchmark);
  await analyze();
}

main().catch((e) => {
  showError(`the page could not start: ${e.message ?? e}`);
  document.body.dataset.status = "failed";
});
