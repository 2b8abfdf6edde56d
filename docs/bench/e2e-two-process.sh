#!/bin/sh
# End-to-end LoA3 through SMPP, two processes on one machine: simlab serve
# and simlab load (docs/benchmarks.md (i)). Usage:
#   docs/bench/e2e-two-process.sh [SIMLAB_BINARY]
# It builds ./cmd/simlab when no binary is given, starts serve on spare
# loopback ports, warms the 16,000 phones up, then runs the measured loads.
# DATA=DIR runs serve with --data DIR (durable messages and phones).
set -eu
bin=${1:-}
if [ -z "$bin" ]; then
	bin=$(mktemp -d)/simlab
	go build -o "$bin" ./cmd/simlab
fi
smpp=127.0.0.1:27775
http=127.0.0.1:28775
to=99901000000-99901015999 # within the fleet's 16,384 resident cards
"$bin" serve --smpp "$smpp" --http "$http" ${DATA:+--data "$DATA"} 2>/dev/null &
serve=$!
trap 'kill $serve 2>/dev/null' EXIT
until curl -fs "http://$http/healthz" >/dev/null 2>&1; do :; done
run() {
	echo "--- $*"
	"$bin" load --smpp "$smpp" --to "$to" --loa 3 --binds 4 --window 50 --timeout 30s "$@" | sed -n 1,5p
}
uptime
run --rate 8000 --duration 5s --verify-every 10 # warm-up: builds the phones
run --rate 5000 --duration 10s
run --rate 10000 --duration 10s --verify-every 10
run --rate 10000 --duration 10s --verify-every 10
run --rate 10000 --duration 10s # every answer verified: the generator's limit
echo "serve CPU time: $(ps -o cputime= -p $serve)"
