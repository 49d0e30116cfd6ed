"""Model, Report, fields, sweeps and studies, against the CLI's report.json, .npy, CSV and JSON."""

import csv
import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

import tunnelgrid

from conftest import REPO

# Wall-clock times differ from run to run; everything else must be equal.
TIMES = {"timings", "elapsed_s", "solver_setup_s", "transport_s"}


def without_times(report):
    return {k: v for k, v in report.items() if k not in TIMES}


@pytest.mark.parametrize(
    "preset,kwargs,flags",
    [
        ("default", dict(pressure=60, temperature=10, size=8, seed=3, resistance=True),
         ["--pressure", 60, "--temperature", 10, "--size", 8, "--seed", 3, "--resistance"]),
        ("default", dict(pressure=150, temperature=10, cells=(6, 7, 5)),
         ["--pressure", 150, "--temperature", 10, "--cells", 6, 7, 5]),
        ("layered", dict(pressure=180, temperature=10, size=6, resistance=True),
         ["--pressure", 180, "--temperature", 10, "--size", 6, "--resistance"]),
        ("bernoulli-bond", dict(p=0.6, size=10, seed=2, resistance=True),
         ["--p", 0.6, "--size", 10, "--seed", 2, "--resistance"]),
    ],
)
def test_analyze_to_dict_equals_the_cli_report_json(preset, kwargs, flags, report_of):
    report = tunnelgrid.Model.preset(preset).analyze(engine="cpu", **kwargs)
    expected = report_of("--preset", preset, "--engine", "cpu", *flags)
    assert without_times(report.to_dict()) == without_times(expected)
    assert report.states == expected["states"]
    assert report.clusters == expected["clusters"]
    assert report.tunnel_bond_fraction == expected["tunnel_bond_fraction"]
    with pytest.raises(AttributeError, match="Report has no attribute 'no_such_key'"):
        report.no_such_key


def test_from_toml_reads_what_to_toml_writes_and_presets_lists_them(cli):
    presets = tunnelgrid.Model.presets()
    listed = [line.split()[0] for line in cli("presets").splitlines() if line and not line.startswith("Show")]
    assert list(presets) == listed
    assert presets["default"].startswith("Generic sc molecular solid")
    model = tunnelgrid.Model.preset("layered")
    again = tunnelgrid.Model.from_toml(model.to_toml())
    assert again.name == "layered" and again.description == model.description
    a = model.analyze(size=6, engine="cpu", pressure=100, temperature=50).to_dict()
    b = again.analyze(size=6, engine="cpu", pressure=100, temperature=50).to_dict()
    assert without_times(a) == without_times(b)
    # The shipped TOML text itself (with its comments) reads as the same material.
    shipped = tunnelgrid.Model.from_toml(cli("preset", "layered"))
    assert shipped.to_toml() == model.to_toml()


@pytest.mark.parametrize("field,dtype", [("labels", np.uint32), ("bonds", np.uint32), ("occupancy", np.uint8),
                                         ("sc_labels", np.uint32)])
def test_fields_equal_the_cli_export(field, dtype, cli, tmp_path):
    model_flags = ["--preset", "default", "--size", 7, "--pressure", 120, "--temperature", 20, "--seed", 5]
    cli("export", *model_flags, "--field", field.replace("_", "-"), "--out", tmp_path / "f.npy")
    expected = np.load(tmp_path / "f.npy")
    got = tunnelgrid.Model.preset("default").field(field, size=7, pressure=120, temperature=20, seed=5)
    assert got.dtype == dtype and got.shape == (7, 7, 7)
    np.testing.assert_array_equal(got, expected)


def test_the_current_field_equals_the_cli_export_along_each_axis(cli, tmp_path):
    model = tunnelgrid.Model.preset("bernoulli-bond")
    for axis, numpy_axis in [("x", 2), ("z", 0)]:
        cli("export", "--preset", "bernoulli-bond", "--size", 8, "--p", 0.7, "--field", "current",
            "--axis", axis, "--out", tmp_path / f"{axis}.npy")
        expected = np.load(tmp_path / f"{axis}.npy")
        for given in (axis, numpy_axis):
            got = model.field("current", axis=given, size=8, p=0.7)
            assert got.dtype == np.float32
            np.testing.assert_array_equal(got, expected)


