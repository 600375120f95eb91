#!/usr/bin/env bash
# `make soak`: a bounded soak run (30 minutes by default, outside `make test`). sendcloudd, as
# shipped (Release), takes email sends at half of its measured peak while its SMTP agent delivers
# them to Postfix's smtp-sink through --smtp-relay, an API_KEY is reset every 30 s (the old key
# keeps working for its grace period, so the load never stops) and a console session reads the
# Messages and usage pages every 10 s. Every minute it samples the server's RSS, open file
# descriptors, database size per message, the queue's due count and the minute's p99 latency;
# the table is printed and, with SOAK_RECORD=1, appended to bench/README.md.
#
# The run fails when something grows without levelling off: RSS or descriptors still climbing in
# the last third of the run by more than the margins below, database bytes per message growing,
# or the p99 of the last third more than 3x the first third's.
#
# Knobs: SOAK_MINUTES (30), SOAK_RATE (requests/s; default half the measured peak),
# SOAK_CONNECTIONS (16), SOAK_RECORD (1), BENCH_KEEP (keep the temp dir).
set -euo pipefail
cd "$(dirname "$0")/.."

MINUTES=${SOAK_MINUTES:-30}
CONNS=${SOAK_CONNECTIONS:-16}
RECORD=${SOAK_RECORD:-1}
README=bench/README.md
[ "$MINUTES" -ge 3 ] || {
  echo "SOAK_MINUTES must be at least 3 (the growth check compares thirds of the run)" >&2
  exit 2
}

BENCH_WORK=$(mktemp -d /tmp/sc-soak.XXXXXX)
# shellcheck source=bench/lib.sh
source bench/lib.sh
CONSOLE_PID=""
RESET_PID=""
soak_cleanup() {
  [ -n "$CONSOLE_PID" ] && kill "$CONSOLE_PID" 2>/dev/null || true
  [ -n "$RESET_PID" ] && kill "$RESET_PID" 2>/dev/null || true
  bench_cleanup
}
trap soak_cleanup EXIT
trap 'exit 130' INT TERM

delivery_bench_deps

mapfile -t PORTS < <(free_ports 2)
P_SC=${PORTS[0]} P_SINK=${PORTS[1]}
DATA="$BENCH_WORK/data"
URL="http://127.0.0.1:$P_SC"

# ---------------------------------------------------------------- the peers and the server
start_smtp_sink "$P_SINK" "$BENCH_WORK/sink.out"

"$SC_BIN" account create --email owner@soak.example --data-dir "$DATA" >/dev/null
key_of() { sed -n "s/^$1: *//p" | head -1; }
API_KEY=$("$SC_BIN" email-user create soak_api --account owner@soak.example --data-dir "$DATA" |
  key_of API_KEY)
RESET_KEY=$("$SC_BIN" email-user create soak_reset --account owner@soak.example \
  --data-dir "$DATA" | key_of API_KEY)
[ -n "$API_KEY" ] && [ -n "$RESET_KEY" ] || die "could not read the keys"
CONSOLE_PASSWORD="soak console password $$"
printf '%s\n' "$CONSOLE_PASSWORD" |
  "$SC_BIN" account set-password --email owner@soak.example --data-dir "$DATA" >/dev/null

start_sendcloudd "$P_SC" "$DATA" "$BENCH_WORK/sendcloudd.log" \
  --smtp-relay "127.0.0.1:$P_SINK" --smtp-tls none
SC_DB="$DATA/sendcloud.db"

BODY="$BENCH_WORK/send.form"
printf 'apiUser=soak_api&apiKey=%s&from=soak%%40soak.example&to=rcpt%%40example.com&subject=Soak&html=%%3Cp%%3EHello+from+the+soak+run%%3C%%2Fp%%3E' \
  "$API_KEY" >"$BODY"
