# Shared by bench/run.sh and bench/profile.sh (sourced, not run): building the bench binaries,
# free loopback ports, a sendcloudd data dir with test-mode users, starting and stopping the
# servers under test. Every process started here is remembered by its pid and stopped by that pid.

BENCH_BUILD_DIR=${BENCH_BUILD_DIR:-build/bench}
SC_BIN="$BENCH_BUILD_DIR/src/sendcloudd/sendcloudd"
CEILING_BIN="$BENCH_BUILD_DIR/bench/sc_bench_ceiling"
MICRO_BIN="$BENCH_BUILD_DIR/bench/sc_micro_bench"
FAKESMSC=/usr/lib/kannel/test/fakesmsc

BENCH_PIDS=()

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

# Release, as shipped (the flags of `make build-release`), in our own build dir: others may rebuild
# theirs while we measure.
bench_build() {
  cmake -S . -B "$BENCH_BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSC_BUILD_TESTS=OFF \
    -DSC_BUILD_BENCH=ON -DCMAKE_CXX_FLAGS= >"$BENCH_WORK/cmake.log" 2>&1 ||
    {
      tail -30 "$BENCH_WORK/cmake.log"
      die "cmake configure failed (log above)"
    }
  cmake --build "$BENCH_BUILD_DIR" -j "$(nproc)" \
    --target sendcloudd sc_bench_ceiling sc_micro_bench >>"$BENCH_WORK/cmake.log" 2>&1 ||
    {
      grep -m1 -A20 'error' "$BENCH_WORK/cmake.log" || tail -30 "$BENCH_WORK/cmake.log"
      die "build failed (log above)"
    }
}

# free_ports N: N distinct free TCP ports on 127.0.0.1, one per line.
free_ports() {
  python3 - "$1" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
for s in socks:
    print(s.getsockname()[1])
PY
}

# wait_http URL [SECONDS]: until URL answers at all (any status).
wait_http() {
  local url=$1 limit=${2:-20} i
  for ((i = 0; i < limit * 10; i++)); do
    if curl -s -o /dev/null --max-time 1 "$url"; then return 0; fi
    sleep 0.1
  done
  return 1
}

# stop_pid PID: SIGTERM, up to 10 s, then SIGKILL. Only pids we started.
stop_pid() {
  local pid=$1 i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  wait "$pid" 2>/dev/null || true
}

