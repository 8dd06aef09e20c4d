#!/usr/bin/env bash
# scripts/s3-dev.sh - install and run a local S3-compatible server for Baton's development and tests.
#
# Baton's store can be any S3-compatible service (BATON_STORE=s3://bucket/prefix). For development and
# the integration tests this script gives every engineer (and CI) the same real one: the Versity S3
# gateway (github.com/versity/versitygw, Apache-2.0) with its posix backend, which keeps each bucket as a
# directory and each object as a file. It is built from source with `go install` through the Go module
# proxy, the way temporal-dev.sh installs the Temporal CLI: no prebuilt download, no container.
#
# Usage: scripts/s3-dev.sh <install|path|start|stop|status|env|help>
#   (run `scripts/s3-dev.sh help` for details and environment variables)
#
# The server listens on 127.0.0.1 only, with fixed development credentials (below): it is for this
# machine, never a shared service. All state (the binary, the data directory, log, pid and port files)
# lives in .temporal/ (git-ignored), or in $BATON_TEMPORAL_HOME if set.
set -euo pipefail

# --- Configuration ---------------------------------------------------------

# The release built; override with BATON_S3_SERVER_VERSION. A change of version rebuilds.
VERSION="${BATON_S3_SERVER_VERSION:-v1.8.0}"
MODULE=github.com/versity/versitygw
PACKAGE="$MODULE/cmd/versitygw"

HOST=127.0.0.1 # loopback only: fixed credentials, no TLS.
# Fixed development credentials (the gateway's root account) and region. Not secrets: the server
# answers on loopback only.
ACCESS_KEY=baton-dev
SECRET_KEY=baton-dev-secret
REGION=us-east-1
# The bucket `start` makes, which `env` points BATON_STORE at.
BUCKET=baton-dev
START_TIMEOUT="${BATON_S3_START_TIMEOUT:-30}" # seconds to wait for the server to answer
# Seconds 'go install' may take before it is stopped (a cold build, with about 340 MB of modules
# fetched from the proxy and empty Go caches, took 98 s on two shared cores; 4.5 s into a fresh
# checkout once Go's caches hold it). Waiting for another
# checkout's build of the same binary is bounded by the same figure.
BUILD_TIMEOUT="${BATON_S3_BUILD_TIMEOUT:-600}"
STOP_TIMEOUT=15                              # seconds before SIGKILL

# --- Paths -----------------------------------------------------------------

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
# shellcheck source=lib/home.sh
source "$ROOT/scripts/lib/home.sh"
STATE="$(baton_home "$ROOT")"

BIN_DIR="$STATE/bin"
BIN="$BIN_DIR/versitygw"
STAMP="$BIN_DIR/versitygw.version"
S3_STATE="$STATE/s3"
DATA_DIR="$S3_STATE/data"
META_DIR="$S3_STATE/meta"
LOG_FILE="$S3_STATE/server.log"
PID_FILE="$S3_STATE/server.pid"
PORT_FILE="$S3_STATE/server.port"
# The port of the last start, kept across 'stop', so that a restart keeps the address 'env' gave.
LAST_PORT_FILE="$S3_STATE/last.port"
LOCK_FILE="$S3_STATE/server.lock"

# --- Helpers ---------------------------------------------------------------

say() { printf '%s\n' "$*" >&2; } # progress and diagnostics go to stderr
die() {
  say "s3-dev: $*"
  exit 1
}

