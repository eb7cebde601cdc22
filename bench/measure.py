"""Shared helpers of the benchmark scripts: run a command as a whole process several times and
report the median wall time and the peak anonymous memory (RssAnon: heap, not the page cache of
memory-mapped input files, which RSS would count)."""

import statistics
import subprocess
import time


def run_once(cmd, env=None):
    """Runs `cmd`, polling /proc for its peak RssAnon; returns (seconds, peak_anon_kib, stdout)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    peak = 0
    while proc.poll() is None:
        try:
            with open(f"/proc/{proc.pid}/status") as f:
                for line in f:
                    if line.startswith("RssAnon:"):
                        peak = max(peak, int(line.split()[1]))
        except FileNotFoundError:
            break
        time.sleep(0.005)
    out, err = proc.communicate()
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed ({proc.returncode}): {err.decode()[-2000:]}")
    return elapsed, peak, out.decode()


def bench(name, cmd, reps, env=None):
    """Runs `cmd` once to warm caches, then `reps` times; prints and returns the medians."""
    _, _, first_out = run_once(cmd, env)
    times, peaks = [], []
    for _ in range(reps):
        t, p, out = run_once(cmd, env)
        times.append(t)
        peaks.append(p)
    med = statistics.median(times)
    print(f"{name:<34} median {med:8.3f} s   (min {min(times):.3f}, max {max(times):.3f})"
          f"   peak anon {max(peaks) / 1024:7.1f} MiB")
    return med, max(peaks), first_out