expect_200() {
  local got
  got=$(curl -s -o "$BENCH_WORK/last" -w '%{http_code}' -X POST \
    -H 'Content-Type: application/x-www-form-urlencoded' --data-binary "@$BODY" "$URL/email/send")
  [ "$got" = 200 ] || die "a send answered $got: $(head -c 300 "$BENCH_WORK/last")"
}
expect_200

# wrk_run SECONDS DELAY_MS OUT: the send load (paced when DELAY_MS > 0).
wrk_run() {
  BENCH_METHOD=POST BENCH_BODY_FILE="$BODY" BENCH_CTYPE=application/x-www-form-urlencoded \
    BENCH_DELAY_MS="$2" BENCH_OUT="$3" \
    wrk -t2 -c"$CONNS" -d"$1s" --timeout 5s -s bench/wrk/bench.lua "$URL/email/send" \
    >"$3.wrk" 2>&1 || die "wrk failed: $(cat "$3.wrk")"
}
val() { tr ' ' '\n' <"$1" | sed -n "s/^$2=//p" | head -1; }

# ---------------------------------------------------------------- the offered load
if [ -n "${SOAK_RATE:-}" ]; then
  RATE=$SOAK_RATE
else
  log "measuring the peak (10 s, $CONNS connections)"
  wrk_run 10 0 "$BENCH_WORK/peak"
  PEAK=$(val "$BENCH_WORK/peak" rps)
  RATE=$(awk -v p="$PEAK" 'BEGIN { printf "%d", p / 2 }')
  log "peak $PEAK requests/s; soaking at $RATE"
fi
# Each connection waits DELAY ms between its requests: CONNS * 1000 / DELAY = RATE.
DELAY=$(awk -v c="$CONNS" -v r="$RATE" 'BEGIN { printf "%.3f", c * 1000 / r }')

# ---------------------------------------------------------------- key resets and console use
(
  while true; do
    sleep 30
    "$SC_BIN" email-user reset soak_reset --data-dir "$DATA" >/dev/null 2>&1 || true
  done
) &
RESET_PID=$!
(
  jar="$BENCH_WORK/cookies"
  while true; do
    csrf=$(curl -s -c "$jar" -H 'Content-Type: application/json' \
      -d "{\"email\":\"owner@soak.example\",\"password\":\"$CONSOLE_PASSWORD\"}" \
      "$URL/console/api/login" | sed -n 's/.*"csrfToken":"\([^"]*\)".*/\1/p')
    for ((n = 0; n < 6; n++)); do
      curl -s -b "$jar" -o /dev/null "$URL/console/api/messages?limit=50" || true
      curl -s -b "$jar" -o /dev/null "$URL/console/api/usage" || true
      sleep 10
    done
    curl -s -b "$jar" -H "X-CSRF-Token: $csrf" -X POST -o /dev/null "$URL/console/api/logout" ||
      true
  done
) &
CONSOLE_PID=$!

# ---------------------------------------------------------------- the run, a sample a minute
SAMPLES="$BENCH_WORK/samples"
: >"$SAMPLES"
for ((m = 1; m <= MINUTES; m++)); do
  wrk_run 60 "$DELAY" "$BENCH_WORK/minute"
  kill -0 "$SC_PID" 2>/dev/null || die "sendcloudd died in minute $m: $(tail -5 "$BENCH_WORK/sendcloudd.log")"
  rss_kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$SC_PID/status")
  fds=$(find "/proc/$SC_PID/fd" -mindepth 1 -maxdepth 1 | wc -l)
  db_bytes=$(($(stat -c %s "$SC_DB") + $(stat -c %s "$SC_DB-wal" 2>/dev/null || echo 0)))
  messages=$(sqlite3 -readonly "$SC_DB" 'SELECT count(*) FROM messages' 2>/dev/null || echo 0)
  due=$(curl -s "$URL/metrics" | sed -n 's/^sendcloud_queue_due \([0-9.e+]*\)$/\1/p')
  rps=$(val "$BENCH_WORK/minute" rps)
  p99_ms=$(awk -v u="$(val "$BENCH_WORK/minute" p99_us)" 'BEGIN { printf "%.1f", u / 1000 }')
  errors=$(($(val "$BENCH_WORK/minute" status_ge_400) + $(val "$BENCH_WORK/minute" err_timeout)))
  per_msg=$(awk -v b="$db_bytes" -v n="$messages" 'BEGIN { printf "%d", (n > 0 ? b / n : 0) }')
  echo "$m $rss_kb $fds $db_bytes $messages $per_msg ${due:-0} $rps $p99_ms $errors" >>"$SAMPLES"
  log "minute $m: rss ${rss_kb} kB, fds $fds, db ${per_msg} B/message ($messages), due ${due:-0}, ${rps} req/s, p99 ${p99_ms} ms, errors $errors"
