#!/bin/bash
# End-to-end LoA3 with serve and load taken from two builds, to tell which
# side a change in CPU or latency is on (docs/benchmarks.md (z)). Usage:
#   docs/bench/e2e-mix.sh SERVE_BINARY LOAD_BINARY
# It starts serve on spare loopback ports, warms the phones up, then runs
# 10,000 LoA3/s for 10 s verifying 1 answer in 10, and again verifying all,
# printing the generator's CPU and serve's CPU ticks (1/100 s) for each.
set -eu
s=$1 l=$2
smpp=127.0.0.1:27775 http=127.0.0.1:28775 to=99901000000-99901015999
"$s" serve --smpp $smpp --http $http 2>/dev/null &
serve=$!
trap 'kill $serve 2>/dev/null' EXIT
until curl -fs "http://$http/healthz" >/dev/null 2>&1; do :; done
TIMEFORMAT='load cpu %U+%S s'
run() {
	time "$l" load --smpp $smpp --to $to --loa 3 --binds 4 --window 50 --timeout 30s "$@" | grep -E 'latency|sent'
}
ticks() { awk '{print $14+$15}' /proc/$serve/stat; }
run --rate 8000 --duration 5s --verify-every 10 >/dev/null # warm-up: builds the phones
c0=$(ticks)
echo "--- 10,000/s, 1 in 10 verified"
run --rate 10000 --duration 10s --verify-every 10
c1=$(ticks)
echo "--- 10,000/s, every answer verified"
run --rate 10000 --duration 10s
c2=$(ticks)
echo "serve CPU ticks: $((c1 - c0)) $((c2 - c1))"
