# A local S3 API server for the bench scripts (sourced after timing.sh, once
# release_binary_and_scratch made TMP). start_s3_server KEY SECRET starts s3s-fs (S3S: default
# on PATH or in ~/.cache/flow-models/s3s/bin, as .ci/setup installs it; it checks SigV4), else
# moto_server, on a free port of 127.0.0.1 with its objects under $TMP/root, creates the bucket
# "bench", and sets SERVER (its name), ENDPOINT, SIGNED (curl with SigV4 signing) and the AWS_*
# environment flow-models reads; upload LOCAL KEY puts a file in the bucket. Stopped at exit.
start_s3_server() {
    local key=$1 secret=$2 port root=$TMP/root s3s
    port=$(free_port)
    ENDPOINT=http://127.0.0.1:$port
    mkdir -p "$root"
    s3s=${S3S:-$(command -v s3s-fs || echo "$HOME/.cache/flow-models/s3s/bin/s3s-fs")}
    if [ -x "$s3s" ]; then
        SERVER="s3s-fs $("$s3s" --version | awk '{print $2}')"
        "$s3s" --host 127.0.0.1 --port "$port" --access-key "$key" --secret-key "$secret" "$root" >/dev/null 2>&1 &
    elif command -v moto_server >/dev/null; then
        SERVER="moto_server"
        moto_server -H 127.0.0.1 -p "$port" >/dev/null 2>&1 &
    else
        echo "no S3 server: install s3s-fs (.ci/setup) or moto[server]" >&2
        exit 1
    fi
    SERVER_PID=$!
    trap 'kill "$SERVER_PID" 2>/dev/null; rm -rf "$TMP"' EXIT
    for _ in $(seq 100); do
        curl -s -o /dev/null "$ENDPOINT" && break
        sleep 0.1
    done
    # SigV4-signed curl (s3s-fs checks signatures and wants the payload hash header).
    SIGNED=(curl -sf --aws-sigv4 "aws:amz:us-east-1:s3" --user "$key:$secret" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD")
    "${SIGNED[@]}" -X PUT "$ENDPOINT/bench" >/dev/null
    export AWS_ACCESS_KEY_ID=$key AWS_SECRET_ACCESS_KEY=$secret AWS_REGION=us-east-1 \
        AWS_ENDPOINT_URL=$ENDPOINT AWS_ALLOW_HTTP=true
}
upload() { # upload LOCAL KEY
    "${SIGNED[@]}" -T "$1" "$ENDPOINT/bench/$2" >/dev/null
}
