#!/usr/bin/env bash
# The delivery agent's cost per message, two binaries alternating (as bench/ab.sh does for the
# HTTP path): for each round and binary, a fresh data dir gets DRAIN_AB_SECONDS of one-recipient
# DKIM-signed emails accepted with --delivery off (wrk), then the binary restarts with delivery on
# and drains that queue to Postfix's smtp-sink. Prints, per run, the messages, the drain rate and
# the CPU the server spent per message (utime+stime from /proc, which a busy machine disturbs far
# less than the rate).
#   bash bench/drain_ab.sh OLD_BIN NEW_BIN        (DRAIN_AB_ROUNDS=2, DRAIN_AB_SECONDS=4)
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -eq 2 ] || {
  echo "usage: $0 OLD_BIN NEW_BIN" >&2
  exit 2
}
ROUNDS=${DRAIN_AB_ROUNDS:-2}
FILL_SECONDS=${DRAIN_AB_SECONDS:-4}
BENCH_WORK=$(mktemp -d /tmp/sc-drain-ab.XXXXXX)
# shellcheck source=bench/lib.sh
source bench/lib.sh
trap bench_cleanup EXIT
trap 'exit 130' INT TERM
bash bench/install-bench-deps.sh
bash scripts/install-deps.sh postfix

# drain_once BIN LABEL: one fill and drain; prints a table row.
drain_once() {
  local bin=$1 label=$2 dir n c0 c1 t0 t1 c i
  dir="$BENCH_WORK/$label"
  local -a ports
  rm -rf "$dir" && mkdir -p "$dir/data"
  SC_BIN=$bin
  setup_delivery_data_dir "$dir/data"
  mapfile -t ports < <(free_ports 2)
  start_sendcloudd "${ports[1]}" "$dir/data" "$dir/fill.log" --delivery off
  printf 'apiUser=bench_api&apiKey=%s&from=bench%%40bench.example&to=rcpt%%40sink.example&subject=bench&plain=%s' \
    "$API_KEY" "$(head -c 1500 /dev/zero | tr '\0' x)" >"$dir/form"
  BENCH_METHOD=POST BENCH_BODY_FILE="$dir/form" BENCH_CTYPE=application/x-www-form-urlencoded \
    wrk -t2 -c16 -d"${FILL_SECONDS}s" -s bench/wrk/bench.lua \
    "http://127.0.0.1:${ports[1]}/email/send" >/dev/null
  stop_pid "$SC_PID"
  n=$(sqlite3 "$dir/data/sendcloud.db" "SELECT count(*) FROM recipients WHERE state='queued'")
  start_smtp_sink "${ports[0]}" "$dir/sink.out"
  start_sendcloudd "${ports[1]}" "$dir/data" "$dir/drain.log" \
    --smtp-relay "127.0.0.1:${ports[0]}" --smtp-tls none
  c0=$(cpu_ticks "$SC_PID")
  t0=$(date +%s%3N)
  for ((i = 0; i < 6000; i++)); do
    c=$(smtp_sink_count "$dir/sink.out")
    [ "${c:-0}" -ge "$n" ] && break
    sleep 0.1
  done
  t1=$(date +%s%3N)
  c1=$(cpu_ticks "$SC_PID")
  stop_pid "$SC_PID"
  awk -v l="$label" -v n="${c:-0}" -v ms=$((t1 - t0)) -v t=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" \
    'BEGIN {printf "| %s | %d | %.0f | %.0f |\n", l, n, n * 1000 / ms, t * 1e6 / hz / n}'
}

echo "| run | messages | delivered msg/s | server CPU us/msg |"
echo "|---|---|---|---|"
for ((r = 1; r <= ROUNDS; r++)); do
  drain_once "$1" "old-$r"
  drain_once "$2" "new-$r"
done
