#!/usr/bin/env python3
"""Scan throughput: `SELECT sum(packets), sum(octets), count(*) FROM flowbin(DIR)` through
`flow-models sql` (release build) against the same sums computed by numpy over np.memmap of the
same files, both as whole processes, in one run. Prints medians and the ratio.

Page cache: a column that entered the cache through small writes or unhinted reads sits in 4 KiB
pages, and mapping 800 MB of them costs more than summing it. Our writer writes 2 MiB-aligned
chunks and our maps ask for huge pages (MADV_HUGEPAGE), so files written or first read by
flow-models are cached in 2 MiB folios. To measure that state whatever made DIR, the two columns
are evicted from the cache first and our warm-up run reads them back; numpy then maps the same
cached pages. --as-is skips the eviction (measures whatever state the cache is in).

Usage: bench/scan.py [DIR] [--reps N] [--as-is]   (DIR defaults to bench/data/t50m, made with
../shared/bench/gen_flows.py --flows 50000000 --seed 1 when missing; needs numpy + scipy)."""

import argparse
import os
import pathlib
import subprocess
import sys

from measure import bench

ROOT = pathlib.Path(__file__).resolve().parent.parent
NUMPY_SUMS = """
import sys, numpy as np
d = sys.argv[1]
p = np.memmap(d + '/packets.Q', dtype=np.uint64, mode='r')
o = np.memmap(d + '/octets.Q', dtype=np.uint64, mode='r')
print(int(p.sum()), int(o.sum()), len(p))
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dir", nargs="?", default=str(ROOT / "bench" / "data" / "t50m"))
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--python", default=sys.executable, help="python with numpy")
    ap.add_argument("--as-is", action="store_true", help="do not evict the columns first")
    args = ap.parse_args()

    trace = pathlib.Path(args.dir)
    if not trace.exists():
        gen = ROOT.parent / "shared" / "bench" / "gen_flows.py"
        subprocess.run([args.python, str(gen), "--flows", "50000000", "--seed", "1", "--out", str(trace)], check=True)

    target = os.environ.get("CARGO_TARGET_DIR", str(ROOT / "target"))
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "flow-cli"], cwd=ROOT, check=True)
    ours = [f"{target}/release/flow-models", "sql", "-q", "--format", "csv", "-c",
            f"SELECT sum(packets), sum(octets), count(*) FROM flowbin('{trace}')"]
    peer = [args.python, "-c", NUMPY_SUMS, str(trace)]

    rows = os.path.getsize(trace / "packets.Q") // 8
    if not args.as_is:
        for name in ("packets.Q", "octets.Q"):
            fd = os.open(trace / name, os.O_RDONLY)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            os.close(fd)
        print("evicted packets.Q and octets.Q from the page cache; our warm-up run reads them back")
    print(f"trace {trace}: {rows:,} records; {args.reps} runs each after one warm-up\n")
    t_ours, _, out_ours = bench("flow-models sql (DataFusion)", ours, args.reps)
    t_peer, _, out_peer = bench("numpy memmap sum", peer, args.reps)
    got = out_ours.strip().splitlines()[-1].split(",")
    want = out_peer.split()
    if got != want:
        raise SystemExit(f"results differ: ours {got} numpy {want}")
    print(f"\nresults equal: packets={want[0]} octets={want[1]} rows={want[2]}")
    print(f"ours {rows / t_ours / 1e9:.2f} G rows/s (two u64 columns, whole process); "
          f"numpy {rows / t_peer / 1e9:.2f} G rows/s")
    print(f"speed-up vs numpy: {t_peer / t_ours:.2f}x")


if __name__ == "__main__":
    main()
