#!/usr/bin/env python3
"""Compares two binary traces as multisets of records (used by bench/merge.sh):
prints how many records only one side has and their packet sums."""
import collections
import pathlib
import sys

import numpy as np

FIELDS = ('af prot inif outif sa0 sa1 sa2 sa3 da0 da1 da2 da3 sp dp '
          'first first_ms last last_ms packets octets aggs').split()


def load(d):
    d = pathlib.Path(d)
    cols = []
    for f in FIELDS:
        p = next(d.glob(f + '.*'))
        cols.append(np.fromfile(p, dtype=p.suffix[1:]).astype(np.uint64))
    return np.stack(cols, 1)


a, b = load(sys.argv[1]), load(sys.argv[2])
ca, cb = collections.Counter(map(tuple, a.tolist())), collections.Counter(map(tuple, b.tolist()))
only_a, only_b = ca - cb, cb - ca
pk = FIELDS.index('packets')
print(f'records: {sys.argv[1]} {len(a)}, {sys.argv[2]} {len(b)}; '
      f'only in first {sum(only_a.values())} ({sum(r[pk] * n for r, n in only_a.items())} packets), '
      f'only in second {sum(only_b.values())}')
