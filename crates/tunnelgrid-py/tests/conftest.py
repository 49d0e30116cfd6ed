"""Shared fixtures: the command-line binary the module is compared with, and scratch folders.

The CLI is an independent route to the same numbers: it reads volumes from .npy files, parses
flags and writes report.json, where the module takes arrays and keyword arguments. Tests that
compare the two run the binary named by TUNNELGRID_BIN (scripts/test sets it), else the
repository's target/release/tunnelgrid; a missing binary fails those tests, never skips them.
"""

import json
import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def cli():
    """Runs `tunnelgrid ARGS` and returns its stdout; a failure fails the test with stderr."""
    binary = Path(os.environ.get("TUNNELGRID_BIN", REPO / "target" / "release" / "tunnelgrid"))
    if not binary.exists():
        pytest.fail(f"the tunnelgrid binary {binary} is missing: run cargo build --release (or set TUNNELGRID_BIN)")

    def run(*args):
        proc = subprocess.run([str(binary), *map(str, args)], capture_output=True, text=True)
        if proc.returncode != 0:
            pytest.fail(f"tunnelgrid {' '.join(map(str, args))} failed ({proc.returncode}):\n{proc.stderr}")
        return proc.stdout

    return run


@pytest.fixture
def report_of(cli, tmp_path):
    """report.json of `tunnelgrid run ARGS` as a dict."""

    def run(*args):
        out = tmp_path / f"run-{len(list(tmp_path.iterdir()))}"
        cli("run", *args, "--out", out)
        return json.loads((out / "report.json").read_text())

    return run