done
DELIVERED=$(smtp_sink_count "$BENCH_WORK/sink.out")

# ---------------------------------------------------------------- did it level off?
VERDICT=$(awk -v n="$MINUTES" '
  { rss[$1] = $2; fds[$1] = $3; per[$1] = $6; p99[$1] = $9; err += $10 }
  END {
    t = int(n / 3); if (t < 1) t = 1
    # Thirds: the first minute is warm-up (caches, pools, the WAL reaching its steady size).
    for (i = 2; i <= n - t; i++) { if (rss[i] > midRss) midRss = rss[i]; if (fds[i] > midFds) midFds = fds[i] }
    for (i = n - t + 1; i <= n; i++) { if (rss[i] > lastRss) lastRss = rss[i]; if (fds[i] > lastFds) lastFds = fds[i] }
    for (i = 1; i <= t; i++) { a[i] = p99[i] } ; firstP99 = median(a, t)
    for (i = n - t + 1; i <= n; i++) { b[i - n + t] = p99[i] } ; lastP99 = median(b, t)
    bad = ""
    if (lastRss > midRss * 1.2 + 10240) bad = bad sprintf(" RSS still growing (%d kB after %d kB);", lastRss, midRss)
    if (lastFds > midFds + 32) bad = bad sprintf(" descriptors still growing (%d after %d);", lastFds, midFds)
    if (per[n] > per[2] * 1.5 + 1024) bad = bad sprintf(" database bytes per message growing (%d after %d);", per[n], per[2])
    if (lastP99 > firstP99 * 3 + 5) bad = bad sprintf(" p99 of the last third %.1f ms, first third %.1f ms;", lastP99, firstP99)
    if (err > 0) bad = bad sprintf(" %d failed requests;", err)
    print (bad == "" ? "levelled off" : "FAILED:" bad)
  }
  function median(v, k,   i, j, tmp) {
    for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (v[j] < v[i]) { tmp = v[i]; v[i] = v[j]; v[j] = tmp }
    return v[int((k + 1) / 2)]
  }' "$SAMPLES")

TABLE="$BENCH_WORK/table"
{
  echo "### Soak, $(date -u '+%Y-%m-%d %H:%M UTC'): $MINUTES min at $RATE sends/s (half the peak), $CONNS connections"
  echo
  echo "Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo), $(uname -r). sendcloudd ($SC_BIN), delivering through --smtp-relay to smtp-sink; an API_KEY reset every 30 s; a console session reading Messages and usage every 10 s. Delivered to the sink: ${DELIVERED:-0}. Verdict: **$VERDICT**"
  echo
  echo "| minute | RSS MiB | open fds | DB MiB | messages | DB bytes/message | queue due | sends/s | p99 ms | errors |"
  echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  awk '{ printf "| %d | %.1f | %d | %.1f | %d | %d | %d | %.0f | %s | %d |\n", $1, $2 / 1024, $3, $4 / 1048576, $5, $6, $7, $8, $9, $10 }' "$SAMPLES"
  echo
} >"$TABLE"
cat "$TABLE"
if [ "$RECORD" = 1 ]; then
  cat "$TABLE" >>"$README"
  log "appended to $README"
fi
case "$VERDICT" in
  FAILED*) exit 1 ;;
esac
