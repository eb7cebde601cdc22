#!/usr/bin/env python3
"""Checks a sorted trace against the original's order (used by bench/sort.sh):

    verify_sort.py INPUT SORTED KEY... [--reverse]

computes the permutation as flow_models.sort.create_index does (numpy lexsort of the keys,
flipped for --reverse) and compares every column of SORTED with INPUT[permutation], one
column at a time so that 50 M records fit in memory."""
import pathlib
import sys

import numpy as np

args = [a for a in sys.argv[1:] if a != '--reverse']
reverse = '--reverse' in sys.argv
src, dst, keys = pathlib.Path(args[0]), pathlib.Path(args[1]), args[2:]


def column(d, name):
    p = next(d.glob(f'{name}.*'))
    return p.name, np.memmap(p, dtype=p.suffix[1:], mode='r')


perm = np.lexsort([column(src, k)[1] for k in reversed(keys)])
if reverse:
    perm = np.flip(perm)
bad = []
for f in sorted(src.iterdir()):
    name, want = column(src, f.stem)
    got = np.memmap(dst / name, dtype=f.suffix[1:], mode='r')
    if got.shape != want.shape or not np.array_equal(got, want[perm]):
        bad.append(name)
print(f'{len(perm)} records, {len(list(src.iterdir()))} columns: '
      + ('identical to the original order' if not bad else f'DIFFERENT: {bad}'))
sys.exit(1 if bad else 0)
