#!/usr/bin/env python3
"""Benchmark of `flow-models hist` (release build) against its peers on the same trace, as whole
processes on a warm page cache: the original's numpy tool `flow_models.hist_np` and DuckDB over
the memory-mapped columns (bench/hist_duckdb.py). Each command runs REPS times; prints medians,
ratios, peak RSS and peak anonymous RSS (RssAnon sampled from /proc every 2 ms: the mapped trace
pages count in RSS but are page cache, not memory the tool allocates). Checks that all three
outputs are identical.

    python bench/hist.py [TRACE] [REPS]      # default /work/bench-data/t50m, 5
    OURS=path/to/flow-models python bench/hist.py ...
"""
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
TRACE = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else '/work/bench-data/t50m')
REPS = int(sys.argv[2]) if len(sys.argv) > 2 else 5
BITS = 12
OURS = os.environ.get('OURS') or str(
    pathlib.Path(os.environ.get('CARGO_TARGET_DIR', ROOT / 'target')) / 'release' / 'flow-models')
PY = sys.executable


def status_kb(pid, key):
    try:
        with open(f'/proc/{pid}/status') as f:
            for line in f:
                if line.startswith(key):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def run(cmd, out_path):
    """Wall time (s), peak sampled RssAnon and VmRSS (MB) and stderr of one run."""
    with open(out_path, 'wb') as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=out, stderr=err)
        anon = rss = 0
        while p.poll() is None:
            anon = max(anon, status_kb(p.pid, 'RssAnon:'))
            rss = max(rss, status_kb(p.pid, 'VmRSS:'))
            time.sleep(0.002)
        wall = time.perf_counter() - start
        err.seek(0)
        stderr = err.read().decode(errors='replace')
    if p.returncode:
        sys.exit(f'{cmd} failed:\n{stderr}')
    return wall, anon / 1024, rss / 1024, stderr


def measure(name, cmd, out_path):
    walls, anons, rsss, stderrs = [], [], [], []
    for _ in range(REPS):
        wall, anon, rss, stderr = run(cmd, out_path)
        walls.append(wall)
        anons.append(anon)
        rsss.append(rss)
        stderrs.append(stderr)
    med = statistics.median(walls)
    print(f'{name:<34} median {med:7.3f} s  (min {min(walls):.3f}, max {max(walls):.3f})  '
          f'peak RssAnon {max(anons):7.1f} MB, VmRSS {max(rsss):6.0f} MB', flush=True)
    return med, max(anons), stderrs


def main():
    if not pathlib.Path(OURS).exists():
        sys.exit(f'build first: cargo build --release -p flow-cli ({OURS} missing)')
    rows = (TRACE / 'packets.Q').stat().st_size // 8
    print(f'trace {TRACE} ({rows / 1e6:.0f} M records), -b {BITS}, {REPS} runs each, '
          f'{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}')
    for f in ('packets.Q', 'octets.Q'):  # warm the page cache
        with open(TRACE / f, 'rb') as fh:
            while fh.read(1 << 24):
                pass
    tmp = pathlib.Path(tempfile.mkdtemp())
    for x in ('length', 'size'):
        print(f'\n-x {x}')
        ours, ours_anon, _ = measure('flow-models hist (ours)',
                                     [OURS, 'hist', '-i', 'binary', '-x', x, '-b', str(BITS), str(TRACE)],
                                     tmp / 'ours.csv')
        npy, npy_anon, _ = measure('flow_models.hist_np',
                                   [PY, '-m', 'flow_models.hist_np', '-i', 'binary', '-x', x, '-b', str(BITS),
                                    str(TRACE)], tmp / 'np.csv')
        duck, duck_anon, err = measure('duckdb (memmap->arrow, process)',
                                       [PY, str(ROOT / 'bench' / 'hist_duckdb.py'), str(TRACE), x, str(BITS)],
                                       tmp / 'duck.csv')
        query = statistics.median(float(e.split('duckdb query:')[1].split()[0]) for e in err)
        same = (tmp / 'ours.csv').read_bytes() == (tmp / 'np.csv').read_bytes() == (tmp / 'duck.csv').read_bytes()
        print(f'  outputs identical: {same}')
        print(f'  ours: {rows / ours / 1e6:.0f} M flows/s; hist_np/ours = {npy / ours:.1f}x; '
              f'duckdb process/ours = {duck / ours:.1f}x; duckdb query only (median {query:.3f} s)/ours = '
              f'{query / ours:.1f}x; anon memory ours {ours_anon:.1f} MB vs hist_np {npy_anon:.0f} MB, '
              f'duckdb {duck_anon:.0f} MB')


if __name__ == '__main__':
    main()