usage() {
  cat <<EOF
Usage: scripts/s3-dev.sh <command>

Commands:
  install   Build the Versity S3 gateway $VERSION if it is not built yet; print its path and version.
  path      The same, printing only the binary's absolute path (what the tests call).
  start     Start the server in the background on 127.0.0.1 (no-op if it is running), with the
            bucket '$BUCKET'; print its address and credentials.
  stop      Stop the server started by 'start' (keeps its data).
  status    Report whether it is up (exit 0) or down (exit 3).
  env       Print the variables that point Baton at it, for: eval "\$(scripts/s3-dev.sh env)"
  help      Show this help.

Environment:
  BATON_S3_PORT            port for 'start' (default: the last start's port if it is free, else a free one)
  BATON_S3_SERVER_VERSION  versitygw release to build (default $VERSION)
  BATON_S3_START_TIMEOUT   seconds 'start' waits for the server (default 30)
  BATON_S3_BUILD_TIMEOUT   seconds the build may take, and a wait for another one (default $BUILD_TIMEOUT)
  BATON_TEMPORAL_HOME      state directory (default <repo>/.temporal)

Credentials: AWS_ACCESS_KEY_ID=$ACCESS_KEY AWS_SECRET_ACCESS_KEY=$SECRET_KEY AWS_REGION=$REGION
State: $S3_STATE (data in $DATA_DIR)
EOF
}

# The go command: on PATH, else where the official installer puts it.
find_go() {
  local g
  if g="$(command -v go 2>/dev/null)"; then
    printf '%s\n' "$g"
    return 0
  fi
  for g in /usr/local/go/bin/go "$HOME/go/bin/go" /usr/lib/go/bin/go; do
    if [[ -x "$g" ]]; then
      printf '%s\n' "$g"
      return 0
    fi
  done
  return 1
}

installed() {
  [[ -x "$BIN" && -f "$STAMP" && "$(cat "$STAMP")" == "$VERSION" ]]
}

# Builds the gateway into $BIN_DIR. -trimpath and a stripped binary keep the link short and the file
# small; Go's own build and module caches (shared by every checkout on the machine) make a rebuild,
# say in a fresh clone, take seconds rather than minutes.
build() {
  local go
  go="$(find_go)" || die "building the S3 dev server needs Go 1.25 or later, and 'go' is not on PATH (nor in /usr/local/go/bin).
Install Go (https://go.dev/doc/install) and put it on PATH, then run this again:
  export PATH=\$PATH:/usr/local/go/bin
or build it yourself elsewhere and copy the binary to $BIN, with '$VERSION' in $STAMP."
  mkdir -p "$BIN_DIR"
  say "Building the Versity S3 gateway: GOBIN=$BIN_DIR go install -trimpath -ldflags='-s -w' $PACKAGE@$VERSION"
  say "(from the Go module proxy; a minute or two the first time on this machine, seconds after that; stopped after ${BUILD_TIMEOUT}s) ..."
  local started=$SECONDS
  local bounded=()
  if command -v timeout >/dev/null 2>&1; then bounded=(timeout --kill-after=10 "$BUILD_TIMEOUT"); fi
  # Cleared: a GOFLAGS=-mod=vendor or GOBIN from the caller's own project must not reach this build.
  local rc=0
  "${bounded[@]}" env -u GOFLAGS -u GOBIN GOBIN="$BIN_DIR" "$go" install -trimpath -ldflags='-s -w' "$PACKAGE@$VERSION" >&2 || rc=$?
  if ((rc == 124 || rc == 137)) && ((${#bounded[@]} > 0)); then
    die "'go install $PACKAGE@$VERSION' did not finish within ${BUILD_TIMEOUT}s and was stopped.
Check that the Go module proxy answers quickly ('go env GOPROXY'), or allow longer: BATON_S3_BUILD_TIMEOUT=<seconds>."
  elif ((rc != 0)); then
    die "'go install $PACKAGE@$VERSION' failed (its messages are above).
Check that the Go module proxy answers ('go env GOPROXY'), and that Go is 1.25 or later ('$go version')."
  fi
  [[ -x "$BIN" ]] || die "go install reported success, but $BIN is not there"
  printf '%s\n' "$VERSION" >"$STAMP"
  say "Built $BIN in $((SECONDS - started))s."
}

ensure_built() {
  if installed; then return 0; fi
  if ! [[ "$BUILD_TIMEOUT" =~ ^[0-9]{1,6}$ ]] || ((10#$BUILD_TIMEOUT < 1)); then
    die "BATON_S3_BUILD_TIMEOUT must be a number of seconds (at least 1), got '$BUILD_TIMEOUT'"
  fi
  # One build at a time: parallel test runs in one checkout wait for the first.
  mkdir -p "$BIN_DIR"
  if command -v flock >/dev/null 2>&1; then
    exec 8>"$BIN_DIR/versitygw.build.lock"
    flock -w "$BUILD_TIMEOUT" 8 || die "waited ${BUILD_TIMEOUT}s for another build of the S3 dev server (lock $BIN_DIR/versitygw.build.lock) to finish; see what holds it (fuser $BIN_DIR/versitygw.build.lock), or allow longer: BATON_S3_BUILD_TIMEOUT=<seconds>"
  fi
  installed || build
  if command -v flock >/dev/null 2>&1; then exec 8>&-; fi
}

take_lock() {
  mkdir -p "$S3_STATE"
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$LOCK_FILE"
    flock -w $((START_TIMEOUT + STOP_TIMEOUT + 30)) 9 || die "timed out waiting for another s3-dev.sh (lock $LOCK_FILE)"
  fi
}

# True when nothing listens on 127.0.0.1:$1 (so the server can take it).
port_free() {
  node -e 'const s = require("net").createServer(); s.once("error", () => process.exit(1)); s.listen(Number(process.argv[1]), "127.0.0.1", () => s.close());' "$1" 2>/dev/null
}

free_port() {
  node -e 'const s = require("net").createServer(); s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });' 2>/dev/null ||
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

check_port() {
  if ! [[ "$1" =~ ^[0-9]{1,5}$ ]] || ((10#$1 < 1 || 10#$1 > 65535)); then
    die "BATON_S3_PORT must be a port number (1-65535), got '$1'"
  fi
}

# True when the gateway answers its health check on $1.
answers() {
  local url="http://$HOST:$1/health"
  if command -v curl >/dev/null 2>&1; then
    curl -fsS --max-time 3 -o /dev/null "$url" 2>/dev/null
  else
    node -e 'fetch(process.argv[1], { signal: AbortSignal.timeout(3000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))' "$url"
  fi
}

# Prints the pid from the pid file if that process is alive and is our gateway; removes stale files.
live_pid() {
  local pid args
  [[ -f "$PID_FILE" ]] || return 1
  pid="$(tr -cd '0-9' <"$PID_FILE")"
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null &&
    args="$(ps -o args= -p "$pid" 2>/dev/null)" && [[ "$args" == *versitygw* ]]; then
    printf '%s\n' "$pid"
    return 0
  fi
  rm -f "$PID_FILE" "$PORT_FILE"
  return 1
}

recorded_port() {
  [[ -f "$PORT_FILE" ]] && tr -cd '0-9' <"$PORT_FILE"
}

print_env() {
  local port="$1"
  cat <<EOF
export BATON_STORE=s3://$BUCKET
export AWS_ENDPOINT_URL_S3=http://$HOST:$port
export AWS_ACCESS_KEY_ID=$ACCESS_KEY
export AWS_SECRET_ACCESS_KEY=$SECRET_KEY
export AWS_REGION=$REGION
EOF
}

print_log_tail() {
  if [[ -s "$LOG_FILE" ]]; then
    say "--- last lines of $LOG_FILE ---"
    tail -n 30 "$LOG_FILE" >&2
    say "---"
  fi
}

# --- Commands --------------------------------------------------------------

cmd_start() {
  ensure_built
  take_lock
  local pid port
  if pid="$(live_pid)"; then
    port="$(recorded_port)"
    if [[ -n "${BATON_S3_PORT:-}" && "$BATON_S3_PORT" != "$port" ]]; then
      die "the S3 dev server from $S3_STATE is already running (pid $pid) on port $port, not the requested $BATON_S3_PORT. Stop it first: scripts/s3-dev.sh stop"
    fi
    echo "S3 dev server already running (pid $pid) on http://$HOST:$port."
    print_env "$port"
    return 0
  fi
  if [[ -n "${BATON_S3_PORT:-}" ]]; then
    port="$BATON_S3_PORT"
    check_port "$port"
    port_free "$port" || die "BATON_S3_PORT is $port, and something else listens on $HOST:$port; pick another port"
  else
    # The last start's port when it is still free, so that 'env' says what it said before.
    port=""
    if [[ -f "$LAST_PORT_FILE" ]]; then port="$(tr -cd '0-9' <"$LAST_PORT_FILE")"; fi
    if [[ -z "$port" ]] || ! port_free "$port"; then port="$(free_port)"; fi
  fi
  mkdir -p "$DATA_DIR/$BUCKET" "$META_DIR"
  if [[ -f "$LOG_FILE" ]]; then mv -f "$LOG_FILE" "$LOG_FILE.1"; fi
  rm -f "$PID_FILE"
  # --sidecar keeps the gateway's metadata in files of its own rather than in extended attributes,
  # so the data directory can be on any filesystem (tmpfs, overlay, NFS). A bucket is a directory
  # under the data directory, so making $BUCKET's directory above is making the bucket.
  local args=(
    --port "$HOST:$port"
    --access "$ACCESS_KEY" --secret "$SECRET_KEY" --region "$REGION"
    --health /health --quiet
    posix --sidecar "$META_DIR" "$DATA_DIR"
  )
  local detach=(nohup)
  if command -v setsid >/dev/null 2>&1; then detach=(setsid nohup); fi
  # The credentials reach it as flags, not from the caller's environment (ROOT_ACCESS_KEY and the
  # VGW_* variables it would also read are cleared).
  # shellcheck disable=SC2016 # $$ and $@ are for the inner sh.
  env -u ROOT_ACCESS_KEY -u ROOT_ACCESS_KEY_ID -u ROOT_SECRET_KEY -u ROOT_SECRET_ACCESS_KEY \
    "${detach[@]}" sh -c 'echo $$ >"$0"; exec "$@"' "$PID_FILE" "$BIN" "${args[@]}" \
    </dev/null >>"$LOG_FILE" 2>&1 9>&- &
  local tries=0
  while [[ ! -s "$PID_FILE" ]] && ((tries++ < 50)); do sleep 0.1; done
  pid="$(tr -cd '0-9' <"$PID_FILE" 2>/dev/null || true)"
  [[ -n "$pid" ]] || {
    print_log_tail
    die "the server process did not start (no pid written to $PID_FILE)"
  }
  echo "$port" >"$PORT_FILE"
  echo "$port" >"$LAST_PORT_FILE"
  local deadline=$((SECONDS + START_TIMEOUT))
  until answers "$port"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$PID_FILE" "$PORT_FILE"
      print_log_tail
      die "the S3 dev server (pid $pid) exited during startup"
    fi
    if ((SECONDS >= deadline)); then
      print_log_tail
      die "the S3 dev server (pid $pid) did not answer on $HOST:$port within ${START_TIMEOUT}s; it is left running: scripts/s3-dev.sh stop"
    fi
    sleep 0.2
  done
  echo "S3 dev server is up (pid $pid): http://$HOST:$port, bucket $BUCKET, data in $DATA_DIR"
  echo "Point Baton at it with: eval \"\$(scripts/s3-dev.sh env)\"   (which sets:)"
  print_env "$port"
  echo "Stop it with: scripts/s3-dev.sh stop"
}

cmd_stop() {
  take_lock
  local pid
  if ! pid="$(live_pid)"; then
    echo "No S3 dev server started by this script is running (state: $S3_STATE)."
    return 0
  fi
  say "Stopping the S3 dev server (pid $pid) ..."
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + STOP_TIMEOUT))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then
    say "still running after ${STOP_TIMEOUT}s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$PID_FILE" "$PORT_FILE"
  echo "S3 dev server stopped (data kept in $DATA_DIR)."
}

cmd_status() {
  local pid port
  if pid="$(live_pid)"; then
    port="$(recorded_port)"
    if answers "$port"; then
      echo "S3 dev server is up (pid $pid): http://$HOST:$port, bucket $BUCKET (log: $LOG_FILE)"
      return 0
    fi
    echo "S3 dev server process $pid is alive but does not answer on $HOST:$port (see $LOG_FILE)."
    return 3
  fi
  echo "S3 dev server is not running (start it with: scripts/s3-dev.sh start)."
  return 3
}

cmd_env() {
  local pid port
  pid="$(live_pid)" || die "the S3 dev server is not running; start it first: scripts/s3-dev.sh start"
  port="$(recorded_port)"
  print_env "$port"
}

main() {
  case "${1:-}" in
    install)
      ensure_built
      printf '%s\n' "$BIN"
      "$BIN" --version | head -n 1
      echo "Release: $(cat "$STAMP")"
      ;;
    path)
      ensure_built
      printf '%s\n' "$BIN"
      ;;
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    env) cmd_env ;;
    help | -h | --help) usage ;;
    "")
      usage >&2
      exit 2
      ;;
    *)
      say "s3-dev: unknown command '$1'"
      usage >&2
      exit 2
      ;;
  esac
}

main "$@"
