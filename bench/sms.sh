#!/usr/bin/env bash
# SMS submission, end to end, beside two references measured in the same run (part of `make
# bench`; alone: `bash bench/sms.sh`). Every path ends at the same SMSC sink (bench/smpp_sink.py,
# which answers every submit_sm with status 0 and a message id):
#   - the ceiling: bench/smpp_sink.py's own client blasting submit_sm straight into the sink;
#   - Kannel: smsbox `sendsms` (HTTP GET) -> bearerbox -> SMPP (transceiver) -> the sink;
#   - sendcloudd: POST /smsapi/send -> stored `queued` -> its SMPP route -> the sink, and
#     recorded `submitted` (the SMSC's id stored) in its database.
# Both HTTP paths get the same requests: SMS_BATCH numbers per request (one text), from
# SMS_SESSIONS parallel clients; both SMPP clients keep up to SMS_WINDOW submits unanswered.
# Rates are SMS per second from the first request to the last submit_sm at the sink (sendcloudd:
# to the last one recorded `submitted`, which comes after). Kannel keeps its queue in memory
# (no store-file), sendcloudd syncs each request to disk before it answers: not like for like on
# durability, in Kannel's favour. Prints a table and, with BENCH_RECORD=1, appends it to
# bench/README.md. Knobs: SMS_MESSAGES (200000), SMS_BATCH (100), SMS_SESSIONS (8),
# SMS_WINDOW (100), SMS_ONLY (sendcloudd: that half alone, nothing recorded).
set -euo pipefail
cd "$(dirname "$0")/.."

# 200,000: a run of 20,000 lasts about 1.5 s on each side, which start-up (binds, the first
# claims) weighs on; with 200,000 both sides are measured at their steady rate.
MESSAGES=${SMS_MESSAGES:-200000}
BATCH=${SMS_BATCH:-100}
SESSIONS=${SMS_SESSIONS:-8}
WINDOW=${SMS_WINDOW:-100}
ONLY=${SMS_ONLY:-}
RECORD=${BENCH_RECORD:-1}
README=bench/README.md
SINK=bench/smpp_sink.py

BENCH_WORK=${BENCH_WORK:-$(mktemp -d /tmp/sc-sms.XXXXXX)}
# shellcheck source=bench/lib.sh
source bench/lib.sh
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

bash bench/install-bench-deps.sh
if [ ! -x "$SC_BIN" ]; then
  log "building Release in $BENCH_BUILD_DIR"
  bench_build
fi

now_ms() { date +%s%3N; }
rate() { awk -v n="$1" -v ms="$2" 'BEGIN { printf "%.0f", n * 1000 / ms }'; }
# cpu_per_sms TICKS: CPU milliseconds per SMS (user + system) from clock ticks over MESSAGES.
cpu_per_sms() {
  awk -v t="$1" -v hz="$(getconf CLK_TCK)" -v n="$MESSAGES" 'BEGIN { printf "%.3f", t * 1000 / hz / n }'
}

# start_sink NAME: a sink on a free port; sets SINK_PORT, its count in $BENCH_WORK/NAME.count.
start_sink() {
  /usr/bin/python3 "$SINK" serve 0 "$BENCH_WORK/$1.count" >"$BENCH_WORK/$1.port" 2>&1 &
  BENCH_PIDS+=($!)
  local i
  for ((i = 0; i < 100; i++)); do
    SINK_PORT=$(head -1 "$BENCH_WORK/$1.port" 2>/dev/null || true)
    [ -n "$SINK_PORT" ] && return 0
    sleep 0.05
  done
  die "the SMPP sink did not start"
}

# wait_count FILE N SECONDS: until FILE holds a number >= N; prints the time (ms) it did.
wait_count() {
  local f=$1 want=$2 limit=$3 i c=0
  for ((i = 0; i < limit * 20; i++)); do
    c=$(cat "$f" 2>/dev/null || echo 0)
    if [ "${c:-0}" -ge "$want" ]; then
      now_ms
      return 0
    fi
    sleep 0.05
  done
  log "only ${c:-0} of $want arrived in ${limit}s"
  now_ms
  return 1
}

