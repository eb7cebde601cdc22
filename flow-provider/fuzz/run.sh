#!/usr/bin/env bash
# Fuzzes the nfcapd decoder with libFuzzer for SECONDS (default 60), starting from the test
# fixtures, on the stable toolchain: the target is built with LLVM's coverage instrumentation
# (what cargo-fuzz adds, minus the nightly-only sanitizer; the decoder has no unsafe code).
# A panic, a timeout or memory beyond -rss_limit_mb stops the run with a non-zero exit and
# leaves the input in artifacts/.   usage: flow-provider/fuzz/run.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-60}
export CARGO_TARGET_DIR=${FUZZ_TARGET_DIR:-${CARGO_TARGET_DIR:-target}/fuzz}
export RUSTFLAGS="--cfg fuzzing -Cdebug-assertions -Coverflow-checks -Cpasses=sancov-module \
-Cllvm-args=-sanitizer-coverage-level=4 -Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
-Cllvm-args=-sanitizer-coverage-pc-table -Cllvm-args=-sanitizer-coverage-trace-compares"
# An explicit --target keeps the instrumentation out of build scripts (as cargo-fuzz does).
host=$(rustc -vV | sed -n 's/^host: //p')
cargo build --release -q --target "$host" --bin nfcapd_decode
mkdir -p corpus artifacts
cp -n ../../tests/data/nfcapd/*.nfcapd corpus/ 2>/dev/null || true
"$CARGO_TARGET_DIR/$host/release/nfcapd_decode" -max_total_time="$seconds" -rss_limit_mb=512 \
    -timeout=10 -max_len=262144 -artifact_prefix=artifacts/ -print_final_stats=1 corpus
