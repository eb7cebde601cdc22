-- Pure-SQL twin of flow_merge(): merges the records of the table `flows` split by the active
-- timeout, with window functions only (gaps and islands). Proven equal to the MergeExec
-- operator by tests/merge.rs. Timeouts in milliseconds: edit `params` (15 s / 300 s here).
-- `pos` is the input position (ties in start time keep input order): read `flows` in one
-- partition for it to be meaningful.
--
-- Per key, in start order, record i meets the cache left by record i-1. With
--   L(i)  = i lasts at least active - inactive (whole seconds): a merge candidate,
--   ov(i) = i starts no later than i-1 ended,
--   S(i)  = the cache holds a record after i = L(i) AND NOT (S(i-1) AND ov(i)),
-- S alternates inside runs of consecutive long overlapping records and restarts at
-- L(i) AND NOT ov(i) elsewhere; record i merges into the cached chain when S(i-1), NOT ov(i)
-- and the gap is below the inactive timeout. Every other record starts an output flow.
WITH params AS (
    SELECT CAST(15000 AS BIGINT) AS inactive_ms, CAST(300000 AS BIGINT) AS active_ms
),
numbered AS (
    SELECT *, row_number() OVER () AS pos FROM flows
),
timed AS (
    SELECT n.*,
           CAST(n.first AS BIGINT) * 1000 + n.first_ms AS first_t,
           CAST(n.last AS BIGINT) * 1000 + n.last_ms AS last_t,
           (CAST(n.last AS BIGINT) - n.first) * 1000 >= p.active_ms - p.inactive_ms AS long,
           p.inactive_ms
    FROM numbered n CROSS JOIN params p
),
steps AS (
    SELECT *,
           row_number() OVER (PARTITION BY af, prot, inif, outif, sa0, sa1, sa2, sa3,
                                           da0, da1, da2, da3, sp, dp
                              ORDER BY first, first_ms, pos) AS seq,
           lag(last_t) OVER (PARTITION BY af, prot, inif, outif, sa0, sa1, sa2, sa3,
                                          da0, da1, da2, da3, sp, dp
                             ORDER BY first, first_ms, pos) AS prev_last_t
    FROM timed
),
flags AS (
    SELECT *,
           COALESCE(first_t <= prev_last_t, false) AS ov
    FROM steps
),
runs AS (
    SELECT *,
           sum(CASE WHEN long AND ov THEN 0 ELSE 1 END)
               OVER (PARTITION BY af, prot, inif, outif, sa0, sa1, sa2, sa3,
                                  da0, da1, da2, da3, sp, dp
                     ORDER BY seq ROWS UNBOUNDED PRECEDING) AS run
    FROM flags
),
cached AS (
    SELECT *,
           -- S at the run's start, flipped at every odd step inside the run
           (first_value(long AND NOT ov)
                OVER (PARTITION BY af, prot, inif, outif, sa0, sa1, sa2, sa3,
                                   da0, da1, da2, da3, sp, dp, run
                      ORDER BY seq ROWS UNBOUNDED PRECEDING))
           <> ((seq - min(seq) OVER (PARTITION BY af, prot, inif, outif, sa0, sa1, sa2, sa3,
                                                  da0, da1, da2, da3, sp, dp, run)) % 2 = 1)
           AS s
    FROM runs
),
merges AS (
    SELECT *,
           COALESCE(lag(s) OVER (PARTITION BY af, prot, inif, outif, sa0, sa1, sa2, sa3,
                                               da0, da1, da2, da3, sp, dp
                                  ORDER BY seq), false)
           AND NOT ov AND first_t - prev_last_t < inactive_ms AS merged
    FROM cached
),
chains AS (
    SELECT *,
           sum(CASE WHEN merged THEN 0 ELSE 1 END)
               OVER (PARTITION BY af, prot, inif, outif, sa0, sa1, sa2, sa3,
                                  da0, da1, da2, da3, sp, dp
                     ORDER BY seq ROWS UNBOUNDED PRECEDING) AS chain
    FROM merges
)
SELECT af, prot, inif, outif, sa0, sa1, sa2, sa3, da0, da1, da2, da3, sp, dp,
       first_value(first ORDER BY seq) AS first,
       first_value(first_ms ORDER BY seq) AS first_ms,
       last_value(last ORDER BY seq) AS last,
       last_value(last_ms ORDER BY seq) AS last_ms,
       CAST(sum(packets) AS BIGINT UNSIGNED) AS packets,
       CAST(sum(octets) AS BIGINT UNSIGNED) AS octets,
       CAST(first_value(CASE WHEN aggs = 0 THEN 1 ELSE aggs END ORDER BY seq) + count(*) - 1
            AS INT UNSIGNED) AS aggs
FROM chains
GROUP BY af, prot, inif, outif, sa0, sa1, sa2, sa3, da0, da1, da2, da3, sp, dp, chain;
