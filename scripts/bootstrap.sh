#!/usr/bin/env bash
# Make this checkout runnable: tmux (when missing) and .venv with podium in it.
# Usage: scripts/bootstrap.sh [--test]   (--test adds the test tools)
# Idempotent: a second run with nothing changed takes well under a second.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
extras=""
[ "${1:-}" = "--test" ] && extras="[test]"

say() { printf 'podium setup: %s\n' "$*" >&2; }

# --- tmux -------------------------------------------------------------------
if ! command -v tmux >/dev/null 2>&1; then
  say "tmux is missing; installing it"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  if command -v apt-get >/dev/null 2>&1; then
    $sudo_cmd apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq tmux >&2
  elif command -v dnf >/dev/null 2>&1; then
    $sudo_cmd dnf install -y tmux >&2
  elif command -v brew >/dev/null 2>&1; then
    brew install tmux >&2
  else
    say "cannot install tmux here: install it with your package manager, then run this again"
    exit 1
  fi
fi

# --- Chromium, for the tests only: the review page is checked in a real browser ---------
if [ -n "$extras" ] && ! command -v chromium >/dev/null 2>&1 &&
   ! command -v chromium-browser >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  say "chromium is missing (the review page's test needs it); installing it"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  if ! { $sudo_cmd apt-get update -qq >&2 &&
         DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq chromium >&2; }; then
    say "could not install chromium; the review page's browser test will skip"
  fi
fi

# --- the virtual environment, on Python >= 3.11 ---------------------------------------
venv="$repo/.venv"
if [ ! -x "$venv/bin/python" ]; then
  # Looked for only when the venv is made: through pyenv's shims each candidate costs
  # a Python start, which a run with nothing to do should not pay.
  python=""
  for candidate in "${PODIUM_PYTHON:-}" python3.13 python3.12 python3.11 python3; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      python="$candidate"; break
    fi
  done
  if [ -z "$python" ]; then
    say "podium needs Python 3.11 or newer; install it (or set PODIUM_PYTHON) and run this again"
    exit 1
  fi
  say "creating $venv"
  "$python" -m venv "$venv"
fi
stamp="$venv/.podium-installed"
digest="$(sha256sum < "$repo/pyproject.toml" | cut -d' ' -f1)"
have="$(cat "$stamp" 2>/dev/null || true)"
case "$have" in
  "$digest test") current=yes ;;
  "$digest") [ -z "$extras" ] && current=yes || current=no ;;
  *) current=no ;;
esac
if [ "$current" = no ]; then
  # Once the test tools are in, keep them: a plain reinstall would leave them stale.
  [ "$have" = "${have% test}" ] || extras="[test]"
  say "installing podium$extras into $venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip >&2
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -e "$repo$extras" >&2
  echo "$digest${extras:+ test}" > "$stamp"
  rm -f "$venv/.podium-installed[test]"  # the stamp of older bootstraps
fi
# Byte-code for podium's own packages: hooks, the statusline and the keys start a
# Python process each time, and where PYTHONDONTWRITEBYTECODE is set nothing else
# writes it (every start would compile podium again). Only changed files are redone.
"$venv/bin/python" -m compileall -q "$repo/tui" "$repo/sessions" "$repo/collectors" "$repo/themes" >/dev/null
