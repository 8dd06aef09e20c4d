# shellcheck shell=bash
# Where Baton's development scripts keep their tools and state: $BATON_TEMPORAL_HOME, else
# <repo>/.temporal (git-ignored). A relative BATON_TEMPORAL_HOME is taken relative to the directory the
# script was called from (what the person typing it means), not to the repo root.
#   baton_home <repo root>   prints the absolute directory
baton_home() {
  local home="${BATON_TEMPORAL_HOME:-$1/.temporal}"
  case "$home" in
    /*) printf '%s\n' "$home" ;;
    *) printf '%s\n' "$PWD/$home" ;;
  esac
}
