# scripts/lib/apt.sh - installing Debian packages for the test tools, when this user may.
# Sourced by scripts/chromium.sh and scripts/test-server.sh; defines no commands of its own.

# True when packages may be installed here: apt-get, and root or passwordless sudo.
may_apt_install() {
  command -v apt-get >/dev/null 2>&1 || return 1
  [[ "$(id -u)" == 0 ]] && return 0
  command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null
}

# Runs a command as root: directly, or through passwordless sudo (may_apt_install said which works).
as_root() {
  if [[ "$(id -u)" == 0 ]]; then "$@"; else sudo -n "$@"; fi
}

# apt_install <why> <package>...: apt-get update, then install, with messages on stderr.
apt_install() {
  local why="$1"
  shift
  local env=(env DEBIAN_FRONTEND=noninteractive)
  # Wait for another apt/dpkg (a parallel test run, unattended-upgrades) rather than fail at once.
  local lock=(-o DPkg::Lock::Timeout=300)
  printf 'Installing %s: apt-get update && apt-get install -y %s (takes a minute or two) ...\n' "$why" "$*" >&2
  as_root "${env[@]}" apt-get "${lock[@]}" update -qq >&2 &&
    as_root "${env[@]}" apt-get "${lock[@]}" install -y -qq "$@" >&2
}
