#!/usr/bin/env bash
# nfcapd from a local S3 server (moto_server): `SELECT count(*), sum(packets), sum(octets)` over
# one nfcapd object by two builds (e.g. before/after a change of the remote reader), runs
# interleaved, medians printed; the same file on local disk and a plain curl GET of the object
# for scale; peak RSS (max of the runs) beside the times. moto's Python (with boto3) uploads the
# file in parts. PARTITIONS=n sets DataFusion's target partitions (local files are split in
# byte ranges over them, objects are not).
# Usage: [PARTITIONS=n] bench/nfcapd_s3.sh OLD_BINARY NEW_BINARY NFCAPD_FILE [repetitions]
set -euo pipefail
old=$1 new=$2 file=$3 reps=${4:-5}
port=${PORT:-9123}
endpoint="http://127.0.0.1:$port"
moto_server -H 127.0.0.1 -p "$port" >/dev/null 2>&1 &
moto=$!
trap 'kill $moto' EXIT
until curl -s "$endpoint" >/dev/null; do sleep 0.2; done
python=$(head -1 "$(command -v moto_server)" | sed 's/^#!//')
[[ $python == *python* ]] || python=python3
"$python" - "$endpoint" "$file" <<'EOF'
import sys, boto3
s3 = boto3.client("s3", endpoint_url=sys.argv[1], aws_access_key_id="test",
                  aws_secret_access_key="test", region_name="us-east-1")
s3.create_bucket(Bucket="flows")
s3.upload_file(sys.argv[2], "flows", "nfcapd_big")
EOF
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1
export AWS_ENDPOINT_URL=$endpoint AWS_ALLOW_HTTP=true
if [[ -n ${PARTITIONS:-} ]]; then
    export DATAFUSION_EXECUTION_TARGET_PARTITIONS=$PARTITIONS
    export DATAFUSION_OPTIMIZER_REPARTITION_FILE_MIN_SIZE=1
fi

time_it() { # prints seconds of one run of "$@"; its peak RSS (KiB) goes to the file $rss
    local t0 t1
    t0=$(date +%s.%N)
    /usr/bin/time -f %M -a -o "$rss" "$@" >/dev/null 2>&1
    t1=$(date +%s.%N)
    echo "$t1 - $t0" | bc -l
}
median() { sort -g | awk '{v[NR]=$1} END {m=(NR%2)?v[(NR+1)/2]:(v[NR/2]+v[NR/2+1])/2; printf "%.3f", m}'; }
sql() { echo "SELECT count(*), sum(packets), sum(octets) FROM nfcapd('$1')"; }

echo "old s3:   $("$old" sql -q --format csv -c "$(sql s3://flows/nfcapd_big)" | tail -1)"
echo "new s3:   $("$new" sql -q --format csv -c "$(sql s3://flows/nfcapd_big)" | tail -1)"
echo "new disk: $("$new" sql -q --format csv -c "$(sql "$file")" | tail -1)"
declare -A runs
rss_dir=$(mktemp -d)
trap 'kill $moto; rm -r "$rss_dir"' EXIT
for _ in $(seq 1 "$reps"); do
    runs[old]+="$(rss=$rss_dir/old time_it "$old" sql -q -c "$(sql s3://flows/nfcapd_big)") "
    runs[new]+="$(rss=$rss_dir/new time_it "$new" sql -q -c "$(sql s3://flows/nfcapd_big)") "
    runs[disk]+="$(rss=$rss_dir/disk time_it "$new" sql -q -c "$(sql "$file")") "
    runs[curl]+="$(rss=$rss_dir/curl time_it curl -sf -o /dev/null "$endpoint/flows/nfcapd_big") "
done
for k in old new disk curl; do
    peak=$(sort -n "$rss_dir/$k" | tail -1)
    echo "$k: median $(tr ' ' '\n' <<<"${runs[$k]}" | grep . | median) s   peak RSS $((peak / 1024)) MiB   runs ${runs[$k]}"
done
