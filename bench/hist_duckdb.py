#!/usr/bin/env python3
"""DuckDB peer of `flow-models hist -x {length,size} -b B`: the trace's columns memory-mapped with
numpy, handed to DuckDB through pyarrow (zero-copy), and the fair query: group by the exact value
first, then bin the (few) distinct values. Prints csv_hist on stdout, the query time on stderr.

    python bench/hist_duckdb.py TRACE_DIR length 12
"""
import pathlib
import sys
import time

import duckdb
import numpy as np
import pyarrow as pa

trace, x, bits = pathlib.Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
column = {'length': 'packets', 'size': 'octets'}[x]
table = pa.table({name: pa.array(np.memmap(trace / f'{name}.Q', dtype='<u8', mode='r'))
                  for name in ('packets', 'octets')})
con = duckdb.connect()
con.register('flows', table)
# bit_length(v) = length(bin(v)) for v > 0; v = 0 has width 1 either way.
width = f'(1::UHUGEINT << greatest(0, length(bin(v)) - {bits})::UHUGEINT)' if bits else '1::UHUGEINT'
query = f"""
WITH exact AS (
    SELECT {column} AS v, count(*) AS f, sum(packets) AS p, sum(octets) AS o
    FROM flows GROUP BY {column}
), binned AS (
    SELECT (v // {width}) * {width} AS lo, {width} AS w, f, p, o FROM exact
)
SELECT lo, lo + w AS hi, sum(f) AS f, sum(p) AS p, sum(o) AS o
FROM binned GROUP BY lo, w ORDER BY lo
"""
start = time.perf_counter()
rows = con.execute(query).fetchall()
print(f'duckdb query: {time.perf_counter() - start:.3f} s', file=sys.stderr)
out = ['bin_lo,bin_hi,flows_sum,packets_sum,octets_sum']
out += [','.join(str(int(v)) for v in r) for r in rows]
sys.stdout.write('\n'.join(out) + '\n')
