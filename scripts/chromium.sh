#!/usr/bin/env bash
# scripts/chromium.sh - find or install the Chromium the browser test drives.
#
# tests/integration/ui-retry.test.ts drives the Temporal Web UI with headless Chromium through
# playwright-core, which downloads no browser. This script finds one, or installs Debian's
# `chromium` package from the distribution's repositories (apt-get, no browser download from
# anywhere else), the way temporal-dev.sh finds or installs the Temporal CLI.
#
# Usage: scripts/chromium.sh <path|install|help>
#   path     print only the browser's absolute path (installing it first if need be)
#   install  the same, then print its version
#
# Order: $CHROMIUM_PATH (when set, it must work; nothing else is tried), then `chromium` and
# `chromium-browser` on PATH, then `apt-get install chromium` when this user may (root, or
# passwordless sudo). Otherwise it says what to run and exits 1.
# Progress and messages go to stderr; stdout carries only what the command prints.
set -euo pipefail
# shellcheck source=lib/apt.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/apt.sh"

PACKAGE=chromium
NAMES=(chromium chromium-browser)

say() { printf '%s\n' "$*" >&2; }
die() {
  say "chromium.sh: $*"
  exit 1
}

usage() {
  cat <<EOF
Usage: scripts/chromium.sh <command>

Commands:
  path      Find or install Chromium; print only its absolute path.
  install   Find or install Chromium; print its path and version.
  help      Show this help.

Environment:
  CHROMIUM_PATH   use this browser binary (Chromium or Chrome) instead of looking for one
EOF
}

abspath() {
  case "$1" in
    /*) printf '%s\n' "$1" ;;
    *) printf '%s\n' "$PWD/$1" ;;
  esac
}

# True when $1 is an executable file that runs: `--version` weeds out stubs such as Ubuntu's
# chromium-browser, which only tells you to install the snap.
works() {
  [[ -f "$1" && -x "$1" ]] || return 1
  local out
  out="$("$1" --version 2>/dev/null)" || return 1
  [[ "$out" == *Chrom* ]]
}

# Prints the path of a working browser on PATH, or fails.
find_on_path() {
  local name p
  for name in "${NAMES[@]}"; do
    if p="$(command -v "$name" 2>/dev/null)"; then
      if works "$p"; then
        abspath "$p"
        return 0
      fi
      say "chromium.sh: $p is on PATH but '$p --version' fails; not using it"
    fi
  done
  return 1
}

# What a person has to run, when this script may not install the package itself.
manual_steps() {
  if command -v apt-get >/dev/null 2>&1; then
    cat <<EOF
Install it as root, then run the tests again:
  sudo apt-get update && sudo apt-get install -y $PACKAGE
or point CHROMIUM_PATH at a Chromium or Chrome binary you have:
  CHROMIUM_PATH=/path/to/chromium npm test
EOF
  else
    cat <<EOF
This is not a Debian-style system (no apt-get), so install Chromium or Chrome with its package
manager and put it on PATH as 'chromium', or point CHROMIUM_PATH at it, then run the tests again:
  CHROMIUM_PATH="/Applications/Google Chrome.app/Contents/MacOS/Google Chrome" npm test   # macOS
EOF
  fi
}

install_chromium() {
  apt_install "Chromium for the browser test" "$PACKAGE"
}

# Sets BIN to the browser's path, installing it first if need be.
ensure_chromium() {
  if [[ -n "${CHROMIUM_PATH:-}" ]]; then
    works "$CHROMIUM_PATH" || die "CHROMIUM_PATH is $CHROMIUM_PATH, which is not a Chromium or Chrome binary that runs ('$CHROMIUM_PATH --version' fails).
Point it at a working browser, or unset it to use (or install) Debian's $PACKAGE."
    BIN="$(abspath "$CHROMIUM_PATH")"
    return 0
  fi
  if BIN="$(find_on_path)"; then
    return 0
  fi
  if ! may_apt_install; then
    die "the browser test needs Chromium, which is not installed, and this script may not install it
(it installs Debian's '$PACKAGE' package only as root or with passwordless sudo).
$(manual_steps)"
  fi
  install_chromium || die "installing Debian's '$PACKAGE' package failed (apt-get's messages are above).
$(manual_steps)"
  BIN="$(find_on_path)" || die "apt-get installed '$PACKAGE', but no working chromium is on PATH.
$(manual_steps)"
}

main() {
  case "${1:-}" in
    path)
      ensure_chromium
      printf '%s\n' "$BIN"
      ;;
    install)
      ensure_chromium
      printf '%s\n' "$BIN"
      "$BIN" --version 2>/dev/null
      ;;
    help | -h | --help) usage ;;
    "")
      usage >&2
      exit 2
      ;;
    *)
      say "chromium.sh: unknown command '$1'"
      usage >&2
      exit 2
      ;;
  esac
}

main "$@"
