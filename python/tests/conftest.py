"""Shared fixtures: the repository's data, the CLI binary the Python results are checked
against (FLOW_MODELS_BIN, else the cargo target directory's debug build), a fresh session with
everything registered."""

from __future__ import annotations

import os
import pathlib
import subprocess

import datafusion
import pytest

import flow_models_df as fm

REPO = pathlib.Path(__file__).resolve().parents[2]
SAMPLE = REPO / "examples" / "data" / "sample"
NFCAPD = REPO / "tests" / "data" / "nfcapd"
REFERENCE = (
    REPO / "flow-udfs" / "tests" / "data" / "mixture" / "reference" / "agh_2015061019_IPv4_anon"
)


def _cli() -> pathlib.Path:
    if "FLOW_MODELS_BIN" in os.environ:
        return pathlib.Path(os.environ["FLOW_MODELS_BIN"])
    target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    return target / "debug" / "flow-models"


@pytest.fixture(scope="session")
def cli():
    """`cli(*args)`: the flow-models binary's standard output (bytes), failing on an error."""
    binary = _cli()
    if not binary.exists():
        pytest.skip(f"the flow-models binary is not built ({binary}): cargo build -p flow-cli")

    def run(*args: str | os.PathLike) -> bytes:
        done = subprocess.run([binary, *map(os.fspath, args)], capture_output=True)
        assert done.returncode == 0, done.stderr.decode()
        return done.stdout

    return run


@pytest.fixture
def ctx() -> datafusion.SessionContext:
    ctx = datafusion.SessionContext()
    fm.register_all(ctx)
    return ctx