bench_cleanup() {
  local i
  for ((i = ${#BENCH_PIDS[@]} - 1; i >= 0; i--)); do stop_pid "${BENCH_PIDS[$i]}"; done
  BENCH_PIDS=()
  if [ -n "${BENCH_WORK:-}" ] && [ -z "${BENCH_KEEP:-}" ]; then rm -rf "$BENCH_WORK"; fi
}

# A data dir with one account, one API_USER (bench_api) and one SMS_USER (bench_sms), both in
# test mode so nothing is ever delivered. Sets API_KEY and SMS_KEY.
setup_data_dir() {
  local dir=$1 out
  "$SC_BIN" account create --email owner@bench.example --data-dir "$dir" >/dev/null
  out=$("$SC_BIN" email-user create bench_api --account owner@bench.example --data-dir "$dir")
  API_KEY=$(printf '%s\n' "$out" | sed -n 's/^API_KEY: *//p' | head -1)
  out=$("$SC_BIN" sms-user create bench_sms --account owner@bench.example --data-dir "$dir")
  SMS_KEY=$(printf '%s\n' "$out" | sed -n 's/^SMS_KEY: *//p' | head -1)
  [ -n "$API_KEY" ] && [ -n "$SMS_KEY" ] || die "could not read the keys the user commands printed"
  # No operator flag for test mode yet; the server reads users on every request.
  sqlite3 "$dir/sendcloud.db" "UPDATE api_users SET test_mode=1" ||
    die "could not set test mode in $dir/sendcloud.db"
}

# setup_delivery_data_dir DIR: setup_data_dir with the users out of test mode, so that their mail
# is delivered, and bench.example registered for DKIM: every message is signed (RSA-2048), as the
# delivery benchmarks measure it.
setup_delivery_data_dir() {
  setup_data_dir "$1"
  sqlite3 "$1/sendcloud.db" "UPDATE api_users SET test_mode=0"
  "$SC_BIN" domain add bench.example --account owner@bench.example --data-dir "$1" >/dev/null ||
    die "could not register bench.example for DKIM"
}

# delivery_bench_deps: what the delivery benchmarks need (wrk, Postfix's smtp-sink) and the Release
# binary, built when missing.
delivery_bench_deps() {
  bash bench/install-bench-deps.sh
  bash scripts/install-deps.sh postfix
  if [ ! -x "$SC_BIN" ]; then
    log "building Release in $BENCH_BUILD_DIR"
    bench_build
  fi
}

# start_sendcloudd PORT DATA_DIR LOG [extra flags...]: sets SC_PID.
start_sendcloudd() {
  local port=$1 dir=$2 logf=$3
  shift 3
  "$SC_BIN" --listen "127.0.0.1:$port" --data-dir "$dir" --demo=false --access-log=false "$@" \
    >"$logf" 2>&1 &
  SC_PID=$!
  BENCH_PIDS+=("$SC_PID")
  wait_http "http://127.0.0.1:$port/healthz" || {
    tail -20 "$logf"
    die "sendcloudd did not come up on port $port"
  }
}

# start_ceiling PORT LOG: sets CEILING_PID.
start_ceiling() {
  "$CEILING_BIN" --listen "127.0.0.1:$1" >"$2" 2>&1 &
  CEILING_PID=$!
  BENCH_PIDS+=("$CEILING_PID")
  wait_http "http://127.0.0.1:$1/" || die "the ceiling server did not come up on port $1"
}

# fake_smsc_group PORT: the SMSC group of a bearerbox that waits on PORT for the fakesmsc test
# client of kannel-extras (which accepts every MT message); start_kannel starts that client.
fake_smsc_group() {
  cat <<EOF
group = smsc
smsc = fake
smsc-id = fake
host = 127.0.0.1
port = $1
connect-allow-ip = "127.0.0.1"
EOF
}

# start_kannel DIR ADMIN_PORT BOX_PORT SENDSMS_PORT SMSC_GROUP: bearerbox with the SMSC group
# given (its text; fake_smsc_group, or an SMPP group as bench/sms.sh writes), smsbox with one
# sendsms-user (bench / benchpw), and, for a `smsc = fake` group, fakesmsc on its port. Waits
# until the group's smsc-id is online. Logging at "error" like sendcloudd's --access-log=false;
# no store file (Kannel's default): Kannel keeps queued messages in memory only, where
# sendcloudd syncs them to disk before it answers. Sets KANNEL_PIDS.
start_kannel() {
  local dir=$1 admin=$2 box=$3 sendsms=$4 smsc_group=$5
  local smsc_id smsc_port
  smsc_id=$(printf '%s\n' "$smsc_group" | sed -n 's/^smsc-id *= *"\{0,1\}\([^"]*\)"\{0,1\}$/\1/p')
  [ -n "$smsc_id" ] || die "start_kannel: the SMSC group names no smsc-id"
  mkdir -p "$dir"
  cat >"$dir/kannel.conf" <<EOF
group = core
admin-port = $admin
admin-interface = 127.0.0.1
admin-password = bench
smsbox-port = $box
smsbox-interface = 127.0.0.1
box-allow-ip = "127.0.0.1"
log-file = "$dir/bearerbox.log"
log-level = 3

$smsc_group

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = $box
sendsms-port = $sendsms
sendsms-interface = 127.0.0.1
global-sender = 10000
log-file = "$dir/smsbox.log"
log-level = 3

group = sendsms-user
username = bench
password = benchpw

group = sms-service
keyword = default
text = "nop"
EOF
  KANNEL_PIDS=()
  /usr/sbin/bearerbox -v 3 "$dir/kannel.conf" >"$dir/bearerbox.out" 2>&1 &
  KANNEL_PIDS+=($!)
  BENCH_PIDS+=($!)
  wait_http "http://127.0.0.1:$admin/status" || die "bearerbox did not come up"
  if printf '%s\n' "$smsc_group" | grep -q '^smsc *= *fake$'; then
    smsc_port=$(printf '%s\n' "$smsc_group" | sed -n 's/^port *= *\([0-9]*\)$/\1/p')
    # -m 0: send no MO messages, only receive (and acknowledge) the MT ones; -v 4: no
    # per-message debug line.
    "$FAKESMSC" -H 127.0.0.1 -r "$smsc_port" -m 0 -v 4 '10000 12345 text nop' \
      >"$dir/fakesmsc.out" 2>&1 &
    KANNEL_PIDS+=($!)
    BENCH_PIDS+=($!)
  fi
  /usr/sbin/smsbox -v 3 "$dir/kannel.conf" >"$dir/smsbox.out" 2>&1 &
  KANNEL_PIDS+=($!)
  BENCH_PIDS+=($!)
  wait_http "http://127.0.0.1:$sendsms/" || die "smsbox did not come up"
  local i
  for ((i = 0; i < 100; i++)); do
    if curl -s "http://127.0.0.1:$admin/status.txt?password=bench" |
      grep -q "$smsc_id.*online"; then
      return 0
    fi
    sleep 0.1
  done
  die "the SMSC $smsc_id did not come online in bearerbox"
}

# start_smtp_sink PORT OUT: Postfix's smtp-sink counting what it accepts into OUT.
start_smtp_sink() {
  smtp-sink -u postfix -c "127.0.0.1:$1" 1000 >"$2" 2>&1 &
  BENCH_PIDS+=($!)
  local i
  for ((i = 0; i < 50; i++)); do
    ss -ltn "sport = :$1" | grep -q LISTEN && return 0
    sleep 0.1
  done
  die "smtp-sink did not listen on $1"
}

# smtp_sink_count OUT: messages the sink accepted so far (smtp-sink -c rewrites one line
# "sess=N quit=N mesg=N" after each message).
smtp_sink_count() { tr '\r' '\n' <"$1" | sed -n 's/.*mesg=\([0-9]*\).*/\1/p' | tail -1 || true; }

# cpu_ticks PID...: utime+stime of the processes, in clock ticks.
cpu_ticks() {
  local total=0 pid f
  for pid in "$@"; do
    if [ -r "/proc/$pid/stat" ]; then
      f=$(sed 's/^.*) //' "/proc/$pid/stat")
      # fields after the command: state=1 ... utime=12 stime=13
      total=$((total + $(echo "$f" | awk '{print $12 + $13}')))
    fi
  done
  echo "$total"
}

# machine_ticks: busy and total clock ticks of all CPUs so far (from /proc/stat).
machine_ticks() {
  awk '/^cpu / {busy = $2 + $3 + $4 + $7 + $8 + $9; print busy, busy + $5 + $6}' /proc/stat
}

# peak_rss_kib PID: VmHWM of the process.
peak_rss_kib() {
  awk '/^VmHWM:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0
}
rss_kib() {
  awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0
}
