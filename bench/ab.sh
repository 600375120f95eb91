#!/usr/bin/env bash
# A/B comparison of two sendcloudd binaries (say, before and after a change in src/), in
# alternating rounds so that load from elsewhere on the machine hits both alike.
#   bash bench/ab.sh BIN_A BIN_B [ROUNDS] [SECONDS]
# Scenarios as in bench/run.sh: /email/send (1 recipient), /smsapi/send, the 401 path (its own
# start, lockout off), /healthz; c=$BENCH_CONNECTIONS (64). Prints, per binary and scenario, the
# median requests/s, p99 and server CPU µs per request over the rounds.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN_A=${1:?BIN_A}
BIN_B=${2:?BIN_B}
ROUNDS=${3:-3}
SECS=${4:-8}
CONNS=${BENCH_CONNECTIONS:-64}
WRK_THREADS=${BENCH_WRK_THREADS:-2}
SCENARIOS=${BENCH_SCENARIOS:-email sms wrongkey healthz}

BENCH_WORK=$(mktemp -d /tmp/sc-ab.XXXXXX)
# shellcheck source=bench/lib.sh
source bench/lib.sh
trap bench_cleanup EXIT
trap 'exit 130' INT TERM
bash bench/install-bench-deps.sh
FORM=application/x-www-form-urlencoded
CLK_TCK=$(getconf CLK_TCK)

results="$BENCH_WORK/ab.tsv"
: >"$results"
for ((round = 1; round <= ROUNDS; round++)); do
  for label in A B; do
    if [ "$label" = A ]; then SC_BIN=$BIN_A; else SC_BIN=$BIN_B; fi
    data="$BENCH_WORK/data-$label-$round"
    setup_data_dir "$data"
    mapfile -t PORTS < <(free_ports 1)
    base="http://127.0.0.1:${PORTS[0]}"
    printf 'apiUser=bench_api&apiKey=%s&from=sender%%40bench.example&to=rcpt0%%40example.com&subject=Benchmark+message&html=%%3Cp%%3EHello+from+the+benchmark%%3C%%2Fp%%3E' \
      "$API_KEY" >"$BENCH_WORK/ok.form"
    sed "s/apiKey=[^&]*/apiKey=AbCdEfGhIjKlMnOpQrStUvWxYz012345/" "$BENCH_WORK/ok.form" \
      >"$BENCH_WORK/bad.form"
    for s in $SCENARIOS; do
      extra=()
      [ "$s" = wrongkey ] && extra=(--lockout-ip-failures 0 --lockout-user-failures 0)
      start_sendcloudd "${PORTS[0]}" "$data" "$BENCH_WORK/sc-$label.log" "${extra[@]}"
      unset BENCH_METHOD BENCH_BODY_FILE BENCH_CTYPE
      case "$s" in
        email) url="$base/email/send" && export BENCH_METHOD=POST BENCH_BODY_FILE="$BENCH_WORK/ok.form" BENCH_CTYPE=$FORM ;;
        wrongkey) url="$base/email/send" && export BENCH_METHOD=POST BENCH_BODY_FILE="$BENCH_WORK/bad.form" BENCH_CTYPE=$FORM ;;
        sms) url="$base/smsapi/send?smsUser=bench_sms&smsKey=$SMS_KEY&to=%2B14155550100&message=Hello+from+the+benchmark" ;;
        healthz) url="$base/healthz" ;;
      esac
      wrk -t"$WRK_THREADS" -c"$CONNS" -d2s -s bench/wrk/bench.lua "$url" >/dev/null
      c0=$(cpu_ticks "$SC_PID")
      BENCH_OUT="$BENCH_WORK/out" wrk -t"$WRK_THREADS" -c"$CONNS" -d"${SECS}s" -s bench/wrk/bench.lua \
        "$url" >/dev/null
      c1=$(cpu_ticks "$SC_PID")
      rps=$(tr ' ' '\n' <"$BENCH_WORK/out" | sed -n 's/^rps=//p')
      p99=$(tr ' ' '\n' <"$BENCH_WORK/out" | sed -n 's/^p99_us=//p')
      n=$(tr ' ' '\n' <"$BENCH_WORK/out" | sed -n 's/^requests=//p')
      cpu=$(awk -v t=$((c1 - c0)) -v n="$n" -v hz="$CLK_TCK" 'BEGIN {printf "%.0f", t * 1e6 / hz / n}')
      printf '%s\t%s\t%s\t%s\t%s\n' "$label" "$s" "$rps" "$p99" "$cpu" >>"$results"
      log "round $round $label $s: $rps req/s, p99 $p99 µs, $cpu µs CPU/req"
      stop_pid "$SC_PID"
    done
    rm -rf "$data"
  done
done

echo
echo "A = $BIN_A"
echo "B = $BIN_B"
printf '%-10s %12s %12s %10s %10s %9s %9s\n' scenario "A req/s" "B req/s" "A p99 ms" "B p99 ms" "A µs/req" "B µs/req"
for s in $SCENARIOS; do
  med() { awk -F'\t' -v l="$1" -v s="$s" -v c="$2" '$1 == l && $2 == s {print $c}' "$results" |
    sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
  printf '%-10s %12.0f %12.0f %10.2f %10.2f %9s %9s\n' "$s" "$(med A 3)" "$(med B 3)" \
    "$(awk -v u="$(med A 4)" 'BEGIN {print u / 1000}')" "$(awk -v u="$(med B 4)" 'BEGIN {print u / 1000}')" \
    "$(med A 5)" "$(med B 5)"
done