# feed URL_PREFIX PARAM_TO SEP METHOD: MESSAGES numbers, BATCH per request, SESSIONS clients.
feed() {
  /usr/bin/python3 - "$@" "$MESSAGES" "$BATCH" "$SESSIONS" <<'PY'
import http.client, sys, threading, urllib.parse
url, to_param, sep, method = sys.argv[1:5]
total, batch, sessions = (int(a) for a in sys.argv[5:8])
u = urllib.parse.urlsplit(url)
base = dict(urllib.parse.parse_qsl(u.query))
numbers = ["+14155%06d" % i for i in range(total)]
batches = [numbers[i:i + batch] for i in range(0, total, batch)]
errors = []
def worker(mine):
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    for b in mine:
        q = dict(base)
        q[to_param] = sep.join(b)
        body = urllib.parse.urlencode(q)
        if method == "GET":
            c.request("GET", u.path + "?" + body)
        else:
            c.request("POST", u.path, body, {"Content-Type": "application/x-www-form-urlencoded"})
        r = c.getresponse()
        text = r.read()
        if r.status >= 300:
            errors.append("%d %s" % (r.status, text[:200]))
            return
ts = [threading.Thread(target=worker, args=(batches[i::sessions],)) for i in range(sessions)]
[t.start() for t in ts]
[t.join() for t in ts]
if errors:
    raise SystemExit("send failed: " + errors[0])
PY
}

mapfile -t PORTS < <(free_ports 4)
P_SC=${PORTS[0]} P_KADMIN=${PORTS[1]} P_KBOX=${PORTS[2]} P_KSEND=${PORTS[3]}

# SMS_ONLY=sendcloudd: the sendcloudd half alone, for A/B runs of two builds (the references
# print as '-').
CEILING=- KANNEL=- KANNEL_CPU=-
if [ "$ONLY" != sendcloudd ]; then
  # 1. The ceiling.
  start_sink ceiling
  CEILING=$(/usr/bin/python3 "$SINK" blast "$SINK_PORT" "$MESSAGES" "$SESSIONS" "$WINDOW" |
    sed -n 's/^rate //p')
  log "ceiling (blast -> sink): $CEILING submit_sm/s"

  # 2. Kannel: sendsms -> bearerbox -> SMPP -> the sink.
  start_sink kannel
  # Only the SMSC group differs from bench/run.sh's Kannel (lib.sh's start_kannel writes the rest).
  start_kannel "$BENCH_WORK/kannel" "$P_KADMIN" "$P_KBOX" "$P_KSEND" "$(
    cat <<EOF
group = smsc
smsc = smpp
smsc-id = sink
host = 127.0.0.1
port = $SINK_PORT
transceiver-mode = true
smsc-username = bench
smsc-password = pw
system-type = "bench"
max-pending-submits = $WINDOW
EOF
  )"
  k_cpu0=$(cpu_ticks "${KANNEL_PIDS[@]}")
  t0=$(now_ms)
  feed "http://127.0.0.1:$P_KSEND/cgi-bin/sendsms?username=bench&password=benchpw&text=Hello+from+the+benchmark" \
    to " " GET
  t1=$(wait_count "$BENCH_WORK/kannel.count" "$MESSAGES" 300)
  KANNEL=$(rate "$MESSAGES" $((t1 - t0)))
  KANNEL_CPU=$(cpu_per_sms $(($(cpu_ticks "${KANNEL_PIDS[@]}") - k_cpu0)))
  log "Kannel (sendsms -> bearerbox -> sink): $KANNEL SMS/s, $KANNEL_CPU ms CPU per SMS"
  for p in "${KANNEL_PIDS[@]}"; do stop_pid "$p"; done
fi

