"""The web page in a real browser (issue 17): headless Chromium from Debian's package, driven by
Playwright, compared against the tunnelgrid binary's own report.json.

Run by `scripts/web test` (and so by `scripts/test`), with TUNNELGRID_BIN pointing at the built
binary. Screenshots and measured costs go to target/web-artifacts/.
"""

import functools
import hashlib
import http.server
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
ARTIFACTS = ROOT / "target" / "web-artifacts"
BIN = Path(os.environ.get("TUNNELGRID_BIN", ROOT / "target" / "release" / "tunnelgrid"))
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")

# This machine's network is closed: keep Chromium from reaching for it.
QUIET = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

# default at 32³, seed 1: one point in each state (found with `tunnelgrid run`; the test checks
# the CLI says so before comparing).
STATE_POINTS = {
    "insulating": (5.0, 300.0),
    "conducting": (50.0, 300.0),
    "superconducting": (150.0, 10.0),
}
SIZE = 32
SEED = 1
BERNOULLI_SIZE = 64

# What "equal results" compares: the cluster statistics, spanning and states of both networks.
COMPARED = [
    "sites",
    "present_sites",
    "tunnel_bonds",
    "sc_bonds",
    "clusters",
    "singletons",
    "largest_cluster",
    "largest_cluster_fraction",
    "spans",
    "sc_spans",
    "states",
]
COMPARED_SC = ["clusters", "singletons", "largest_cluster", "largest_cluster_fraction", "spans"]

# The plot area of the canvas (app.js: left 90, top 70, 560 px square for a cubic lattice).
PLOT = (90, 70, 560, 560)


