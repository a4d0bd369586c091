#!/bin/sh
# Starts `locportal serve` on a database seeded by `loadgen seed`, runs `loadgen run` against it
# with the portal's pid (so its CPU and memory are reported), and stops the portal afterwards.
#
#   bench/loadgen/bench.sh DATABASE_URL MANIFEST_DIR [loadgen run options...]
#
# e.g. bench/loadgen/bench.sh sqlite:///tmp/loadgen-sqlite/locportal.db /tmp/loadgen-sqlite \
#        --rate 65 --duration 60 --json /tmp/loadgen-sqlite/run.json
#
# BIN (default target/release) says where `locportal` and `loadgen` are; PORT (default 18080)
# where the portal listens. The portal's log goes to MANIFEST_DIR/serve.log.
set -eu
BIN=${BIN:-target/release}
PORT=${PORT:-18080}
DATABASE_URL=$1
DIR=$2
shift 2
# 2,000 SSE streams need 2,000 descriptors on each side.
ulimit -n 20000
if "$BIN/locportal" healthcheck --url "http://127.0.0.1:$PORT" >/dev/null 2>&1; then
    echo "a portal is already listening on port $PORT; stop it or set PORT" >&2
    exit 1
fi
# Every simulated user connects from 127.0.0.1, so the per-address connection cap (which
# would stop at 256 of the 2,000 streams) is lifted, as behind a proxy.
"$BIN/locportal" serve --database-url "$DATABASE_URL" --bind "127.0.0.1:$PORT" \
    --max-connections-per-address 0 >"$DIR/serve.log" 2>&1 &
PID=$!
# `serve` ends its SSE streams on SIGTERM and exits; it gets 10 s before SIGKILL all the same.
stop() {
    kill "$PID" 2>/dev/null || return 0
    i=0
    while kill -0 "$PID" 2>/dev/null && [ "$i" -lt 20 ]; do
        sleep 0.5
        i=$((i + 1))
    done
    if kill -0 "$PID" 2>/dev/null; then
        echo "the portal did not stop within 10 s of SIGTERM; killing it" >&2
        kill -9 "$PID"
    fi
}
trap stop EXIT
trap 'exit 1' INT TERM
i=0
until "$BIN/locportal" healthcheck --url "http://127.0.0.1:$PORT" >/dev/null 2>&1; do
    i=$((i + 1))
    if [ "$i" -ge 120 ] || ! kill -0 "$PID" 2>/dev/null; then
        echo "the portal did not start; see $DIR/serve.log" >&2
        exit 1
    fi
    sleep 0.5
done
if ! kill -0 "$PID" 2>/dev/null; then
    echo "the portal exited; see $DIR/serve.log" >&2
    exit 1
fi
"$BIN/loadgen" run --url "http://127.0.0.1:$PORT" --manifest "$DIR" --server-pid "$PID" "$@"
