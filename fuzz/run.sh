#!/usr/bin/env bash
# Fuzzes every parser of outside data with libFuzzer, SECONDS (default 60) per target, one
# target after the other, each starting from small slices of the project's test data. Builds
# on the stable toolchain: sancov-rustc instruments only our crates; DataFusion is built plainly
# (and at opt-level 1, see Cargo.toml).
# A panic, an input running longer than 10 s or memory beyond 512 MB stops that target with its
# input saved in artifacts/TARGET/; the script runs the remaining targets, prints one line per
# target and exits non-zero if any failed (the libFuzzer log is in artifacts/TARGET.log).
#   usage: fuzz/run.sh [SECONDS] [TARGET...]
#   FUZZ_TARGET_DIR: cargo target directory (default fuzz/target)
#   FUZZ_CORPUS_DIR: where each target's corpus grows (default fuzz/corpus)
set -euo pipefail
cd "$(dirname "$0")"
fuzz=$PWD
repo=$(cd .. && pwd)
seconds=${1:-60}
shift || true
all=(csv_flow nfdump_pipe csv_hist mixture_json mode_file flowbin_dir nfcapd_decode compressed_frames)
targets=("$@")
if (($# == 0)); then targets=("${all[@]}"); fi

export CARGO_TARGET_DIR=${FUZZ_TARGET_DIR:-$fuzz/target}
export RUSTC_WRAPPER=$fuzz/sancov-rustc
corpus_root=${FUZZ_CORPUS_DIR:-$fuzz/corpus}
cargo build --release -q --bins

# Seeds: slices of the test data, copied in (never over an input already there).
seed() { # TARGET FILE [head options]
    local dir=$corpus_root/$1 name
    name=$(realpath --relative-to="$repo" "$2" | tr / _)
    mkdir -p "$dir"
    [[ -e $dir/$name ]] && return
    if (($# > 2)); then head "${@:3}" "$2" >"$dir/$name"; else cp "$2" "$dir/$name"; fi
}
for f in "$repo"/tests/data/original/*.csv_flow; do seed csv_flow "$f" -n 12; done
for f in "$repo"/tests/data/pipe/*.pipe; do seed nfdump_pipe "$f" -n 12; done
for f in "$repo"/tests/data/hist/*.csv; do seed csv_hist "$f" -n 12; done
while IFS= read -r f; do seed mixture_json "$f"; done < <(
    find "$repo"/tests/data "$repo"/flow-udfs/tests/data -name '*.json' -size -4k | sort)
while IFS= read -r f; do seed mode_file "$f"; done < <(
    find "$repo"/flow-udfs/tests/data -name '*.mode' | sort)
for f in "$repo"/tests/data/nfcapd/*.nfcapd; do seed nfcapd_decode "$f"; done
# The example trace's column names with 16 rows' worth of bytes each: once at the top, once
# split over two day directories (one lacking a column), once with a length mismatch.
sample=$repo/examples/data/sample
rows=$(stat -c %s "$sample/af.B")
layout() { # PREFIX SKIP
    local f name
    for f in "$sample"/*.*; do
        name=${f##*/}
        [[ $name == "$2" ]] && continue
        echo "$1$name $(($(stat -c %s "$f") / rows * 16))"
    done
}
mkdir -p "$corpus_root/flowbin_dir"
layout "" "" >"$corpus_root/flowbin_dir/sample"
{ layout day-01/ ""; layout day-02/ sp.H; } >"$corpus_root/flowbin_dir/sample_days"
{ layout "" packets.Q; echo "packets.Q $((8 * 17))"; } >"$corpus_root/flowbin_dir/sample_mismatch"

# Compressed columns as the CLI tools write them: zstd in one frame and in two, xz in one
# stream and in two (a column of the sample's first rows).
cdir=$corpus_root/compressed_frames
mkdir -p "$cdir"
head -c 4000 "$sample/octets.Q" >"$cdir/.octets"
if command -v zstd >/dev/null && [[ ! -e $cdir/one.zst ]]; then
    zstd -q -c "$cdir/.octets" >"$cdir/one.zst"
    cat "$cdir/one.zst" "$cdir/one.zst" >"$cdir/two.zst"
fi
if command -v xz >/dev/null && [[ ! -e $cdir/one.xz ]]; then
    xz -c "$cdir/.octets" >"$cdir/one.xz"
    cat "$cdir/one.xz" "$cdir/one.xz" >"$cdir/two.xz"
fi
if command -v lz4 >/dev/null && [[ ! -e $cdir/one.lz4 ]]; then
    lz4 -q -c --content-size "$cdir/.octets" >"$cdir/one.lz4"
fi
# A stream of blocks (xz -T), BGZF members, bzip2 streams, and our gzip member that says its
# length in an `FM` extra field.
if command -v xz >/dev/null && [[ ! -e $cdir/blocks.xz ]]; then
    xz -c -T2 --block-size=1000 "$cdir/.octets" >"$cdir/blocks.xz"
fi
if command -v bgzip >/dev/null && [[ ! -e $cdir/bgzf.gz ]]; then
    bgzip -c "$cdir/.octets" >"$cdir/bgzf.gz"
fi
if command -v bzip2 >/dev/null && [[ ! -e $cdir/two.bz2 ]]; then
    head -c 600 "$cdir/.octets" | bzip2 -c >"$cdir/.one.bz2"
    cat "$cdir/.one.bz2" "$cdir/.one.bz2" >"$cdir/two.bz2"
    rm -f "$cdir/.one.bz2"
fi
if [[ ! -e $cdir/ours.gz ]]; then
    python3 - "$cdir/.octets" >"$cdir/ours.gz" <<'PY'
import struct, sys, zlib
data = open(sys.argv[1], 'rb').read()
packer = zlib.compressobj(6, zlib.DEFLATED, -15)
body = packer.compress(data) + packer.flush()
header = b'\x1f\x8b\x08\x04' + bytes(4) + b'\x00\xff' + struct.pack('<H', 8) + b'FM' + struct.pack('<H', 4)
length = len(header) + 4 + len(body) + 8
sys.stdout.buffer.write(header + struct.pack('<I', length) + body
                        + struct.pack('<II', zlib.crc32(data), len(data)))
PY
fi
rm -f "$cdir/.octets"

# The flowbin_dir target makes its directories here (memory-backed where possible).
shm=/dev/shm
[[ -d $shm && -w $shm ]] || shm=${TMPDIR:-/tmp}
FLOW_FUZZ_TMP=$(mktemp -d "$shm/flow-models-fuzz.XXXXXX")
export FLOW_FUZZ_TMP
trap 'rm -rf "$FLOW_FUZZ_TMP"' EXIT

max_len() {
    case $1 in
    nfcapd_decode) echo 262144 ;;
    csv_flow | nfdump_pipe | csv_hist) echo 8192 ;;
    mixture_json) echo 4096 ;;
    *) echo 2048 ;;
    esac
}
failed=0
for t in "${targets[@]}"; do
    mkdir -p "$corpus_root/$t" "artifacts/$t"
    log=artifacts/$t.log
    status=0
    "$CARGO_TARGET_DIR/release/$t" -max_total_time="$seconds" -rss_limit_mb=512 -timeout=10 \
        -max_len="$(max_len "$t")" -artifact_prefix="artifacts/$t/" -print_final_stats=1 \
        "$corpus_root/$t" >"$log" 2>&1 || status=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -1)
    cov=$(grep -Eo '^#[0-9]+.* cov: [0-9]+' "$log" | tail -1 | sed 's/.*cov: //' || true)
    if ((status == 0)); then
        echo "fuzz $t: ${runs:-?} runs, cov ${cov:-?}, peak rss ${rss:-?} MB, crashes 0"
    else
        failed=1
        echo "fuzz $t: FAILED (exit $status) after ${runs:-?} runs, cov ${cov:-?}:"
        { grep -E "panicked|Test unit written|ERROR: libFuzzer|SUMMARY" "$log" || tail -3 "$log"; } |
            head -8 | sed 's/^/    /'
        echo "    log: fuzz/$log"
    fi
done
exit $failed
