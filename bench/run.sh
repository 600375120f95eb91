#!/usr/bin/env bash
# `make bench`: measures sendcloudd over loopback with wrk (keep-alive) and compares it, with the
# same wrk settings in the same run, with
#   - the ceiling: a minimal Boost.Beast server (bench/ceiling_server.cpp) answering 200 + fixed
#     JSON to everything, on the same I/O model as sendcloudd;
#   - Kannel: Debian's smsbox `sendsms` (username, password, to, text) with bearerbox and a fake
#     SMSC (fakesmsc from kannel-extras), all on loopback.
# sendcloudd runs as shipped (Release, SQLite WAL + synchronous=FULL, group commit) with test-mode
# users, so nothing is delivered. The 401 path runs on a second start of the same data dir with
# --lockout-ip-failures 0 --lockout-user-failures 0 (the lockout would turn it into 429s).
#
# Prints a summary and appends it, with the machine's description, to bench/README.md.
# Knobs (environment): BENCH_DURATION (s per main run, 10), BENCH_SHORT (s per scaling run, 5),
# BENCH_CONNECTIONS (64), BENCH_WRK_THREADS (2), BENCH_RECORD (1: append to README),
# BENCH_MICRO (1: run the Google Benchmark suite), BENCH_KEEP (keep the temp dir),
# BENCH_WAIT_IDLE (seconds to wait for a quiet machine first, 0).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${BENCH_DURATION:-10}
SHORT=${BENCH_SHORT:-5}
CONNS=${BENCH_CONNECTIONS:-64}
WRK_THREADS=${BENCH_WRK_THREADS:-2}
RECORD=${BENCH_RECORD:-1}
MICRO=${BENCH_MICRO:-1}
README=bench/README.md

BENCH_WORK=$(mktemp -d /tmp/sc-bench.XXXXXX)
# shellcheck source=bench/lib.sh
source bench/lib.sh
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

bash bench/install-bench-deps.sh
log "building Release in $BENCH_BUILD_DIR"
bench_build

# On a shared machine, optionally wait (up to BENCH_WAIT_IDLE seconds) until others' work has
# calmed down: a 1-minute load average under 1.
if [ "${BENCH_WAIT_IDLE:-0}" -gt 0 ]; then
  for ((i = 0; i < BENCH_WAIT_IDLE; i += 5)); do
    awk '{exit !($1 < 1.0)}' /proc/loadavg && break
    [ "$i" = 0 ] && log "waiting up to ${BENCH_WAIT_IDLE}s for the load average to drop below 1"
    sleep 5
  done
fi
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
RESULTS="$BENCH_WORK/results"
mkdir -p "$RESULTS"

# run_wrk NAME CONNS SECONDS URL PID... (env BENCH_METHOD, BENCH_BODY_FILE, BENCH_CTYPE,
# BENCH_DELAY_MS pass through to bench/wrk/bench.lua). Writes $RESULTS/NAME: wrk's numbers plus
# the CPU the server processes used during the run.
run_wrk() {
  local name=$1 conns=$2 secs=$3 url=$4
  shift 4
  local threads=$((conns < WRK_THREADS ? conns : WRK_THREADS))
  local c0 c1 m0 m1 w
  c0=$(cpu_ticks "$@")
  m0=$(machine_ticks)
  # wrk's own CPU (user+sys seconds) from bash's `time`, to tell the machine's other load apart.
  w=$({ TIMEFORMAT='%U %S'; time BENCH_OUT="$RESULTS/$name" wrk -t"$threads" -c"$conns" \
    -d"${secs}s" --timeout 5s -s bench/wrk/bench.lua "$url" >"$RESULTS/$name.wrk" 2>&1; } 2>&1) ||
    die "wrk failed for $name: $(cat "$RESULTS/$name.wrk")"
  m1=$(machine_ticks)
  c1=$(cpu_ticks "$@")
  # others_pct: CPU used by everything but the server and wrk, in % of the machine (nproc cores).
  awk -v c=$((c1 - c0)) -v m="$m0 $m1" -v w="$w" -v hz="$CLK_TCK" -v n="$(nproc)" -v s="$secs" \
    -v conns="$conns" 'BEGIN {
      split(m, a, " "); split(w, b, " ");
      busy = (a[3] - a[1]) / hz; total = (a[4] - a[2]) / hz;
      wrk = b[1] + b[2]; srv = c / hz;
      others = busy - srv - wrk; if (others < 0) others = 0;
      printf "cpu_ticks=%d conns=%d wrk_cpu_s=%.2f server_cpu_s=%.2f others_pct=%.0f\n",
        c, conns, wrk, srv, (total > 0 ? 100 * others / total : 0) }' >>"$RESULTS/$name"
  log "$(printf '%-22s c=%-3s %s' "$name" "$conns" "$(cut -d' ' -f3-7 "$RESULTS/$name" | head -1)")"
}

