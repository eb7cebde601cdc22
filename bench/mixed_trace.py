"""Columns of one value in a binary trace, and a copy of the trace in which every column varies.

The sort writes the columns of one value before it has the order (sorted, they are the input):
an IPv4-only trace has seven (af and the upper three words of both addresses) and aggs before a
merge. The copy makes a tenth of the flows IPv6 (af 10, random upper address words) and aggs 1
or 2, which shows the sort's speed on traces without such columns.

    python bench/mixed_trace.py DIR          # prints the columns of one value
    python bench/mixed_trace.py SRC DST      # the varied copy
"""
import os
import shutil
import sys

import numpy as np


def columns(trace, mode="r"):
    for f in sorted(os.listdir(trace)):
        yield f.split(".")[0].lstrip("_"), np.memmap(
            os.path.join(trace, f), dtype=f.split(".")[-1], mode=mode
        )


def one_valued(trace):
    return [name for name, c in columns(trace) if len(c) and c.min() == c.max()]


def vary(src, dst):
    shutil.copytree(src, dst)
    c = dict(columns(dst, "r+"))
    rng = np.random.default_rng(1)
    v6 = rng.random(len(c["af"])) < 0.1
    c["af"][v6] = 10
    for name in ["sa0", "sa1", "sa2", "da0", "da1", "da2"]:
        c[name][v6] = rng.integers(0, 2**32, int(v6.sum()), dtype=np.uint32)
    c["aggs"][:] = 1
    c["aggs"][rng.random(len(c["aggs"])) < 0.05] = 2
    for a in c.values():
        a.flush()


if len(sys.argv) == 3:
    vary(sys.argv[1], sys.argv[2])
trace = sys.argv[-1]
print(f"{trace}: columns of one value: {' '.join(one_valued(trace)) or 'none'}")
