#!/usr/bin/env python3
"""A/B of builds of flow-models on one command: each binary runs it in turn, REPS rounds
interleaved (so that the machine's drift hits every build alike), and the medians of wall time
and CPU time (user + system of the process and its threads) are printed with whether every
build wrote the same standard output. On a noisy VM compare builds this way, in one run, rather
than numbers of different runs.

    python bench/ab.py [--reps N] [--one-core] BIN [BIN ...] -- ARGS...
    python bench/ab.py /tmp/fm_old /tmp/fm_new -- hist -i binary -x size -b 12 /work/bench-data/t50m
    python bench/ab.py --one-core /tmp/fm_old /tmp/fm_new -- sql -q -c "SELECT count(*) FROM nfcapd('day/')"

`--one-core` pins each run to CPU 0 (`taskset -c 0`), as bench/nfcapd.sh's one-core cases.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time


def run(cmd):
    """Wall seconds, CPU seconds and standard output of one run of `cmd`."""
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(p.pid, 0)
        wall = time.perf_counter() - start
        if status != 0:
            sys.exit(f'{" ".join(cmd)} failed (status {status})')
        out.seek(0)
        return wall, usage.ru_utime + usage.ru_stime, out.read()


def main():
    argv = sys.argv[1:]
    if '--' not in argv:
        sys.exit(__doc__)
    at = argv.index('--')
    parser = argparse.ArgumentParser(usage=__doc__)
    parser.add_argument('--reps', type=int, default=9)
    parser.add_argument('--one-core', action='store_true')
    parser.add_argument('bins', nargs='+')
    opts = parser.parse_args(argv[:at])
    args = argv[at + 1:]
    pin = ['taskset', '-c', '0'] if opts.one_core else []
    walls = {b: [] for b in opts.bins}
    cpus = {b: [] for b in opts.bins}
    outputs = {}
    for _ in range(opts.reps):
        for b in opts.bins:
            wall, cpu, out = run(pin + [b] + args)
            walls[b].append(wall)
            cpus[b].append(cpu)
            outputs[b] = out
    first = opts.bins[0]
    for b in opts.bins:
        w, c = statistics.median(walls[b]), statistics.median(cpus[b])
        vs = statistics.median(walls[first]) / w
        print(f'{b:40} wall {w:.3f} s  cpu {c:.3f} s  ({vs:.2f}x the first)')
    same = len(set(outputs.values())) == 1
    print(f'medians of {opts.reps}; outputs identical: {"yes" if same else "NO"}')


if __name__ == '__main__':
    main()
