#!/usr/bin/env python3
"""Scan throughput: `SELECT sum(packets), sum(octets), count(*) FROM flowbin(DIR)` through
`flow-models sql` (release build) against the same sums computed by numpy over np.memmap of the
same files, both as whole processes, in one run. Prints medians and the ratio.

Usage: bench/scan.py [DIR] [--reps N]   (DIR defaults to bench/data/t50m, made with
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
