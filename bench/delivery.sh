#!/usr/bin/env bash
# Email delivery, end to end, beside two references measured in the same run (part of `make
# bench`; alone: `bash bench/delivery.sh`):
#   - the ceiling: Postfix's smtp-source straight into smtp-sink (the tools' own limit);
#   - Postfix: its own instance (`postfix -c DIR`, own queue directory, loopback ports only)
#     relaying the same load from its on-disk queue to an smtp-sink;
#   - sendcloudd: messages accepted over HTTP (/email/send, one recipient each), DKIM-signed
#     (RSA-2048) and delivered by its own SMTP agent to an smtp-sink through --smtp-relay.
# Every rate is messages that reached the sink per second, from the first submission to the last
# arrival. Prints a table and, with BENCH_RECORD=1, appends it to bench/README.md.
# Knobs: DELIVERY_MESSAGES (10000), DELIVERY_SESSIONS (20 parallel SMTP/HTTP clients),
# DELIVERY_SC_ARGS (extra sendcloudd flags, e.g. "--smtp-connections-per-host 20").
set -euo pipefail
cd "$(dirname "$0")/.."

MESSAGES=${DELIVERY_MESSAGES:-10000}
SESSIONS=${DELIVERY_SESSIONS:-20}
RECORD=${BENCH_RECORD:-1}
README=bench/README.md

BENCH_WORK=${BENCH_WORK:-$(mktemp -d /tmp/sc-delivery.XXXXXX)}
# shellcheck source=bench/lib.sh
source bench/lib.sh
trap 'stop_postfix; bench_cleanup' EXIT
trap 'exit 130' INT TERM

delivery_bench_deps

now_ms() { date +%s%3N; }

# wait_count OUT N SECONDS: until the sink has counted N messages; prints the time (ms) it did.
wait_count() {
  local out=$1 want=$2 limit=$3 i c
  for ((i = 0; i < limit * 20; i++)); do
    c=$(smtp_sink_count "$out")
    if [ "${c:-0}" -ge "$want" ]; then
      now_ms
      return 0
    fi
    sleep 0.05
  done
  log "only ${c:-0} of $want messages arrived in ${limit}s"
  now_ms
  return 1
}

rate() { awk -v n="$1" -v ms="$2" 'BEGIN { printf "%.0f", n * 1000 / ms }'; }

PF_DIR=""
stop_postfix() {
  if [ -n "$PF_DIR" ] && [ -d "$PF_DIR/conf" ]; then
    /usr/sbin/postfix -c "$PF_DIR/conf" stop >/dev/null 2>&1 || true
  fi
}

mapfile -t PORTS < <(free_ports 5)
SINK_A=${PORTS[0]} SINK_B=${PORTS[1]} SINK_C=${PORTS[2]} PF_PORT=${PORTS[3]} SC_PORT=${PORTS[4]}

# 1. The ceiling.
start_smtp_sink "$SINK_A" "$BENCH_WORK/sink-a.out"
t0=$(now_ms)
smtp-source -s "$SESSIONS" -m "$MESSAGES" -l 2000 -f bench@bench.example -t rcpt@sink.example \
  "127.0.0.1:$SINK_A" >/dev/null
t1=$(wait_count "$BENCH_WORK/sink-a.out" "$MESSAGES" 120)
CEILING=$(rate "$MESSAGES" $((t1 - t0)))
log "ceiling (smtp-source -> smtp-sink): $CEILING msg/s"

# 2. Postfix relaying from its queue.
PF_DIR="$BENCH_WORK/postfix"
mkdir -p "$PF_DIR/conf" "$PF_DIR/queue" "$PF_DIR/data"
chown postfix "$PF_DIR/data"
chmod 755 "$BENCH_WORK" "$PF_DIR"
cp /etc/postfix/master.cf "$PF_DIR/conf/"
cat >"$PF_DIR/conf/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $PF_DIR/queue
data_directory = $PF_DIR/data
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = bench.localdomain
mydestination =
relayhost = [127.0.0.1]:$SINK_B
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
smtp_tls_security_level = none
maillog_file = /dev/stdout
alias_maps =
alias_database =
local_recipient_maps =
EOF
postconf -c "$PF_DIR/conf" -F '*/*/chroot = n'
sed -i -E "s/^smtp[[:space:]]+inet/$PF_PORT inet/" "$PF_DIR/conf/master.cf"
start_smtp_sink "$SINK_B" "$BENCH_WORK/sink-b.out"
# In the foreground (its log on stdout: postlogd cannot write a file of ours), stopped by
# `postfix stop` at the end.
/usr/sbin/postfix -c "$PF_DIR/conf" start-fg >"$PF_DIR/postfix.log" 2>&1 &
BENCH_PIDS+=($!)
for ((i = 0; i < 100; i++)); do
  ss -ltn "sport = :$PF_PORT" | grep -q LISTEN && break
  sleep 0.1