# get NAME KEY: one value from a result file (empty when absent).
get() {
  [ -f "$RESULTS/$1" ] || return 0
  tr ' ' '\n' <"$RESULTS/$1" | sed -n "s/^$2=//p" | head -1
}

# expect_status URL WANT [curl args]: one request outside the measurement, to check the path.
expect_status() {
  local url=$1 want=$2
  shift 2
  local got
  got=$(curl -s -o "$BENCH_WORK/last_body" -w '%{http_code}' "$@" "$url")
  [ "$got" = "$want" ] || die "expected $want from $url, got $got: $(head -c 400 "$BENCH_WORK/last_body")"
}

with_body() { # with_body METHOD FILE CTYPE -- command...
  local m=$1 f=$2 t=$3
  shift 4
  BENCH_METHOD=$m BENCH_BODY_FILE=$f BENCH_CTYPE=$t "$@"
}

CLK_TCK=$(getconf CLK_TCK)
mapfile -t PORTS < <(free_ports 6)
P_SC=${PORTS[0]} P_CEIL=${PORTS[1]} P_KADMIN=${PORTS[2]} P_KBOX=${PORTS[3]} P_KSMSC=${PORTS[4]}
P_KSEND=${PORTS[5]}

# ---------------------------------------------------------------- request bodies and URLs
email_body() { # email_body N FILE: the one-recipient form, with N recipients
  local n=$1 to="" i
  for ((i = 0; i < n; i++)); do
    [ "$i" -gt 0 ] && to+="%3B"
    to+="rcpt$i%40example.com"
  done
  printf 'apiUser=bench_api&apiKey=%s&from=sender%%40bench.example&to=%s&subject=Benchmark+message&html=%%3Cp%%3EHello+from+the+benchmark%%3C%%2Fp%%3E' \
    "${3:-$API_KEY}" "$to" >"$2"
}
FORM=application/x-www-form-urlencoded

# ---------------------------------------------------------------- the ceiling
log "ceiling server on 127.0.0.1:$P_CEIL"
start_ceiling "$P_CEIL" "$BENCH_WORK/ceiling.log"
CEIL_URL="http://127.0.0.1:$P_CEIL/email/send"
wrk -t"$WRK_THREADS" -c"$CONNS" -d2s "$CEIL_URL" >/dev/null # warm-up
run_wrk ceiling "$CONNS" "$DURATION" "$CEIL_URL" "$CEILING_PID"
for c in 1 8 256; do run_wrk "ceiling_c$c" "$c" "$SHORT" "$CEIL_URL" "$CEILING_PID"; done
CEIL_RSS=$(peak_rss_kib "$CEILING_PID")
stop_pid "$CEILING_PID"

# ---------------------------------------------------------------- sendcloudd
DATA="$BENCH_WORK/data"
setup_data_dir "$DATA"
log "sendcloudd on 127.0.0.1:$P_SC (data dir $DATA)"
start_sendcloudd "$P_SC" "$DATA" "$BENCH_WORK/sendcloudd.log"
BASE="http://127.0.0.1:$P_SC"
EMAIL_URL="$BASE/email/send"
SMS_URL="$BASE/smsapi/send?smsUser=bench_sms&smsKey=$SMS_KEY&to=%2B14155550100&message=Hello+from+the+benchmark"
HEALTH_URL="$BASE/healthz"
for n in 1 10 100; do email_body "$n" "$BENCH_WORK/email$n.form"; done
email_body 1 "$BENCH_WORK/wrongkey.form" "AbCdEfGhIjKlMnOpQrStUvWxYz012345"

