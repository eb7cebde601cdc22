#!/usr/bin/env python3
"""Benchmark of `flow-models hist` (release build) against its floor and its peers on the same
trace, as whole processes on a warm page cache: the floor is our own plain scan of the same
columns (`flow-models sql` summing every value the histogram reads: DataFusion answers count,
min and max from statistics, never sum, so every value is read), the peers the original's numpy tool `flow_models.hist_np` and DuckDB over the
memory-mapped columns (bench/hist_duckdb.py, length and size only). Every x at -b 12 and at
-b 0 (size -b 0 prints about a million bins: measured, no goal). Each command runs REPS times
(the peers PEER_REPS); prints medians, ratios (hist / scan: issue 28's goal 1.5x for length and
size, 2x for duration and rate), peak RSS and peak anonymous RSS (RssAnon sampled from /proc
every 2 ms), and checks that the outputs are identical.

    python bench/hist.py [TRACE] [REPS]      # default /work/bench-data/t50m, 5
    OURS=path/to/flow-models PEERS=0 CASES=length:12,size:12 python bench/hist.py ...
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
PEER_REPS = int(os.environ.get('PEER_REPS', min(REPS, 3)))
PEERS = os.environ.get('PEERS', '1') == '1'
CASES = [(c.split(':')[0], int(c.split(':')[1])) for c in os.environ.get(
    'CASES', 'length:12,size:12,duration:12,rate:12,length:0,size:0').split(',')]
# The columns each x reads (what the floor sums).
READS = {'length': ['packets', 'octets'], 'size': ['packets', 'octets'],
         'duration': ['packets', 'octets', 'first', 'first_ms', 'last', 'last_ms'],
         'rate': ['packets', 'octets', 'first', 'first_ms', 'last', 'last_ms']}
OURS = os.environ.get('OURS') or str(
    pathlib.Path(os.environ.get('CARGO_TARGET_DIR', ROOT / 'target')) / 'release' / 'flow-models')
PY = sys.executable
# DuckDB's Python (numpy, pyarrow, duckdb): bench/s3.sh's venv by default.
DUCK_PY = os.environ.get('DUCK_PY', str(pathlib.Path.home() / '.cache/flow-models/duckdb/bin/python'))


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


def measure(name, cmd, out_path, reps=None):
    walls, anons, rsss, stderrs = [], [], [], []
    for _ in range(reps or REPS):
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
    print(f'trace {TRACE} ({rows / 1e6:.0f} M records), {REPS} runs each ({PEER_REPS} for the '
          f'peers), {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}')
    for f in READS['duration']:  # warm the page cache
        for path in TRACE.glob(f'{f}.*'):
            with open(path, 'rb') as fh:
                while fh.read(1 << 24):
                    pass
    tmp = pathlib.Path(tempfile.mkdtemp())
    summary = []
    for x, bits in CASES:
        print(f'\n-x {x} -b {bits}')
        ours, ours_anon, _ = measure('flow-models hist (ours)',
                                     [OURS, 'hist', '-i', 'binary', '-x', x, '-b', str(bits), str(TRACE)],
                                     tmp / 'ours.csv')
        sums = ', '.join(f'sum({c})' for c in READS[x])
        scan, _, _ = measure('scan of the same columns (floor)',
                             [OURS, 'sql', '-q', '-c', f"SELECT {sums} FROM flowbin('{TRACE}')"],
                             tmp / 'scan.txt')
        line = f'  hist / scan = {ours / scan:.2f}x'
        if PEERS and not (x == 'size' and bits == 0):
            npy, npy_anon, _ = measure('flow_models.hist_np',
                                       [PY, '-m', 'flow_models.hist_np', '-i', 'binary', '-x', x, '-b',
                                        str(bits), str(TRACE)], tmp / 'np.csv', PEER_REPS)
            same = (tmp / 'ours.csv').read_bytes() == (tmp / 'np.csv').read_bytes()
            line += f'; hist_np / ours = {npy / ours:.1f}x (same output: {same})'
            if x in ('length', 'size'):
                duck, _, err = measure('duckdb (memmap->arrow, process)',
                                       [DUCK_PY, str(ROOT / 'bench' / 'hist_duckdb.py'), str(TRACE), x, str(bits)],
                                       tmp / 'duck.csv', PEER_REPS)
                query = statistics.median(float(e.split('duckdb query:')[1].split()[0]) for e in err)
                same = (tmp / 'ours.csv').read_bytes() == (tmp / 'duck.csv').read_bytes()
                line += (f'; duckdb process / ours = {duck / ours:.1f}x, query alone {query:.3f} s '
                         f'(same output: {same})')
        print(line + f'; ours {rows / ours / 1e6:.0f} M flows/s, anon memory {ours_anon:.1f} MB')
        summary.append(f'{x:>8} -b {bits:<2}  hist {ours:6.3f} s  scan {scan:6.3f} s  '
                       f'hist/scan {ours / scan:5.2f}x')
    print('\n' + '\n'.join(summary))


if __name__ == '__main__':
    main()
