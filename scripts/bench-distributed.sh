#!/usr/bin/env bash
# The figures of docs/load-distributed.md and docs/benchmarks.md (p): the
# same LoA3 load from one `simlab load` process and from 2 and 3 shards
# (`--shard I/N`, started together by --start-at), against one `simlab
# serve`; then through a front SMSC routing two halves of the numbers to two
# fleet processes. It prints each run's figures and the CPU each process
# spent per challenge, for the per-core cost of sender, fleet and front.
#
#   scripts/bench-distributed.sh [RATE [DURATION]]     (default 1000 20s)
#
# Everything listens on loopback (ports 27760-27769, 28760-28769) and is
# stopped at the end. Needs go and jq.
set -euo pipefail
RATE=${1:-1000}
DUR=${2:-20s}
NUMBERS=99901100000-99901109999
SIMLAB=${SIMLAB:-/tmp/simlab-bench}
W=$(mktemp -d /tmp/simlab-bench.XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
}
trap cleanup EXIT

go build -o "$SIMLAB" ./cmd/simlab

# cpu PID: user+system CPU seconds of a running process so far.
cpu() { awk -v t="$(getconf CLK_TCK)" '{printf "%.2f", ($14+$15)/t}' "/proc/$1/stat"; }

# serve NAME SMPP HTTP ARGS…: start simlab serve, wait until it is healthy.
serve() {
	local name=$1 smpp=$2 http=$3
	shift 3
	"$SIMLAB" serve --smpp "127.0.0.1:$smpp" --http "127.0.0.1:$http" "$@" 2>"$W/$name.log" &
	PIDS+=($!)
	eval "PID_$name=$!"
	for _ in $(seq 100); do
		curl -fs "http://127.0.0.1:$http/healthz" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "serve $name did not start" >&2
	cat "$W/$name.log" >&2
	exit 1
}

cat >"$W/serve.yaml" <<'EOF'
smpp_accounts:
  - {system_id: load, password: load, window: 200}
EOF

# run NAME SMPP SHARDS: the load, as one process (SHARDS=1) or as SHARDS
# processes started together; prints figures and the load's CPU seconds.
run() {
	local name=$1 smpp=$2 n=$3 start
	start=$(date -u -d '+4 sec' +%Y-%m-%dT%H:%M:%S.%3NZ)
	local common=(--smpp "127.0.0.1:$smpp" --password load --to "$NUMBERS" --loa 3 --rate "$RATE"
		--duration "$DUR" --timeout 30s --binds 4 --window 50 --progress never --min-completed 0)
	local TIMEFORMAT="%U %S"
	{ time (
		if [ "$n" = 1 ]; then
			"$SIMLAB" load "${common[@]}" --start-at "$start" --out "$W/$name" >/dev/null
		else
			for i in $(seq 0 $((n - 1))); do
				"$SIMLAB" load "${common[@]}" --shard "$i/$n" --start-at "$start" --out "$W/$name/shard-$i" >/dev/null &
			done
			wait
			"$SIMLAB" load merge --out "$W/$name/merged" "$W/$name" >/dev/null || true
		fi
	); } 2>"$W/$name.cpu"
	local rep="$W/$name/report.json"
	[ "$n" = 1 ] || rep="$W/$name/merged/report.json"
	jq -r --arg name "$name" --arg cpu "$(awk '{print $1+$2}' "$W/$name.cpu")" \
		'"\($name): sent \(.sent) completed \(.completed) failed \(.failed) timed out \(.timed_out), achieved \(.rate|floor)/s, p50 \(.latency_ms.p50) ms p99 \(.latency_ms.p99) ms max \(.latency_ms.max) ms; load CPU \($cpu) s = \(($cpu|tonumber)*1e6/.sent|floor) µs per challenge"' "$rep"
}

echo "== one serve: 1 process, 2 shards, 3 shards at $RATE/s for $DUR (load average $(cut -d' ' -f1 /proc/loadavg))"
serve one 27760 28760 --config "$W/serve.yaml"
# A first pass builds the phones (and derives the generator's keys).
"$SIMLAB" load --smpp 127.0.0.1:27760 --password load --to "$NUMBERS" --rate 1000 --duration 10s \
	--timeout 30s --progress never --min-completed 0 >/dev/null
for n in 1 2 3; do
	before=$(cpu "$PID_one")
	run "one-$n" 27760 "$n"
	rep="$W/one-$n/report.json"
	[ "$n" = 1 ] || rep="$W/one-$n/merged/report.json"
	awk -v a="$before" -v b="$(cpu "$PID_one")" -v s="$(jq .sent "$rep")" \
		'BEGIN{printf "   serve CPU %.2f s = %d µs per challenge\n", b-a, (b-a)*1e6/s}'
done

echo "== front + 2 fleet processes, 1 load process at $RATE/s for $DUR (load average $(cut -d' ' -f1 /proc/loadavg))"
cat >"$W/fleet-0.yaml" <<'EOF'
ranges:
  - {from: "99901100000", to: "99901104999", card_index: 100000}
EOF
cat >"$W/fleet-1.yaml" <<'EOF'
ranges:
  - {from: "99901105000", to: "99901109999", card_index: 105000}
EOF
cat >"$W/fleet.yaml" <<'EOF'
smpp_accounts:
  - {system_id: front, password: front1, window: 200, default_mo: true}
EOF
cat >"$W/front.yaml" <<'EOF'
smpp_accounts:
  - {system_id: load, password: load, window: 200}
routes:
  - numbers: ["99901100000-99901104999"]
    to: smpp://front:front1@127.0.0.1:27761
    binds: 4
    window: 100
  - numbers: ["99901105000-99901109999"]
    to: smpp://front:front1@127.0.0.1:27762
    binds: 4
    window: 100
EOF
serve fleet0 27761 28761 --config "$W/fleet.yaml" --fleet "$W/fleet-0.yaml"
serve fleet1 27762 28762 --config "$W/fleet.yaml" --fleet "$W/fleet-1.yaml"
serve front 27763 28763 --no-fleet --config "$W/front.yaml"
"$SIMLAB" load --smpp 127.0.0.1:27763 --password load --to "$NUMBERS" --rate 1000 --duration 10s \
	--timeout 30s --progress never --min-completed 0 >/dev/null
f0=$(cpu "$PID_fleet0") f1=$(cpu "$PID_fleet1") fr=$(cpu "$PID_front")
run front-1 27763 1
sent=$(jq .sent "$W/front-1/report.json")
fleets=$(awk -v a="$f0" -v b="$f1" -v c="$(cpu "$PID_fleet0")" -v d="$(cpu "$PID_fleet1")" 'BEGIN{print c-a+d-b}')
front=$(awk -v a="$fr" -v b="$(cpu "$PID_front")" 'BEGIN{print b-a}')
awk -v f="$fleets" -v r="$front" -v s="$sent" 'BEGIN{
	printf "   fleets CPU %.2f s = %d µs per challenge (both processes)\n", f, f*1e6/s
	printf "   front CPU %.2f s = %d µs per challenge\n", r, r*1e6/s}'