expect_status "$EMAIL_URL" 200 --data-binary "@$BENCH_WORK/email1.form" -H "Content-Type: $FORM"
grep -q '"emailIdList"' "$BENCH_WORK/last_body" || die "unexpected /email/send body"
expect_status "$EMAIL_URL" 200 --data-binary "@$BENCH_WORK/email100.form" -H "Content-Type: $FORM"
expect_status "$SMS_URL" 200
expect_status "$HEALTH_URL" 200
# Test mode really is on: the recipients were stored as "test", never "queued".
queued=$(sqlite3 "$DATA/sendcloud.db" "SELECT count(*) FROM recipients WHERE state <> 'test'")
[ "$queued" = "0" ] || die "$queued recipients are not in test mode"

with_body POST "$BENCH_WORK/email1.form" "$FORM" -- \
  wrk -t"$WRK_THREADS" -c"$CONNS" -d2s -s bench/wrk/bench.lua "$EMAIL_URL" >/dev/null # warm-up
with_body POST "$BENCH_WORK/email1.form" "$FORM" -- \
  run_wrk email "$CONNS" "$DURATION" "$EMAIL_URL" "$SC_PID"
RSS_EMAIL=$(peak_rss_kib "$SC_PID")
run_wrk sms "$CONNS" "$DURATION" "$SMS_URL" "$SC_PID"
run_wrk healthz "$CONNS" "$DURATION" "$HEALTH_URL" "$SC_PID"
for n in 10 100; do
  with_body POST "$BENCH_WORK/email$n.form" "$FORM" -- \
    run_wrk "email_r$n" "$CONNS" "$DURATION" "$EMAIL_URL" "$SC_PID"
done
for c in 1 8 256; do
  with_body POST "$BENCH_WORK/email1.form" "$FORM" -- \
    run_wrk "email_c$c" "$c" "$SHORT" "$EMAIL_URL" "$SC_PID"
  run_wrk "sms_c$c" "$c" "$SHORT" "$SMS_URL" "$SC_PID"
done

# Half of each path's peak, paced (see bench/wrk/bench.lua): each connection waits
# CONNS/(rate) seconds less the path's mean latency at that load between its requests.
paced() { # paced NAME PEAKNAME URL [method file ctype]
  local name=$1 peak=$2 url=$3 m=${4:-GET} f=${5:-} t=${6:-}
  local rate d mean
  rate=$(awk -v r="$(get "$peak" rps)" 'BEGIN {printf "%.0f", r / 2}')
  d=$(awk -v c="$CONNS" -v r="$rate" 'BEGIN {printf "%.3f", c * 1000 / r}')
  # A short calibration run learns the latency at that load, so the achieved rate lands near
  # the target.
  BENCH_METHOD=$m BENCH_BODY_FILE=$f BENCH_CTYPE=$t BENCH_DELAY_MS=$d \
    run_wrk "${name}_cal" "$CONNS" 3 "$url" "${@:7}"
  mean=$(get "${name}_cal" mean_us)
  d=$(awk -v d="$d" -v m="$mean" 'BEGIN {x = d - m / 1000; if (x < 0) x = 0; printf "%.3f", x}')
  BENCH_METHOD=$m BENCH_BODY_FILE=$f BENCH_CTYPE=$t BENCH_DELAY_MS=$d \
    run_wrk "$name" "$CONNS" "$DURATION" "$url" "${@:7}"
  echo "target_rps=$rate" >>"$RESULTS/$name"
}
paced email_half email "$EMAIL_URL" POST "$BENCH_WORK/email1.form" "$FORM" "$SC_PID"
paced sms_half sms "$SMS_URL" GET "" "" "$SC_PID"
paced healthz_half healthz "$HEALTH_URL" GET "" "" "$SC_PID"
RSS_SC1=$(peak_rss_kib "$SC_PID")
DB_MESSAGES=$(sqlite3 "$DATA/sendcloud.db" "SELECT count(*) FROM messages")
stop_pid "$SC_PID"