def cli_report(*args):
    """report.json of `tunnelgrid run ARGS` (CPU engine: the reference)."""
    with tempfile.TemporaryDirectory() as out:
        subprocess.run(
            [str(BIN), "run", "--engine", "cpu", "--out", out, *args],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        return json.loads((Path(out) / "report.json").read_text())


def cli_bench_keys():
    """Keys of `tunnelgrid bench --json`: of a record, and of its stage objects."""
    with tempfile.TemporaryDirectory() as out:
        path = Path(out) / "bench.json"
        subprocess.run(
            [str(BIN), "bench", "--engine", "cpu", "--preset", "bernoulli-site",
             "--sizes", "8", "--repeat", "1", "--json", str(path)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        records = json.loads(path.read_text())
    return record_keys(records)


def record_keys(records):
    assert isinstance(records, list) and records, records
    keys = {tuple(sorted(r)) for r in records}
    stage_keys = {tuple(sorted(r[s])) for r in records for s in ("bonds", "labels", "stats", "whole")}
    return keys, stage_keys


def compared(report):
    out = {k: report[k] for k in COMPARED}
    out["sc_network"] = {k: report["sc_network"][k] for k in COMPARED_SC}
    return out


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve_web():
    handler = functools.partial(QuietHandler, directory=str(WEB))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class Page:
    """One browser page on the site, with helpers that act as a user does."""

    def __init__(self, browser, url):
        self.page = browser.new_page(viewport={"width": 1280, "height": 900})
        self.errors = []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        # The page's Rust panics reach the console (lib.rs's hook); the browser's own notes
        # (e.g. "No available adapters." without WebGPU) are not errors of the page.
        self.page.on("console", lambda m: "panicked" in m.text and self.errors.append(m.text))
        start = time.monotonic()
        self.page.goto(url)
        self.wait_idle(lambda s: s["analyses"] >= 1, timeout_s=180)
        self.load_s = time.monotonic() - start

    def state(self):
        return self.page.evaluate(
            """() => { const t = window.tunnelgrid; return t && {
                kind: t.kind, busy: t.busy, pending: t.pending, analyses: t.analyses,
                heatmapsDrawn: t.heatmapsDrawn, request: t.request, report: t.report,
                heatmap: t.heatmap, error: t.error, fallbackReason: t.fallbackReason,
                loadToFirstHeatmapMs: t.loadToFirstHeatmapMs, status: document.body.dataset.status,
                device: t.device }; }"""
        )

    def wait_idle(self, done, timeout_s=120):
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            s = self.state()
            if s and s["status"] == "failed":
                raise AssertionError(f"the page failed: {s['error']}")
            if s and not s["busy"] and not s["pending"] and (done(s) or s["error"]):
                if s["error"]:
                    raise AssertionError(f"the page reports an error: {s['error']}")
                return s
            time.sleep(0.05)
        raise AssertionError(f"the page did not settle in {timeout_s} s: {self.state()}")

    def analyse(self, preset, size, seed, pressure=None, temperature=None, p=None):
        """Sets the controls as a user does (select, type, drag) and waits for the analysis."""
        pg = self.page
        if pg.eval_on_selector("#preset", "e => e.value") != preset:
            pg.select_option("#preset", preset)
        pg.select_option("#size", str(size))
        pg.fill("#seed", str(seed))
        pg.dispatch_event("#seed", "change")
        if pressure is not None:
            pg.fill("#pressure", str(pressure))
        if temperature is not None:
            pg.fill("#temperature", str(temperature))
        if p is not None:
            pg.fill("#p", str(p))

        def matches(s):
            r = s["request"]
            return (
                r is not None
                and r["preset"] == preset
                and r["size"] == size
                and r["seed"] == seed
                and (pressure is None or r["pressure"] == pressure)
                and (temperature is None or r["temperature"] == temperature)
                and (p is None or abs(r["p"] - p) < 1e-12)
            )

        return self.wait_idle(matches)

    def plot_pixels(self):
        """The plot area's RGBA bytes, hashed, with its count of distinct colours and its share
        of non-white pixels."""
        x, y, w, h = PLOT
        return self.page.evaluate(
            f"""() => {{
                const d = document.getElementById('heatmap').getContext('2d')
                    .getImageData({x + 1}, {y + 1}, {w - 2}, {h - 2}).data;
                const colours = new Set();
                let coloured = 0, hash = 0;
                for (let i = 0; i < d.length; i += 4) {{
                    const c = (d[i] << 16) | (d[i + 1] << 8) | d[i + 2];
                    colours.add(c);
                    if (c !== 0xffffff) coloured += 1;
                    hash = (Math.imul(hash, 31) + c) | 0;
                }}
                return {{ hash, colours: colours.size, coloured: coloured / (d.length / 4) }};
            }}"""
        )

    def states_shown(self):
        return [self.page.inner_text(f"#state-{a}") for a in "xyz"]

    def screenshot(self, name):
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / name), full_page=True)


class BrowserTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not (WEB / "pkg" / "tunnelgrid_web_bg.wasm").is_file():
            raise unittest.SkipTest("web/pkg is not built: run scripts/web build")
        cls.server = serve_web()
        cls.url = f"http://127.0.0.1:{cls.server.server_port}/"
        cls.playwright = sync_playwright().start()
        cls.webgpu = cls.playwright.chromium.launch(
            executable_path=CHROMIUM, args=QUIET + ["--enable-unsafe-webgpu"]
        )
        cls.costs = {}

    @classmethod
    def tearDownClass(cls):
        cls.webgpu.close()
        cls.playwright.stop()
        cls.server.shutdown()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        costs = ARTIFACTS / "costs.json"
        old = json.loads(costs.read_text()) if costs.is_file() else {}
        old.update(cls.costs)
        costs.write_text(json.dumps(old, indent=2) + "\n")

    def gpu_page(self):
        page = Page(self.webgpu, self.url)
        s = page.state()
        self.assertEqual(s["kind"], "gpu", f"WebGPU was enabled, yet: {s['fallbackReason']}")
        return page

    def test_equal_results_in_each_state_and_at_pc(self):
        page = self.gpu_page()
        self.costs["webgpu_load_to_first_heatmap_ms"] = page.state()["loadToFirstHeatmapMs"]
        for state, (pressure, temperature) in STATE_POINTS.items():
            with self.subTest(state=state):
                cli = cli_report("--preset", "default", "--size", str(SIZE), "--seed", str(SEED),
                                 "--pressure", str(pressure), "--temperature", str(temperature))
                self.assertEqual(set(cli["states"].values()), {state}, "the CLI's state at this point")
                s = page.analyse("default", SIZE, SEED, pressure=pressure, temperature=temperature)
                self.assertIn("gpu", s["report"]["engine"])
                self.assertEqual(compared(s["report"]), compared(cli))
        cli = cli_report("--preset", "bernoulli-site", "--size", str(BERNOULLI_SIZE), "--seed", "7")
        p_c = cli["p"]
        s = page.analyse("bernoulli-site", BERNOULLI_SIZE, 7, p=p_c)
        self.assertEqual(s["report"]["p"], p_c)
        self.assertGreater(cli["clusters"], 100, "p_c gives many clusters to compare")
        self.assertEqual(compared(s["report"]), compared(cli))
        self.assertEqual(page.errors, [])

    def test_sliders_update_heatmap_and_states_with_a_screenshot_per_state(self):
        page = self.gpu_page()
        seen = {}
        # Each point is reached by moving the sliders from the last one. The tunnel clusters
        # tell insulating from conducting, the superconducting network conducting from
        # superconducting: each state draws its own pair of pictures.
        for state, (pressure, temperature) in STATE_POINTS.items():
            page.page.check('input[name="field"][value="clusters"]')
            drawn = page.state()["heatmapsDrawn"]
            s = page.analyse("default", SIZE, SEED, pressure=pressure, temperature=temperature)
            self.assertGreater(s["heatmapsDrawn"], drawn, "a new analysis draws a new heat map")
            self.assertEqual(s["heatmap"]["field"], "clusters")
            self.assertEqual(page.states_shown(), [state] * 3)
            clusters = page.plot_pixels()
            self.assertGreater(clusters["coloured"], 0.5, f"{state}: the heat map is mostly blank")
            page.screenshot(f"webgpu-{state}.png")
            page.page.check('input[name="field"][value="sc"]')
            page.page.wait_for_function("window.tunnelgrid.heatmap.field === 'sc'")
            sc = page.plot_pixels()
            self.assertGreater(sc["coloured"], 0.5, f"{state}: the sc heat map is mostly blank")
            page.screenshot(f"webgpu-{state}-sc-network.png")
            seen[state] = (clusters["hash"], sc["hash"])
        self.assertEqual(len(set(seen.values())), 3, f"each state draws its own heat maps: {seen}")
        page.page.check('input[name="field"][value="clusters"]')
        # Insulating clusters are many and finite: the picture has many colours.
        page.analyse("default", SIZE, SEED, pressure=STATE_POINTS["insulating"][0],
                     temperature=STATE_POINTS["insulating"][1])
        self.assertGreater(page.plot_pixels()["colours"], 3)
        # Another field of the same analysis redraws the canvas, with its colour bar.
        before = page.plot_pixels()["hash"]
        page.page.check('input[name="field"][value="tunnels"]')
        page.page.wait_for_function("window.tunnelgrid.heatmap.field === 'tunnels'")
        self.assertNotEqual(page.plot_pixels()["hash"], before)
        page.screenshot("webgpu-tunnel-density.png")
        self.assertEqual(page.errors, [])

    def test_benchmark_completes_with_the_cli_bench_schema(self):
        page = self.gpu_page()
        sizes = page.state()["device"]["bench_sizes"]
        self.assertEqual(sizes[:3], [64, 128, 256])
        start = time.monotonic()
        page.page.click("#bench-run")
        page.page.wait_for_function("window.tunnelgrid.bench !== null", timeout=540_000)
        self.costs["webgpu_benchmark_s"] = round(time.monotonic() - start, 1)
        records = json.loads(page.page.evaluate("window.tunnelgrid.benchJson"))
        self.assertEqual(record_keys(records), cli_bench_keys())
        self.assertEqual([r["size"] for r in records], sizes)
        for r in records:
            self.assertEqual(r["sites"], r["size"] ** 3)
            self.assertIn("gpu", r["engine"])
            for stage in ("bonds", "labels", "stats", "whole"):
                self.assertGreater(r[stage]["msites_per_s"], 0)
        self.assertTrue(page.page.is_visible("#bench-download"))
        self.costs["webgpu_benchmark"] = records
        page.screenshot("webgpu-benchmark.png")
        self.assertEqual(page.errors, [])

    def test_without_webgpu_the_page_falls_back_to_the_cpu_engine_and_says_so(self):
        browser = self.playwright.chromium.launch(executable_path=CHROMIUM, args=QUIET)
        try:
            page = Page(browser, self.url)
            s = page.state()
            self.assertEqual(s["kind"], "cpu")
            self.assertIn("Falling back to the CPU engine", page.page.inner_text("#engine"))
            self.costs["cpu_fallback_load_to_first_heatmap_ms"] = s["loadToFirstHeatmapMs"]
            pressure, temperature = STATE_POINTS["superconducting"]
            cli = cli_report("--preset", "default", "--size", str(SIZE), "--seed", str(SEED),
                             "--pressure", str(pressure), "--temperature", str(temperature))
            s = page.analyse("default", SIZE, SEED, pressure=pressure, temperature=temperature)
            self.assertIn("cpu", s["report"]["engine"])
            self.assertEqual(compared(s["report"]), compared(cli))
            self.assertGreater(page.plot_pixels()["coloured"], 0.5)
            page.screenshot("cpu-fallback.png")
            self.assertEqual(page.errors, [])
        finally:
            browser.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
