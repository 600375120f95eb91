#!/usr/bin/env bash
# Profiles sendcloudd under wrk load, the way bench/run.sh drives it, to explain its numbers.
#   bash bench/profile.sh SCENARIO TOOL [SECONDS]
#   SCENARIO: email (POST /email/send, 1 recipient) | email100 | sms (GET /smsapi/send) |
#             wrongkey (the 401 path, lockout off) | healthz
#   TOOL:     perf      perf record -g (DWARF unwinding) of the server; report in perf.txt
#             strace    strace -c -f of the server: syscall counts and time (fsync, futex, ...)
#             offcpu    strace -T -tt of fdatasync, sleeps, temp files and WAL writes per
#                       thread: where the group-commit writer waits
#             callgrind the server under valgrind --tool=callgrind (slow: light load)
#             heaptrack the server under heaptrack (allocations per request)
# Builds Release with -g -fno-omit-frame-pointer in build/bench-prof (same -O3 code otherwise).
# Output goes to bench/profile-out/SCENARIO-TOOL/ (not committed).
set -euo pipefail
cd "$(dirname "$0")/.."

SCENARIO=${1:?scenario: email | email100 | sms | wrongkey | healthz}
TOOL=${2:?tool: perf | strace | offcpu | callgrind | heaptrack}
SECS=${3:-10}
CONNS=${BENCH_CONNECTIONS:-64}
export BENCH_BUILD_DIR=${BENCH_BUILD_DIR:-build/bench-prof}

BENCH_WORK=$(mktemp -d /tmp/sc-profile.XXXXXX)
# shellcheck source=bench/lib.sh
source bench/lib.sh
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

OUT="bench/profile-out/$SCENARIO-$TOOL"
rm -rf "$OUT"
mkdir -p "$OUT"

bash bench/install-bench-deps.sh
log "building Release with symbols in $BENCH_BUILD_DIR"
# Same as bench_build, plus symbols and frame pointers for the profilers.
cmake -S . -B "$BENCH_BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSC_BUILD_TESTS=OFF \
  -DSC_BUILD_BENCH=OFF "-DCMAKE_CXX_FLAGS=-g -fno-omit-frame-pointer" \
  >"$BENCH_WORK/cmake.log" 2>&1 || die "cmake failed: $(tail -20 "$BENCH_WORK/cmake.log")"
cmake --build "$BENCH_BUILD_DIR" -j "$(nproc)" --target sendcloudd >>"$BENCH_WORK/cmake.log" 2>&1 ||
  die "build failed: $(grep -m1 -A20 error "$BENCH_WORK/cmake.log")"

mapfile -t PORTS < <(free_ports 1)
PORT=${PORTS[0]}
DATA="$BENCH_WORK/data"
setup_data_dir "$DATA"
BASE="http://127.0.0.1:$PORT"
FORM=application/x-www-form-urlencoded
to="rcpt0%40example.com"
if [ "$SCENARIO" = email100 ]; then
  for ((i = 1; i < 100; i++)); do to+="%3Brcpt$i%40example.com"; done
fi
key=$API_KEY
[ "$SCENARIO" = wrongkey ] && key=AbCdEfGhIjKlMnOpQrStUvWxYz012345
printf 'apiUser=bench_api&apiKey=%s&from=sender%%40bench.example&to=%s&subject=Benchmark+message&html=%%3Cp%%3EHello%%3C%%2Fp%%3E' \
  "$key" "$to" >"$BENCH_WORK/body.form"

case "$SCENARIO" in
  email | email100 | wrongkey)
    URL="$BASE/email/send"
    export BENCH_METHOD=POST BENCH_BODY_FILE="$BENCH_WORK/body.form" BENCH_CTYPE=$FORM
    ;;
  sms) URL="$BASE/smsapi/send?smsUser=bench_sms&smsKey=$SMS_KEY&to=%2B14155550100&message=Hello" ;;
  healthz) URL="$BASE/healthz" ;;
  *) die "unknown scenario $SCENARIO" ;;
esac

flags=(--listen "127.0.0.1:$PORT" --data-dir "$DATA" --demo=false --access-log=false)
[ "$SCENARIO" = wrongkey ] && flags+=(--lockout-ip-failures 0 --lockout-user-failures 0)