def test_the_gap_field_is_nan_only_where_a_site_has_no_normal_tunnel():
    model = tunnelgrid.Model.preset("default")
    gap = model.field("gap", size=6, pressure=60, temperature=300)
    bonds = model.field("bonds", size=6, pressure=60, temperature=300)
    tunnels = bonds & 0x5  # forward bonds 0 and 1 tunnel (bits 0, 2) ...
    assert gap.dtype == np.float32 and gap.shape == (6, 6, 6)
    assert np.nanmin(gap) >= 0 and np.isfinite(gap[tunnels != 0]).all()
    report = model.analyze(size=6, pressure=60, temperature=300, engine="cpu")
    assert report.mean_gap_ev is not None and np.nanmax(gap) > 0


def read_sweep_csv(path):
    with open(path) as f:
        rows = [r for r in csv.DictReader(line for line in f if not line.startswith("#"))]
    return rows


def test_sweep_equals_the_cli_sweep_csv(cli, tmp_path):
    out = tmp_path / "sweep"
    cli("sweep", "--preset", "default", "--size", 6, "--pressure", "20:160:3", "--temperature", "10:300:2",
        "--seeds", 2, "--engine", "cpu", "--out", out)
    rows = read_sweep_csv(out / "sweep.csv")
    calls = []
    got = tunnelgrid.Model.preset("default").sweep(
        [20, 90, 160], [10, 300], size=6, seeds=2, engine="cpu", progress=lambda done, total: calls.append((done, total))
    )
    assert calls == [(i, 6) for i in range(1, 7)]
    assert got["state"].shape == (2, 3, 3) and got["tunnel_bond_fraction"].shape == (2, 3)
    np.testing.assert_array_equal(got["pressure_gpa"], [20, 90, 160])
    codes = {name: code for code, name in enumerate(tunnelgrid.STATES)}
    for row in rows:
        i_t, i_p = int(row["i_t"]), int(row["i_p"])
        for a, axis in enumerate("xyz"):
            assert got["state"][i_t, i_p, a] == codes[row[f"state_{axis}"]]
            expected = float(row[f"resistivity_{axis}_ohm_m"])
            assert got["resistivity_ohm_m"][i_t, i_p, a] == pytest.approx(expected, rel=1e-8)
        for key in ("tunnel_bond_fraction", "sc_bond_fraction", "largest_cluster_fraction", "mean_cluster_size"):
            assert got[key][i_t, i_p] == pytest.approx(float(row[key]), rel=1e-8, abs=1e-300)
        assert got["conventional_state"][i_t, i_p] == ["solid", "liquid", "gas"].index(row["conventional_state"])
    assert len(set(got["state"][..., 0].ravel())) > 1, "the grid should cross a state boundary"


def test_a_progress_callback_that_raises_stops_the_sweep():
    calls = []

    def progress(done, total):
        calls.append(done)
        raise KeyError("stop here")

    with pytest.raises(KeyError, match="stop here"):
        tunnelgrid.Model.preset("default").sweep([10, 20], [300], size=4, engine="cpu", resistance=False,
                                                 progress=progress)
    assert calls == [1]


def test_threshold_equals_the_cli_study_json(cli, tmp_path):
    cli("threshold", "--lattice", "sc", "--mode", "bond", "--sizes", "6,10", "--samples", "40,20", "--seed", 4,
        "--json", tmp_path / "study.json")
    expected = json.loads((tmp_path / "study.json").read_text())
    got = tunnelgrid.threshold(lattice="sc", mode="bond", sizes=[6, 10], samples=[40, 20], seed=4)

    def strip(study):
        study = {k: v for k, v in study.items() if k not in ("seconds", "threads")}
        study["sizes"] = [{k: v for k, v in s.items() if k != "seconds"} for s in study["sizes"]]
        return study

    assert strip(got) == strip(expected)
    assert 0.2 < got["p_c"] < 0.3


def test_adapters_lists_what_the_cli_info_lists(cli):
    info = cli("info")
    listed = re.findall(r"^adapter \d+ +(.+?) — ", info, flags=re.M)
    assert [a["name"] for a in tunnelgrid.adapters()] == listed


# ------------------------------------------------------------------------------ bad input