done
ss -ltn "sport = :$PF_PORT" | grep -q LISTEN || {
  tail -5 "$PF_DIR/postfix.log"
  die "Postfix did not listen on $PF_PORT"
}
t0=$(now_ms)
smtp-source -s "$SESSIONS" -m "$MESSAGES" -l 2000 -f bench@bench.example -t rcpt@sink.example \
  "127.0.0.1:$PF_PORT" >/dev/null
t1=$(wait_count "$BENCH_WORK/sink-b.out" "$MESSAGES" 300)
POSTFIX=$(rate "$MESSAGES" $((t1 - t0)))
stop_postfix
log "Postfix relaying: $POSTFIX msg/s"

# 3. sendcloudd: accepted over HTTP, delivered by its SMTP agent.
OURS="-"
# (The help is read whole first: `grep -q` would stop reading early, and under pipefail the
# SIGPIPE this gives sendcloudd would read as "no --smtp-relay".)
SC_HELP=$("$SC_BIN" --help 2>&1 || true)
if grep -q -- '--smtp-relay' <<<"$SC_HELP"; then
  start_smtp_sink "$SINK_C" "$BENCH_WORK/sink-c.out"
  DATA="$BENCH_WORK/sc-data"
  mkdir -p "$DATA"
  # DKIM signing on, as the issue's target asks: every message is signed (RSA-2048).
  setup_delivery_data_dir "$DATA"
  start_sendcloudd "$SC_PORT" "$DATA" "$BENCH_WORK/sendcloudd.log" \
    --smtp-relay "127.0.0.1:$SINK_C" --smtp-tls none ${DELIVERY_SC_ARGS:-}
  t0=$(now_ms)
  /usr/bin/python3 - "$SC_PORT" "$API_KEY" "$MESSAGES" "$SESSIONS" <<'PY'
import http.client, sys, threading, urllib.parse
port, key, total, sessions = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
def worker(n):
    c = http.client.HTTPConnection("127.0.0.1", port)
    for i in range(n):
        body = urllib.parse.urlencode({"apiUser": "bench_api", "apiKey": key,
            "from": "bench@bench.example", "to": "rcpt@sink.example",
            "subject": "bench", "plain": "x" * 1500})
        c.request("POST", "/email/send", body, {"Content-Type": "application/x-www-form-urlencoded"})
        r = c.getresponse(); r.read()
        if r.status != 200: raise SystemExit("send failed: %d" % r.status)
per = [total // sessions + (1 if i < total % sessions else 0) for i in range(sessions)]
ts = [threading.Thread(target=worker, args=(n,)) for n in per]
[t.start() for t in ts]; [t.join() for t in ts]
PY
  t1=$(wait_count "$BENCH_WORK/sink-c.out" "$MESSAGES" 600)
  OURS=$(rate "$MESSAGES" $((t1 - t0)))
  log "sendcloudd (HTTP accept -> SMTP delivery): $OURS msg/s"
else
  log "this sendcloudd has no SMTP delivery (--smtp-relay): its row stays empty"
fi

summary=$(
  cat <<EOF

### Email delivery, $(date -u +%Y-%m-%dT%H:%MZ) ($MESSAGES messages, $SESSIONS sessions)
| path | msg/s | vs Postfix | vs ceiling |
|---|---|---|---|
| smtp-source -> smtp-sink (ceiling) | $CEILING | | 1.00 |
| Postfix relay (own instance, on-disk queue) | $POSTFIX | 1.00 | $(awk -v a="$POSTFIX" -v b="$CEILING" 'BEGIN{printf "%.2f", a/b}') |
| sendcloudd HTTP -> queue -> SMTP | $OURS | $(awk -v a="$OURS" -v b="$POSTFIX" 'BEGIN{ if (a=="-") print "-"; else printf "%.2f", a/b}') | $(awk -v a="$OURS" -v b="$CEILING" 'BEGIN{ if (a=="-") print "-"; else printf "%.2f", a/b}') |
EOF
)
printf '%s\n' "$summary"
if [ "$RECORD" = 1 ]; then printf '%s\n' "$summary" >>"$README"; fi
