-- Flow length mixture in one statement: the histogram of `flow-models hist -x length -b 12`
-- fitted as `flow-models fit -y flows -i 100 -U 6 -L 4` fits it, returning the mixture JSON
-- ({"sum": ..., "mix": [[weight, "name", [params...]], ...]}, the layout of the original's
-- flows.json). Register the input first:
--   CREATE EXTERNAL TABLE flows STORED AS FLOWBIN LOCATION 'examples/data/sample';
-- For packet or octet weights use packets_sum or octets_sum; to start from a saved mixture pass
-- its JSON text instead of 'U6L4'. flow-udfs/tests/mixture_sql.rs checks this file against flow-models 2.2's fit
-- of its own histogram of the sample (tests/fixtures/make_fit.py).
SELECT mixture_fit(bin_lo, flows_sum, 'U6L4', 100) AS flows
FROM flow_hist('flows', 'length', 12)
