#!/usr/bin/env bash
# A deep queue while it drains (part of `make bench`; alone: `bash bench/queue_drain.sh`):
#   1. sendcloudd with --delivery off accepts DRAIN_QUEUED one-recipient emails over HTTP (wrk,
#      keep-alive), so that many recipients wait in `queued`;
#   2. it is restarted on the same data dir with delivery on (DKIM-signed, through --smtp-relay to
#      Postfix's smtp-sink), and while that queue drains, wrk offers /email/send at DRAIN_RATE
#      requests/s for DRAIN_SECONDS.
# Measures what the email delivery issue asks of a deep queue: the resident memory with the queue
# full (at start, and the peak while draining, VmHWM) and the latency of /email/send at the
# offered rate while the delivery agent works (wrk's p50/p99/max from when a request is written;
# see bench/wrk/bench.lua for what a paced wrk measures). Prints a table and, with
# BENCH_RECORD=1, appends it to bench/README.md.
# Knobs: DRAIN_QUEUED (100000), DRAIN_RATE (1000), DRAIN_SECONDS (30), DRAIN_CONNECTIONS (10).
set -euo pipefail
cd "$(dirname "$0")/.."

QUEUED=${DRAIN_QUEUED:-100000}
RATE=${DRAIN_RATE:-1000}
SECONDS_UNDER_LOAD=${DRAIN_SECONDS:-30}
CONNS=${DRAIN_CONNECTIONS:-10}
RECORD=${BENCH_RECORD:-1}
README=bench/README.md

BENCH_WORK=${BENCH_WORK:-$(mktemp -d /tmp/sc-drain.XXXXXX)}
# shellcheck source=bench/lib.sh
source bench/lib.sh
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

delivery_bench_deps

mapfile -t PORTS < <(free_ports 2)
SINK=${PORTS[0]} SC_PORT=${PORTS[1]}
DATA="$BENCH_WORK/sc-data"
mkdir -p "$DATA"
setup_delivery_data_dir "$DATA"

# The same form delivery.sh sends: one recipient, 1,500 bytes of text.
FORM="$BENCH_WORK/email.form"
printf 'apiUser=bench_api&apiKey=%s&from=bench%%40bench.example&to=rcpt%%40sink.example&subject=bench&plain=%s' \
  "$API_KEY" "$(head -c 1500 /dev/zero | tr '\0' x)" >"$FORM"
URL="http://127.0.0.1:$SC_PORT/email/send"
CTYPE=application/x-www-form-urlencoded

count_state() { sqlite3 "$DATA/sendcloud.db" "SELECT count(*) FROM recipients WHERE state='$1'"; }

# wrk_run OUT CONNS SECONDS [DELAY_MS]: one wrk run of the form; its result line in OUT.
wrk_run() {
  local out=$1 conns=$2 secs=$3 delay=${4:-}
  BENCH_METHOD=POST BENCH_BODY_FILE=$FORM BENCH_CTYPE=$CTYPE BENCH_DELAY_MS=$delay BENCH_OUT=$out \
    wrk -t2 -c"$conns" -d"${secs}s" --timeout 5s -s bench/wrk/bench.lua "$URL" >"$out.wrk" 2>&1 ||
    die "wrk failed: $(cat "$out.wrk")"
  if [ "$(field "$out" status_ge_400)" != 0 ]; then die "sends failed during the run: $(cat "$out")"; fi
}
field() { tr ' ' '\n' <"$1" | sed -n "s/^$2=//p" | head -1; }

# 1. Fill the queue with delivery off.
start_sendcloudd "$SC_PORT" "$DATA" "$BENCH_WORK/fill.log" --delivery off
log "filling the queue with $QUEUED recipients"
while :; do
  have=$(count_state queued)
  [ "$have" -ge "$QUEUED" ] && break
  # Seconds enough for what is missing at a modest 5,000/s, so the fill does not overshoot much.
  secs=$(((QUEUED - have) / 5000 + 1))
  wrk_run "$BENCH_WORK/fill" 32 "$secs"
done
stop_pid "$SC_PID"
QUEUED_AT_START=$(count_state queued)
log "$QUEUED_AT_START recipients queued"

# 2. Restart with delivery on; measure memory and the send latency while the queue drains.
start_smtp_sink "$SINK" "$BENCH_WORK/sink.out"
start_sendcloudd "$SC_PORT" "$DATA" "$BENCH_WORK/drain.log" \
  --smtp-relay "127.0.0.1:$SINK" --smtp-tls none
RSS_START=$(rss_kib "$SC_PID")
DELIVERED_BEFORE=$(smtp_sink_count "$BENCH_WORK/sink.out")
# Paced: CONNS connections, each waiting CONNS/RATE s between requests less what a short
# calibration run at that wait shows a request cycle costs beyond it (the latency and wrk's own
# timer slack: the calibration's achieved rate tells both). Never more than half the wait: the
# first seconds after a restart with a deep queue are slow (leases taken back, the first claims),
# and an overhead measured then would take the pacing away and measure an unpaced run.
delay=$(awk -v c="$CONNS" -v r="$RATE" 'BEGIN {printf "%.3f", c * 1000 / r}')
wrk_run "$BENCH_WORK/cal" "$CONNS" 3 "$delay"
delay=$(awk -v d="$delay" -v c="$CONNS" -v got="$(field "$BENCH_WORK/cal" rps)" \
  'BEGIN {o = (got > 0) ? c * 1000 / got - d : 0; if (o < 0) o = 0; if (o > d / 2) o = d / 2;
          printf "%.3f", d - o}')
t0=$(date +%s%3N)
wrk_run "$BENCH_WORK/load" "$CONNS" "$SECONDS_UNDER_LOAD" "$delay"
t1=$(date +%s%3N)
DELIVERED_AFTER=$(smtp_sink_count "$BENCH_WORK/sink.out")
RSS_END=$(rss_kib "$SC_PID")
RSS_PEAK=$(peak_rss_kib "$SC_PID")
LEFT=$(count_state queued)
DRAIN_RATE=$(awk -v n="$((${DELIVERED_AFTER:-0} - ${DELIVERED_BEFORE:-0}))" -v ms="$((t1 - t0))" \
  'BEGIN {printf "%.0f", n * 1000 / ms}')
L="$BENCH_WORK/load"
mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }
ms() { awk -v u="$1" 'BEGIN {printf "%.2f", u / 1000}'; }

summary=$(
  cat <<EOF

### Deep queue while it drains, $(date -u +%Y-%m-%dT%H:%MZ) ($QUEUED_AT_START recipients queued)
| measure | value | target |
|---|---|---|
| RSS at start with the queue full | $(mib "$RSS_START") MiB | |
| RSS peak (VmHWM) while draining | $(mib "$RSS_PEAK") MiB | < 128 MiB |
| RSS at the end of the load | $(mib "$RSS_END") MiB | |
| /email/send offered rate achieved | $(field "$L" rps) req/s ($CONNS connections) | 1,000 |
| /email/send p50 / p99 / max | $(ms "$(field "$L" p50_us)") / $(ms "$(field "$L" p99_us)") / $(ms "$(field "$L" max_us)") ms | p99 < 10 ms |
| delivered to the sink meanwhile | $DRAIN_RATE msg/s | |
| still queued at the end | $LEFT | |
EOF
)
printf '%s\n' "$summary"
if [ "$RECORD" = 1 ]; then printf '%s\n' "$summary" >>"$README"; fi
