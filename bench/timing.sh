# Timing helpers for the bench scripts (sourced): run_reps NAME REPS CMD... records the median
# wall time in MEDIAN[NAME] and the largest peak RSS in RSS[NAME]; ratio A B prints A/B.
# BEFORE_EACH, when set, is a shell command run (untimed) before every run.
# release_binary_and_scratch NAME: BIN (default the release build) checked, TMP a scratch
# directory removed at exit.
declare -A MEDIAN RSS
# median: the median of the numbers on standard input, one per line.
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
# free_port: a TCP port of 127.0.0.1 free at the time of the call.
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
release_binary_and_scratch() {
    BIN=${BIN:-${CARGO_TARGET_DIR:-target}/release/flow-models}
    [ -x "$BIN" ] || { echo "build first: cargo build --release -p flow-cli (or set BIN)"; exit 1; }
    TMP=$(mktemp -d "${TMPDIR:-/tmp}/bench-$1.XXXXXX")
    trap 'rm -rf "$TMP"' EXIT
}
run_reps() {
    local name=$1 reps=$2; shift 2
    local times=() peak=0 i out
    for ((i = 0; i < reps; i++)); do
        [ -n "${BEFORE_EACH:-}" ] && bash -c "$BEFORE_EACH"
        local tf
        tf=$(mktemp)
        /usr/bin/time -o "$tf" -f "%e %M" "$@" >/dev/null 2>&1
        out=$(tail -1 "$tf")
        rm -f "$tf"
        times+=("${out% *}")
        (( ${out#* } > peak )) && peak=${out#* }
    done
    MEDIAN[$name]=$(printf '%s\n' "${times[@]}" | median)
    RSS[$name]=$peak
    printf '%-10s median %6.3f s over %d runs (%s), peak RSS %d MiB\n' \
        "$name" "${MEDIAN[$name]}" "$reps" "${times[*]}" $((peak / 1024))
}
ratio() {
    printf 'speed-up %s / %s: %.1fx\n' "$1" "$2" "$(echo "${MEDIAN[$1]} / ${MEDIAN[$2]}" | bc -l)"
}
