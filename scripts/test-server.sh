#!/usr/bin/env bash
# test-server.sh - install Temporal's time-skipping test server for Baton's workflow tests.
#
# TestWorkflowEnvironment.createTimeSkipping() runs Temporal's Java test server. The SDK would
# download a prebuilt one; here it comes from Maven Central instead (io.temporal:temporal-test-server,
# main class io.temporal.testserver.TestServer), fetched with its dependencies by `mvn` and started
# by a small wrapper that the SDK runs as `<wrapper> <port> [extraArgs...]`.
#
# Usage: scripts/test-server.sh <install|path|help>
#   install  fetch it (if not there yet) and print the wrapper's path and the version
#   path     the same, printing only the wrapper's absolute path (what the tests call)
#
# Needs java (8 or later) and mvn, installed from Debian's packages when missing (as root or with
# passwordless sudo). State lives in
# <repo>/.temporal/test-server/ (git-ignored), or $BATON_TEMPORAL_HOME/test-server.
set -euo pipefail
# shellcheck source=lib/apt.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/apt.sh"

# The Java SDK release whose test server we run; override with TEMPORAL_TEST_SERVER_VERSION.
VERSION="${TEMPORAL_TEST_SERVER_VERSION:-1.38.0}"
# The plugin that copies the jars, pinned so every machine resolves the same one.
DEPENDENCY_PLUGIN=3.8.1

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
# shellcheck source=lib/home.sh
source "$ROOT/scripts/lib/home.sh"
HOME_DIR="$(baton_home "$ROOT")"
STATE="$HOME_DIR/test-server"
WRAPPER="$STATE/temporal-test-server"
LIB="$STATE/lib"
STAMP="$STATE/version"

say() { printf '%s\n' "$*" >&2; }
die() {
  say "test-server: $*"
  exit 1
}

usage() {
  cat <<EOF
Usage: scripts/test-server.sh <install|path|help>

  install   Fetch Temporal's time-skipping test server from Maven Central (if needed);
            print the wrapper's path and the version.
  path      The same, printing only the wrapper's absolute path.

Environment:
  TEMPORAL_TEST_SERVER_VERSION  io.temporal:temporal-test-server version (default $VERSION)
  BATON_TEMPORAL_HOME           state directory (default <repo>/.temporal)

State: $STATE
EOF
}

installed() {
  [[ -x "$WRAPPER" && -f "$STAMP" && "$(cat "$STAMP")" == "$VERSION" ]] &&
    compgen -G "$LIB/temporal-test-server-*.jar" >/dev/null
}

# The wrapper the SDK runs: `<wrapper> <port> [extraArgs...]`, which is exactly the test server's
# own command line. exec, so that the SDK's kill (at teardown) reaches the JVM itself.
write_wrapper() {
  local tmp="$WRAPPER.tmp.$$"
  cat >"$tmp" <<EOF
#!/usr/bin/env bash
# Written by scripts/test-server.sh: Temporal's test server $VERSION (io.temporal:temporal-test-server).
# Usage: temporal-test-server <port> [--enable-time-skipping]
JAVA="\${JAVA_HOME:+\$JAVA_HOME/bin/}java"
LIB="\$(cd "\$(dirname "\${BASH_SOURCE[0]}")" && pwd -P)/lib"
# A short-lived server: a fast start matters more than peak speed (the SDK gives it 5 seconds).
exec "\$JAVA" -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto \${TEMPORAL_TEST_SERVER_JAVA_OPTS:-} \\
  -cp "\$LIB/*" io.temporal.testserver.TestServer "\$@"
EOF
  chmod +x "$tmp"
  mv -f "$tmp" "$WRAPPER"
}

# Java runs the server and Maven fetches it: from Debian's packages when missing and this user may
# install them (as chromium.sh does for the browser), else a message saying what to run.
ensure_java_and_maven() {
  local missing=()
  command -v java >/dev/null 2>&1 || [[ -n "${JAVA_HOME:-}" ]] || missing+=(default-jre-headless)
  command -v mvn >/dev/null 2>&1 || missing+=(maven)
  [[ ${#missing[@]} -eq 0 ]] && return 0
  may_apt_install || die "the workflow tests need java and mvn; install them, then run the tests again:
  sudo apt-get update && sudo apt-get install -y ${missing[*]}"
  apt_install "Java and Maven for Temporal's test server" "${missing[@]}" ||
    die "installing ${missing[*]} failed (apt-get's messages are above)"
}

install() {
  ensure_java_and_maven
  mkdir -p "$STATE"
  local work="$STATE/.install.$$"
  rm -rf "$work"
  mkdir -p "$work"
  # A throwaway project whose only dependencies are the test server and a quiet SLF4J binding
  # (without one, SLF4J prints a warning on every start).
  cat >"$work/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>baton.local</groupId>
  <artifactId>temporal-test-server-install</artifactId>
  <version>0</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>io.temporal</groupId>
      <artifactId>temporal-test-server</artifactId>
      <version>$VERSION</version>
    </dependency>
    <dependency>
      <groupId>org.slf4j</groupId>
      <artifactId>slf4j-nop</artifactId>
      <version>1.7.36</version>
    </dependency>
  </dependencies>
</project>
EOF
  say "Installing Temporal's test server $VERSION: mvn dependency:copy-dependencies (io.temporal:temporal-test-server:$VERSION) ..."
  # Maven's output goes to a log, shown only when it fails.
  if ! (cd "$work" && mvn -B -q "org.apache.maven.plugins:maven-dependency-plugin:$DEPENDENCY_PLUGIN:copy-dependencies" \
    -DincludeScope=runtime -DoutputDirectory="$work/lib" >"$work/mvn.log" 2>&1); then
    cat "$work/mvn.log" >&2
    rm -rf "$work"
    die "mvn could not fetch io.temporal:temporal-test-server:$VERSION (see above)"
  fi
  compgen -G "$work/lib/temporal-test-server-*.jar" >/dev/null || {
    rm -rf "$work"
    die "mvn ran but left no temporal-test-server jar in $work/lib"
  }
  rm -rf "$LIB"
  mv "$work/lib" "$LIB"
  rm -rf "$work"
  write_wrapper
  printf '%s\n' "$VERSION" >"$STAMP"
}

# One install at a time: test runners in two terminals must not both write lib/.
ensure() {
  installed && return 0
  mkdir -p "$STATE"
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$STATE/.lock"
    flock -w 300 9 || die "timed out waiting for another install (lock $STATE/.lock)"
  fi
  installed || install
}

case "${1:-}" in
  install)
    ensure
    printf '%s\n' "$WRAPPER"
    echo "io.temporal:temporal-test-server:$(cat "$STAMP")"
    ;;
  path)
    ensure
    printf '%s\n' "$WRAPPER"
    ;;
  help | -h | --help) usage ;;
  "")
    usage >&2
    exit 2
    ;;
  *)
    say "test-server: unknown command '$1'"
    usage >&2
    exit 2
    ;;
esac
