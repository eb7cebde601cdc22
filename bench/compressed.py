#!/usr/bin/env python3
"""Benchmark of traces with compressed fields (issue 26), one run, medians of REPS: the fields
`hist -x size -b 12` reads (packets, octets) compressed by `flow-models compress` with each codec
(the other fields stay plain, hard links of the trace's), and for each codec their size on disk
and the time of our whole `hist` against the plain trace; the zstd copy against `zstd -dc` of
the same two files to /dev/null (the CLI's decompression alone), and against DuckDB reading the
same two columns from a zstd Parquet file (the same hist query as bench/hist_duckdb.py, timed
inside DuckDB). hist outputs are checked byte for byte against the plain trace's.

    python bench/compressed.py [TRACE] [REPS]      # default /work/bench-data/t10m_export, 5
    CODECS=zstd,lz4 python bench/compressed.py /work/bench-data/t50m 5
"""
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
TRACE = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else '/work/bench-data/t10m_export')
REPS = int(sys.argv[2]) if len(sys.argv) > 2 else 5
CODECS = os.environ.get('CODECS', 'zstd,lz4,gz,bz2,xz').split(',')
OURS = os.environ.get('OURS') or str(
    pathlib.Path(os.environ.get('CARGO_TARGET_DIR', ROOT / 'target')) / 'release' / 'flow-models')
DUCK_PY = os.environ.get('DUCK_PY', str(pathlib.Path.home() / '.cache/flow-models/duckdb/bin/python'))
WORK = pathlib.Path(os.environ.get('WORK', f'{TRACE}.compressed'))
FIELDS = ['packets', 'octets']
HIST = ['hist', '-x', 'size', '-b', '12']
EXT = {'zstd': 'zst', 'lz4': 'lz4', 'gz': 'gz', 'bz2': 'bz2', 'xz': 'xz'}


def timed(cmd, stdout=subprocess.PIPE):
    start = time.perf_counter()
    out = subprocess.run(cmd, stdout=stdout, stderr=subprocess.DEVNULL, check=True).stdout
    return time.perf_counter() - start, out


def median(cmd, stdout=subprocess.PIPE):
    runs = [timed(cmd, stdout) for _ in range(REPS)]
    return statistics.median(t for t, _ in runs), runs[0][1]


def copy_with(codec):
    """The trace with FIELDS compressed by `codec` (made once, kept in WORK)."""
    out = WORK / codec
    if not (out / f'octets.Q.{EXT[codec]}').exists():
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        for f in TRACE.iterdir():
            os.link(f, out / f.name)
        for name in FIELDS:  # compress replaces the file: break the hard links first
            (out / f'{name}.Q').unlink()
            shutil.copyfile(TRACE / f'{name}.Q', out / f'{name}.Q')
        start = time.perf_counter()
        subprocess.run([OURS, 'compress', '--codec', codec, str(out), *FIELDS], check=True,
                       stderr=subprocess.DEVNULL)
        print(f'  (compressing with {codec} took {time.perf_counter() - start:.1f} s)', flush=True)
    return out


def size(trace):
    return sum(f.stat().st_size for f in trace.iterdir() if f.name.split('.')[0] in FIELDS)


def main():
    print(f'trace {TRACE}, fields {FIELDS} compressed, {REPS} runs each, medians')
    plain_t, plain_out = median([OURS, *HIST, str(TRACE)])
    plain_size = size(TRACE)
    print(f'{"plain":>6}  {plain_size / 1e6:9.1f} MB  hist {plain_t:.3f} s')
    results = {}
    for codec in CODECS:
        trace = copy_with(codec)
        t, out = median([OURS, *HIST, str(trace)])
        assert out == plain_out, f'{codec}: hist output differs from the plain trace'
        s = size(trace)
        results[codec] = (trace, t)
        print(f'{codec:>6}  {s / 1e6:9.1f} MB ({plain_size / s:4.1f}x smaller)  hist {t:.3f} s '
              f'({t / plain_t:.2f}x the plain trace), output identical', flush=True)
    if 'zstd' in results:
        trace, ours = results['zstd']
        files = [str(trace / f'{name}.Q.zst') for name in FIELDS]
        cli, _ = median(['zstd', '-dc', *files], stdout=subprocess.DEVNULL)
        print(f'zstd -dc of the same files: {cli:.3f} s; our whole hist {ours:.3f} s '
              f'({cli / ours:.2f}x the CLI\'s decompression alone)')
        duck(ours, plain_out)


DUCK = r'''
import duckdb, numpy as np, pyarrow as pa, pathlib, statistics, sys, time
trace, parquet, reps = pathlib.Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
con = duckdb.connect()
con.execute('SET enable_progress_bar = false')  # it would print into the output
if not pathlib.Path(parquet).exists():
    table = pa.table({n: pa.array(np.memmap(trace / f'{n}.Q', dtype='<u8', mode='r'))
                      for n in ('packets', 'octets')})
    con.register('flows', table)
    con.execute(f"COPY flows TO '{parquet}.tmp' (FORMAT parquet, COMPRESSION zstd)")
    pathlib.Path(parquet + '.tmp').rename(parquet)
width = '(1::UHUGEINT << greatest(0, length(bin(v)) - 12)::UHUGEINT)'
query = f"""
WITH exact AS (SELECT octets AS v, count(*) AS f, sum(packets) AS p, sum(octets) AS o
               FROM read_parquet('{parquet}') GROUP BY octets),
binned AS (SELECT (v // {width}) * {width} AS lo, {width} AS w, f, p, o FROM exact)
SELECT lo, lo + w AS hi, sum(f), sum(p), sum(o) FROM binned GROUP BY lo, w ORDER BY lo"""
times = []
for _ in range(reps):
    start = time.perf_counter()
    rows = con.execute(query).fetchall()
    times.append(time.perf_counter() - start)
out = ['bin_lo,bin_hi,flows_sum,packets_sum,octets_sum'] + [','.join(str(int(v)) for v in r) for r in rows]
sys.stdout.write('\n'.join(out) + '\n')
print(statistics.median(times), pathlib.Path(parquet).stat().st_size, file=sys.stderr)
'''


def duck(ours, plain_out):
    if not pathlib.Path(DUCK_PY).exists():
        print(f'DuckDB skipped: no {DUCK_PY} (bench/s3.sh makes that venv)')
        return
    parquet = str(WORK / 'packets_octets.zstd.parquet')
    p = subprocess.run([DUCK_PY, '-c', DUCK, str(TRACE), parquet, str(REPS)],
                       capture_output=True, check=True)
    t, psize = p.stderr.decode().split()[-2:]
    same = p.stdout == plain_out
    print(f'DuckDB over a zstd Parquet file of the same columns ({int(psize) / 1e6:.1f} MB): '
          f'query {float(t):.3f} s (our whole hist {ours:.3f} s: {float(t) / ours:.2f}x); '
          f'output {"identical" if same else "DIFFERENT"}')


if __name__ == '__main__':
    main()
