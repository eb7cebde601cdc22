-- Flow length histogram with 12-bit logarithmic bins and the duration, rate and aggs sums:
-- the plain GROUP BY equivalent of `flow-models hist -x length -b 12 -c duration -c rate -c aggs`
-- and of `SELECT * FROM flow_hist('flows', 'length', 12, 'duration', 'rate', 'aggs')`.
-- Sums are exact DECIMAL(38, 0); bin edges too (bin_hi reaches 2^64). Register the input first:
--   CREATE EXTERNAL TABLE flows STORED AS FLOWBIN LOCATION 'examples/data/sample';
-- For another x value replace `packets` in log_bin/log_bin_hi by `octets` (size),
-- `flow_duration(first, first_ms, last, last_ms, packets)` (duration) or
-- `flow_rate(octets, flow_duration(first, first_ms, last, last_ms, packets))` (rate);
-- for one bin per value use 0 bits. tests/hist.rs checks this file against
-- HistSpec::group_by_sql and the result against flow_hist.
SELECT
  CAST(log_bin(packets, 12) AS DECIMAL(38, 0)) AS bin_lo,
  CAST(log_bin_hi(packets, 12) AS DECIMAL(38, 0)) AS bin_hi,
  count(*) AS flows_sum,
  sum(CAST(packets AS DECIMAL(38, 0))) AS packets_sum,
  sum(CAST(octets AS DECIMAL(38, 0))) AS octets_sum,
  sum(CAST(flow_duration(first, first_ms, last, last_ms, packets) AS DECIMAL(38, 0))) AS duration_sum,
  sum(flow_rate(octets, flow_duration(first, first_ms, last, last_ms, packets))) AS rate_sum,
  sum(CAST(aggs AS DECIMAL(38, 0))) AS aggs_sum
FROM flows
GROUP BY 1, 2
ORDER BY 1;