# 3. sendcloudd: /smsapi/send -> queue -> SMPP -> the sink, recorded `submitted`.
start_sink sendcloudd
DATA="$BENCH_WORK/sc-data"
mkdir -p "$DATA"
setup_data_dir "$DATA"
sqlite3 "$DATA/sendcloud.db" "UPDATE api_users SET test_mode=0"
cat >"$BENCH_WORK/sendcloud.toml" <<EOF
[[sms_route]]
name = "sink"
connector = "smpp"
host = "127.0.0.1"
port = $SINK_PORT
system_id = "bench"
window = $WINDOW
default = true
EOF
start_sendcloudd "$P_SC" "$DATA" "$BENCH_WORK/sendcloudd.log" --config "$BENCH_WORK/sendcloud.toml"
for ((i = 0; i < 100; i++)); do
  curl -s "http://127.0.0.1:$P_SC/metrics" | grep -q '^sendcloud_sms_route_bound{route="sink"} 1' &&
    break
  sleep 0.1
done
sc_cpu0=$(cpu_ticks "$SC_PID")
t0=$(now_ms)
feed "http://127.0.0.1:$P_SC/smsapi/send?smsUser=bench_sms&smsKey=$SMS_KEY&message=Hello+from+the+benchmark" \
  to "," POST
t_acc=$(now_ms)
t1=$(wait_count "$BENCH_WORK/sendcloudd.count" "$MESSAGES" 300)
# Recorded: the `submitted` rows (with the SMSC's id) in the database.
for ((i = 0; i < 6000; i++)); do
  n=$(sqlite3 "$DATA/sendcloud.db" "SELECT count(*) FROM recipients WHERE state='submitted'")
  [ "$n" -ge "$MESSAGES" ] && break
  sleep 0.05
done
t2=$(now_ms)
SC_CPU=$(cpu_per_sms $(($(cpu_ticks "$SC_PID") - sc_cpu0)))
ACCEPTED=$(rate "$MESSAGES" $((t_acc - t0)))
OURS_SINK=$(rate "$MESSAGES" $((t1 - t0)))
OURS=$(rate "$MESSAGES" $((t2 - t0)))
LATENCY_P=$(curl -s "http://127.0.0.1:$P_SC/metrics" | grep '^sendcloud_sms_submit_seconds_\(sum\|count\)' |
  awk '{v[NR] = $2} END {if (v[2] > 0) printf "%.1f", 1000 * v[1] / v[2]; else print "-"}')
log "sendcloudd: accepted $ACCEPTED SMS/s, at the sink $OURS_SINK, recorded submitted $OURS;" \
  "$SC_CPU ms CPU per SMS"
stop_pid "$SC_PID"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
summary=$(
  cat <<EOF

### SMS submission, $(date -u +%Y-%m-%dT%H:%MZ) ($MESSAGES SMS, $BATCH numbers per request, $SESSIONS HTTP clients, window $WINDOW; $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg); sendcloudd from $BENCH_BUILD_DIR)
| path | SMS/s | vs Kannel | vs ceiling | CPU ms per SMS |
|---|---|---|---|---|
| smpp_sink blast -> sink (ceiling) | $CEILING | | 1.00 | |
| Kannel sendsms -> bearerbox -> sink | $KANNEL | 1.00 | $(ratio "$KANNEL" "$CEILING") | $KANNEL_CPU (bearerbox + smsbox) |
| sendcloudd /smsapi/send -> sink | $OURS_SINK | $(ratio "$OURS_SINK" "$KANNEL") | $(ratio "$OURS_SINK" "$CEILING") | |
| sendcloudd, recorded \`submitted\` | $OURS | $(ratio "$OURS" "$KANNEL") | $(ratio "$OURS" "$CEILING") | $SC_CPU (intake to \`submitted\`) |

sendcloudd accepted the $MESSAGES SMS over HTTP at $ACCEPTED SMS/s; mean submit_sm -> submit_sm_resp $LATENCY_P ms (sendcloud_sms_submit_seconds).
EOF
)
printf '%s\n' "$summary"
if [ "$RECORD" = 1 ] && [ -z "$ONLY" ]; then printf '%s\n' "$summary" >>"$README"; fi
