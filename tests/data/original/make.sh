#!/usr/bin/env bash
# Regenerates the expected outputs of the original flow-models 2.2 (pip install flow-models==2.2)
# for examples/data/sample. Run from the repository root with that Python on PATH or as $PY.
set -euo pipefail
PY=${PY:-python3}
out=tests/data/original
$PY -m flow_models.convert -i binary -o csv_flow -O - --count-in 2000 examples/data/sample > $out/head2000.csv_flow
$PY -m flow_models.convert -i binary -o csv_flow -O - --skip-in 100 --count-in 20000 --skip-out 50 --count-out 3000 \
    --filter-expr "(prot==17) & ((sp==53) | (dp==53))" examples/data/sample > $out/dns_cut.csv_flow
# anonymize: Crypto-PAn of sa3/da3 with a 32-character key (IPv4 and af 0 flows only); the
# original needs `pip install cryptography` for it.
$PY -m flow_models.anonymize -i binary -o csv_flow -O - --skip-in 10 --count-in 3000 \
    --key boojahyoo3vaeToong0Eijee7Ahz3yee examples/data/sample > $out/anonymize_3000.csv_flow
