#!/bin/sh
# Expected outputs of `python -m flow_models.summary` (flow-models 2.2) for the summary tests:
# the 10 published histograms kept in ../mixture/reference and four histograms of the sample in
# tests/data/hist (two with duration_sum/rate_sum columns, which add "Average flow duration/rate").
# Run from this directory: PYTHON=/path/to/venv/bin/python ./make_fixtures.sh
set -eu
PY=${PYTHON:-python3}
REF=../mixture/reference
HIST=../../../../tests/data/hist
run() { # name file
    "$PY" -m flow_models.summary "$2" > "$1.tex" 2>/dev/null
    echo "$2" > "$1.src"
}
for set in agh_2015 agh_2015061019_IPv4_anon; do
    for f in "$REF/$set"/histograms/*/*.csv; do
        proto=$(basename "$(dirname "$f")")
        run "$set-$proto-$(basename "$f" .csv)" "$f"
    done
done
for h in length_b12_cols size_b12_cols length_b0 size_b12_udp; do
    run "sample-$h" "$HIST/$h.csv"
done