case "$TOOL" in
  callgrind)
    valgrind --tool=callgrind --callgrind-out-file="$OUT/callgrind.out" "$SC_BIN" "${flags[@]}" \
      >"$OUT/server.log" 2>&1 &
    ;;
  heaptrack)
    heaptrack -o "$OUT/heaptrack" "$SC_BIN" "${flags[@]}" >"$OUT/server.log" 2>&1 &
    ;;
  *)
    "$SC_BIN" "${flags[@]}" >"$OUT/server.log" 2>&1 &
    ;;
esac
SC_PID=$!
BENCH_PIDS+=("$SC_PID")
wait_http "$BASE/healthz" 60 || die "sendcloudd did not come up"
# Under valgrind the pid we hold is the server itself (valgrind execs in place); under heaptrack
# it is heaptrack's shell, which forwards SIGTERM.

load_conns=$CONNS
[ "$TOOL" = callgrind ] && load_conns=8
wrk -t2 -c"$load_conns" -d2s -s bench/wrk/bench.lua "$URL" >/dev/null # warm-up

case "$TOOL" in
  perf)
    # Frame pointers: our code has them (build flags above); SQLite and libstdc++ frames show as
    # their callers. DWARF unwinding would be complete but takes minutes to report here.
    perf record -F 999 -g -p "$SC_PID" -o "$OUT/perf.data" -- sleep "$SECS" \
      >"$OUT/perf-record.log" 2>&1 &
    prof=$!
    wrk -t2 -c"$load_conns" -d"${SECS}s" -s bench/wrk/bench.lua "$URL" | tee "$OUT/wrk.txt"
    wait "$prof" || true
    perf report -i "$OUT/perf.data" --no-children --sort dso,symbol -g none --stdio \
      --percent-limit 0.4 2>/dev/null | grep -v '^$' | cut -c1-220 >"$OUT/perf-flat.txt"
    perf report -i "$OUT/perf.data" --children --sort symbol -g none --stdio \
      --percent-limit 1.5 2>/dev/null | grep -v '^$' | cut -c1-220 >"$OUT/perf-children.txt"
    perf report -i "$OUT/perf.data" --no-children --sort tid -g none --stdio 2>/dev/null |
      grep -v '^$' | cut -c1-120 >"$OUT/perf-threads.txt"
    ;;
  strace | offcpu)
    if [ "$TOOL" = strace ]; then
      timeout -s INT "$((SECS + 1))" strace -c -f -p "$SC_PID" -o "$OUT/strace.txt" &
    else
      timeout -s INT "$((SECS + 1))" strace -f -T -tt \
        -e trace=fdatasync,fsync,clock_nanosleep,openat,unlink,pwrite64 \
        -p "$SC_PID" -o "$OUT/strace-T.txt" &
    fi
    prof=$!
    sleep 0.5
    wrk -t2 -c"$load_conns" -d"${SECS}s" -s bench/wrk/bench.lua "$URL" | tee "$OUT/wrk.txt"
    wait "$prof" || true
    ;;
  callgrind | heaptrack)
    wrk -t2 -c"$load_conns" -d"${SECS}s" -s bench/wrk/bench.lua "$URL" | tee "$OUT/wrk.txt"
    ;;
  *) die "unknown tool $TOOL" ;;
esac

stop_pid "$SC_PID"
BENCH_PIDS=()
if [ "$TOOL" = callgrind ]; then
  callgrind_annotate --inclusive=yes "$OUT/callgrind.out" 2>/dev/null | head -80 \
    >"$OUT/callgrind-inclusive.txt" || true
  callgrind_annotate "$OUT/callgrind.out" 2>/dev/null | head -80 >"$OUT/callgrind-self.txt" || true
fi
if [ "$TOOL" = heaptrack ]; then
  sleep 1
  f=$(ls "$OUT"/heaptrack*.zst "$OUT"/heaptrack*.gz 2>/dev/null | head -1 || true)
  [ -n "$f" ] && heaptrack_print "$f" >"$OUT/heaptrack.txt" 2>/dev/null || true
fi
sqlite3 "$DATA/sendcloud.db" "SELECT count(*) FROM messages" >"$OUT/messages.txt" || true
log "results in $OUT"
ls "$OUT"