# The 401 path: same data dir, lockout off (else the 21st failure a minute is a 429).
log "sendcloudd again with --lockout-ip-failures 0 --lockout-user-failures 0 for the 401 path"
start_sendcloudd "$P_SC" "$DATA" "$BENCH_WORK/sendcloudd-401.log" \
  --lockout-ip-failures 0 --lockout-user-failures 0
expect_status "$EMAIL_URL" 401 --data-binary "@$BENCH_WORK/wrongkey.form" -H "Content-Type: $FORM"
with_body POST "$BENCH_WORK/wrongkey.form" "$FORM" -- \
  wrk -t"$WRK_THREADS" -c"$CONNS" -d2s -s bench/wrk/bench.lua "$EMAIL_URL" >/dev/null # warm-up
with_body POST "$BENCH_WORK/wrongkey.form" "$FORM" -- \
  run_wrk wrongkey "$CONNS" "$DURATION" "$EMAIL_URL" "$SC_PID"
paced wrongkey_half wrongkey "$EMAIL_URL" POST "$BENCH_WORK/wrongkey.form" "$FORM" "$SC_PID"
expect_status "$EMAIL_URL" 401 --data-binary "@$BENCH_WORK/wrongkey.form" -H "Content-Type: $FORM"
RSS_SC2=$(peak_rss_kib "$SC_PID")
SC_LOG_BYTES=$(stat -c %s "$BENCH_WORK/sendcloudd-401.log")
stop_pid "$SC_PID"
DB_BYTES=$(du -sb "$DATA" | cut -f1)

# ---------------------------------------------------------------- Kannel
log "Kannel: bearerbox, fakesmsc and smsbox on 127.0.0.1:$P_KADMIN/$P_KBOX/$P_KSMSC/$P_KSEND"
start_kannel "$BENCH_WORK/kannel" "$P_KADMIN" "$P_KBOX" "$P_KSEND" "$(fake_smsc_group "$P_KSMSC")"
KANNEL_URL="http://127.0.0.1:$P_KSEND/cgi-bin/sendsms?username=bench&password=benchpw&to=%2B14155550100&text=Hello+from+the+benchmark"
expect_status "$KANNEL_URL" 202
wrk -t"$WRK_THREADS" -c"$CONNS" -d2s "$KANNEL_URL" >/dev/null # warm-up
run_wrk kannel "$CONNS" "$DURATION" "$KANNEL_URL" "${KANNEL_PIDS[@]}"
for c in 1 8 256; do run_wrk "kannel_c$c" "$c" "$SHORT" "$KANNEL_URL" "${KANNEL_PIDS[@]}"; done
KANNEL_RSS=0
for p in "${KANNEL_PIDS[@]}"; do KANNEL_RSS=$((KANNEL_RSS + $(peak_rss_kib "$p"))); done
KANNEL_SENT=$(curl -s "http://127.0.0.1:$P_KADMIN/status.txt?password=bench" |
  sed -n 's/^SMS: received.*sent \([0-9]*\) .*/\1/p' | head -1)
for p in "${KANNEL_PIDS[@]}"; do stop_pid "$p"; done

# ---------------------------------------------------------------- micro-suite
MICRO_OUT="$BENCH_WORK/micro.txt"
if [ "$MICRO" = "1" ]; then
  log "Google Benchmark micro-suite"
  "$MICRO_BIN" --benchmark_min_time=0.2 --benchmark_format=console >"$MICRO_OUT" 2>/dev/null ||
    die "the micro-suite failed"
fi

LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------- report
ms() { awk -v u="$1" 'BEGIN {printf "%.2f", u / 1000}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2f", a / b; else print "n/a"}'; }
mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }
cpu_us() { # CPU µs the server spent per request
  awk -v t="$(get "$1" cpu_ticks)" -v n="$(get "$1" requests)" -v hz="$CLK_TCK" \
    'BEGIN {if (n > 0) printf "%.0f", t * 1e6 / hz / n; else print "n/a"}'
}
non2xx() { get "$1" status_ge_400; }
wrk_us() { # CPU µs wrk spent per request
  awk -v w="$(get "$1" wrk_cpu_s)" -v n="$(get "$1" requests)" \
    'BEGIN {if (n > 0) printf "%.0f", w * 1e6 / n; else print "n/a"}'
}
row() { # row LABEL NAME
  printf '| %s | %s | %.0f | %s | %s | %s | %s | %s | %s | %s%% |\n' "$1" "$(get "$2" conns)" \
    "$(get "$2" rps)" "$(ms "$(get "$2" p50_us)")" "$(ms "$(get "$2" p99_us)")" \
    "$(cpu_us "$2")" "$(wrk_us "$2")" "$(non2xx "$2")" \
    "$(($(get "$2" err_connect) + $(get "$2" err_read) + $(get "$2" err_write) + $(get "$2" err_timeout)))" \
    "$(get "$2" others_pct)"
}
check() { awk -v c="$1" 'BEGIN {print (c ? "met" : "NOT met")}'; }

