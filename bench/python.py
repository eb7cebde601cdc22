#!/usr/bin/env python3
"""The Python package against the CLI and flow-models 2.2, in one process: `hist -x length -b 12`
of a trace through `flow_models_df.hist` (the package, release build), the `flow-models hist`
process (release build), and flow-models 2.2's `flow_models.hist_np.hist` called from Python.
REPS runs each on a warm page cache; prints medians and the ratios (issue 20's goals: the
package within 1.2x of the CLI, at least 5x hist_np) and checks the three outputs are the same
csv_hist text.

    bench/python.sh [TRACE] [REPS]      # makes the venv with the release wheel, then runs this
    python bench/python.py [TRACE] [REPS]   # in a Python with flow_models_df and flow-models 2.2
"""
import io
import os
import pathlib
import statistics
import subprocess
import sys
import time

import flow_models_df as fm
from flow_models.hist_np import hist as hist_np

ROOT = pathlib.Path(__file__).resolve().parent.parent
TRACE = sys.argv[1] if len(sys.argv) > 1 else '/work/bench-data/t50m'
REPS = int(sys.argv[2]) if len(sys.argv) > 2 else 5
CLI = os.environ.get('OURS') or str(
    pathlib.Path(os.environ.get('CARGO_TARGET_DIR', ROOT / 'target')) / 'release' / 'flow-models')


def timed(name, work):
    times, out = [], None
    for _ in range(REPS):
        start = time.perf_counter()
        out = work()
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    print(f'{name:<28} median {median:7.3f} s  ({" ".join(f"{t:.3f}" for t in times)})')
    return median, out


def package():
    return fm.to_csv_hist(fm.hist(TRACE, x='length', bins=12))


def cli():
    return subprocess.run([CLI, 'hist', '-x', 'length', '-b', '12', TRACE], check=True,
                          capture_output=True).stdout.decode()


def original():
    out = io.StringIO()
    hist_np([TRACE], out, in_format='binary', bin_exp=12, x_value='length')
    return out.getvalue()


print(f'hist -x length -b 12 of {TRACE}, {REPS} runs each, {os.cpu_count()} cores')
package()  # the trace into the page cache
ours, ours_out = timed('flow_models_df.hist', package)
theirs, cli_out = timed('flow-models hist (process)', cli)
orig, orig_out = timed('flow_models.hist_np.hist', original)
print(f'package / CLI: {ours / theirs:.2f}x (goal <= 1.2x)')
print(f'hist_np / package: {orig / ours:.1f}x (goal >= 5x)')
print(f'same csv_hist as the CLI: {ours_out == cli_out}; as hist_np: {ours_out == orig_out}')