def test_nan_pressure_is_refused():
    with pytest.raises(ValueError, match=r"^pressure NaN is out of range \(conditions.pressure_gpa\)"):
        tunnelgrid.Model.preset("default").analyze(pressure=float("nan"), size=4)
    with pytest.raises(ValueError, match=r"^sweep point pressure NaN / temperature 300: pressure_gpa = NaN is out of range"):
        tunnelgrid.Model.preset("default").sweep([float("nan")], [300], size=4)


def test_unknown_preset_is_refused():
    with pytest.raises(ValueError, match="unknown preset 'graphene'"):
        tunnelgrid.Model.preset("graphene")


def test_invalid_toml_and_keywords_are_refused():
    with pytest.raises(ValueError):
        tunnelgrid.Model.from_toml("name = 3")
    model = tunnelgrid.Model.preset("default")
    with pytest.raises(ValueError, match=r'engine="tpu" is not allowed; use one of auto, cpu, gpu'):
        model.analyze(engine="tpu")
    with pytest.raises(ValueError, match="give size or cells, not both"):
        model.analyze(size=4, cells=(4, 4, 4))
    with pytest.raises(ValueError, match="p applies to the Bernoulli modes only"):
        model.analyze(p=0.5, size=4)
    with pytest.raises(ValueError, match='field "heat" is not a field'):
        model.field("heat", size=4)
    with pytest.raises(ValueError, match="sweep varies pressure and temperature; material 'bernoulli-site'"):
        tunnelgrid.Model.preset("bernoulli-site").sweep([1], [1])
    with pytest.raises(ValueError, match="lattice=\"hex\" is not a lattice"):
        tunnelgrid.threshold(lattice="hex")
    with pytest.raises(ValueError, match=r"sizes: give distinct sizes in ascending order"):
        tunnelgrid.threshold(sizes=[16, 8])


def test_gpu_engine_without_adapter_is_refused():
    """engine="gpu" with no adapter raises RuntimeError with the reason and the way out.

    wgpu reads WGPU_BACKEND when the module opens its instance: a backend this platform does
    not have (Metal off macOS, DX12 on macOS) leaves it no adapter, as on a machine without
    a GPU driver. A child process, so this process's own adapters are untouched.
    """
    absent = "dx12" if sys.platform == "darwin" else "metal"
    code = """
import tunnelgrid
assert tunnelgrid.adapters() == [], tunnelgrid.adapters()
model = tunnelgrid.Model.preset("default")
assert model.analyze(size=4, engine="auto").engine.startswith("cpu")
try:
    model.analyze(size=4, engine="gpu")
except RuntimeError as e:
    print(e)
else:
    raise SystemExit("engine='gpu' ran without an adapter")
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=dict(os.environ, WGPU_BACKEND=absent))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("engine gpu: no GPU adapter found: install a Vulkan driver"), proc.stdout


# ------------------------------------------------------------------------------ GIL, README


def test_analyze_releases_the_gil():
    """As test_volumes.test_label_releases_the_gil, for a model analysis with its resistance."""
    tunnelgrid.Model.preset("default").analyze(size=2, engine="cpu")  # one-time work first
    counter = [0]
    stop = threading.Event()

    def count():
        import time

        while not stop.is_set():
            counter[0] += 1
            time.sleep(0)

    import time

    interval = sys.getswitchinterval()
    thread = threading.Thread(target=count)
    sys.setswitchinterval(100.0)
    try:
        thread.start()
        while counter[0] == 0:
            time.sleep(0)
        before = counter[0]
        for _ in range(3):  # several calls, as in the label test
            tunnelgrid.Model.preset("default").analyze(size=16, pressure=60, temperature=10, engine="cpu",
                                                       resistance=True)
        after = counter[0]
    finally:
        stop.set()
        sys.setswitchinterval(interval)
        thread.join()
    assert after > before, "no other thread ran while analyze computed: the GIL was held"


def test_the_readme_example_runs(capsys):
    readme = (REPO / "README.md").read_text()
    section = readme.split("\n## Python\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 1, "the README's Python section has one example"
    exec(compile(blocks[0], "README.md (Python)", "exec"), {})
    printed = capsys.readouterr().out.splitlines()
    assert len(printed) == 3
    assert printed[1].startswith("superconducting ")