R_EMAIL=$(get email rps)
R_SMS=$(get sms rps)
R_HEALTH=$(get healthz rps)
R_WRONG=$(get wrongkey rps)
R_CEIL=$(get ceiling rps)
R_KANNEL=$(get kannel rps)
PEAK_RSS=$(printf '%s\n' "$RSS_SC1" "$RSS_SC2" | sort -n | tail -1)
HALF_P99_MAX=$(for n in email_half sms_half healthz_half wrongkey_half; do get "$n" p99_us; done |
  sort -n | tail -1)

CPU_MODEL=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
MEM_TOTAL=$(awk '/^MemTotal:/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)

REPORT="$BENCH_WORK/report.md"
{
  echo "### Run of $(date -u '+%Y-%m-%d %H:%M UTC') (HEAD $COMMIT plus the working tree as built)"
  echo
  echo "Machine: $(nproc) CPUs ($CPU_MODEL), $MEM_TOTAL RAM, kernel $(uname -r); load average" \
    "before $LOAD_BEFORE, after $LOAD_AFTER (other work on the machine shows up here)."
  echo "wrk $(wrk -v 2>&1 | head -1 | awk '{print $2}'), -t$WRK_THREADS (fewer when c is smaller)," \
    "keep-alive, ${DURATION}s per main run, ${SHORT}s per scaling run; sendcloudd Release," \
    "--access-log=false, test-mode users; Kannel 1.4.5 log-level 3, no store file." \
    "\"other load\": CPU used during the run by neither the server nor wrk, in % of all cores" \
    "(other work on a shared machine; numbers with much of it are low and noisy)."
  echo
  echo "| scenario | conns | req/s | p50 ms | p99 ms | server CPU µs/req | wrk CPU µs/req | HTTP ≥400 | socket errors | other load |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  row "ceiling (Beast, fixed 200)" ceiling
  row "sendcloudd POST /email/send, 1 rcpt" email
  row "sendcloudd GET /smsapi/send" sms
  row "sendcloudd /email/send wrong key (401, lockout off)" wrongkey
  row "sendcloudd GET /healthz" healthz
  row "Kannel GET /cgi-bin/sendsms" kannel
  echo
  echo "Ratios: /email/send ÷ ceiling $(ratio "$R_EMAIL" "$R_CEIL"); /smsapi/send ÷ ceiling" \
    "$(ratio "$R_SMS" "$R_CEIL"); /healthz ÷ ceiling $(ratio "$R_HEALTH" "$R_CEIL");" \
    "/smsapi/send ÷ Kannel sendsms $(ratio "$R_SMS" "$R_KANNEL"); /email/send ÷ Kannel" \
    "$(ratio "$R_EMAIL" "$R_KANNEL"); 401 ÷ /email/send success $(ratio "$R_WRONG" "$R_EMAIL")."
  echo
  echo "Peak RSS (VmHWM): sendcloudd $(mib "$PEAK_RSS") MiB (after the success runs $(mib "$RSS_SC1")," \
    "of which after the first /email/send run $(mib "$RSS_EMAIL"); 401 instance $(mib "$RSS_SC2"));" \
    "ceiling $(mib "$CEIL_RSS") MiB; Kannel bearerbox+smsbox+fakesmsc $(mib "$KANNEL_RSS") MiB." \
    "Database after the runs: $DB_MESSAGES messages, $(mib $((DB_BYTES / 1024))) MiB;" \
    "sendcloudd's log during the 401 runs grew to $(mib $((SC_LOG_BYTES / 1024))) MiB." \
    "Kannel's fake SMSC received ${KANNEL_SENT:-?} messages."
  echo
  echo "At half of each path's peak (paced, c=$CONNS):"
  echo
  echo "| scenario | target req/s | achieved req/s | p50 ms | p99 ms | max ms |"
  echo "|---|---:|---:|---:|---:|---:|"
  for n in email_half sms_half wrongkey_half healthz_half; do
    printf '| %s | %s | %.0f | %s | %s | %s |\n' "$n" "$(get "$n" target_rps)" "$(get "$n" rps)" \
      "$(ms "$(get "$n" p50_us)")" "$(ms "$(get "$n" p99_us)")" "$(ms "$(get "$n" max_us)")"
  done
  echo
  echo "Scaling with connections (req/s, p99 ms in brackets):"
  echo
  echo "| conns | ceiling | /email/send | /smsapi/send | Kannel sendsms |"
  echo "|---:|---:|---:|---:|---:|"
  for c in 1 8 64 256; do
    if [ "$c" = "$CONNS" ]; then s=""; else s="_c$c"; fi
    cell() { printf '%.0f (%s)' "$(get "$1" rps)" "$(ms "$(get "$1" p99_us)")"; }
    printf '| %s | %s | %s | %s | %s |\n' "$c" "$(cell "ceiling$s")" "$(cell "email$s")" \
      "$(cell "sms$s")" "$(cell "kannel$s")"
  done
  echo
  echo "Recipients per /email/send (c=$CONNS):"
  echo
  echo "| recipients | req/s | recipients/s | p50 ms | p99 ms | server CPU µs/req |"
  echo "|---:|---:|---:|---:|---:|---:|"
  for n in 1 10 100; do
    if [ "$n" = 1 ]; then k=email; else k="email_r$n"; fi
    printf '| %s | %.0f | %.0f | %s | %s | %s |\n' "$n" "$(get "$k" rps)" \
      "$(awk -v r="$(get "$k" rps)" -v n="$n" 'BEGIN {print r * n}')" \
      "$(ms "$(get "$k" p50_us)")" "$(ms "$(get "$k" p99_us)")" "$(cpu_us "$k")"
  done
  echo
  echo "Targets:"
  echo
  echo "| target | measured | |"
  echo "|---|---|---|"
  echo "| /email/send ≥ 40% of the ceiling | $(ratio "$R_EMAIL" "$R_CEIL") | $(check "$(awk -v a="$R_EMAIL" -v b="$R_CEIL" 'BEGIN {print (a >= 0.4 * b)}')") |"
  echo "| /smsapi/send ≥ 3× Kannel sendsms | $(ratio "$R_SMS" "$R_KANNEL")× | $(check "$(awk -v a="$R_SMS" -v b="$R_KANNEL" 'BEGIN {print (a >= 3 * b)}')") |"
  echo "| p99 < 10 ms at half of peak (worst path) | $(ms "$HALF_P99_MAX") ms | $(check "$(awk -v p="$HALF_P99_MAX" 'BEGIN {print (p < 10000)}')") |"
  echo "| peak RSS < 64 MiB | $(mib "$PEAK_RSS") MiB | $(check "$(awk -v k="$PEAK_RSS" 'BEGIN {print (k < 65536)}')") |"
  echo "| 401 path at least as fast as success | $(ratio "$R_WRONG" "$R_EMAIL")× | $(check "$(awk -v a="$R_WRONG" -v b="$R_EMAIL" 'BEGIN {print (a >= b)}')") |"
  if [ -s "$MICRO_OUT" ]; then
    echo
    echo "Micro-suite (sc_micro_bench, ns per operation):"
    echo
    echo '```'
    printf '%-48s %14s %14s\n' benchmark "wall time" "CPU time"
    grep -E '^BM_' "$MICRO_OUT" | awk '{printf "%-48s %11s %s %11s %s\n", $1, $2, $3, $4, $5}'
    echo '```'
  fi
  echo
} >"$REPORT"

echo
cat "$REPORT"
if [ "$RECORD" = "1" ]; then
  cat "$REPORT" >>"$README"
  log "appended to $README"
fi
