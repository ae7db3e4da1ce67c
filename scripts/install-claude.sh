#!/usr/bin/env bash
# Install the pinned Claude Code CLI for podium's integration tests.
#
#   scripts/install-claude.sh [DIR]     (DIR defaults to <repo>/.cache/claude-code)
#
# Prints the absolute path of the `claude` binary on stdout, and nothing else: npm's output
# goes to DIR/npm.log (and its tail to stderr when npm fails). Idempotent: when DIR already
# holds the pinned version, it only prints the path. Exit codes: 0 ok, 3 npm is missing,
# 1 the install failed.
set -euo pipefail

PKG="@anthropic-ai/claude-code"
VERSION="2.1.328"

here="${BASH_SOURCE[0]%/*}"
[ "$here" = "${BASH_SOURCE[0]}" ] && here=.
repo="$(cd "$here/.." && pwd)"
dir="${1:-$repo/.cache/claude-code}"
bin="$dir/node_modules/.bin/claude"

installed() {
    [ -x "$bin" ] || return 1
    local out
    out="$("$bin" --version 2>/dev/null)" || return 1
    [ "${out%% *}" = "$VERSION" ]
}

if installed; then
    echo "$(cd "$dir" && pwd)/node_modules/.bin/claude"
    exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
    echo "install-claude: npm is not installed, so $PKG@$VERSION cannot be installed (apt-get install npm)" >&2
    exit 3
fi

mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
bin="$dir/node_modules/.bin/claude"

# One installer at a time per DIR (parallel test sessions may race here).
exec 9>"$dir/.install.lock"
if command -v flock >/dev/null 2>&1; then
    flock 9
fi
if installed; then # another installer finished while we waited
    echo "$bin"
    exit 0
fi

# An own package.json keeps npm from walking up to some other project's root.
if [ ! -f "$dir/package.json" ]; then
    printf '{\n  "name": "podium-claude-code",\n  "private": true\n}\n' >"$dir/package.json"
fi

log="$dir/npm.log"
echo "install-claude: installing $PKG@$VERSION into $dir (log: $log)" >&2
if ! npm install --prefix "$dir" --save-exact --no-audit --no-fund --loglevel=warn \
    "$PKG@$VERSION" >"$log" 2>&1; then
    echo "install-claude: npm install failed; last lines of $log:" >&2
    tail -n 20 "$log" >&2 || true
    exit 1
fi

if ! installed; then
    echo "install-claude: $bin is missing or is not version $VERSION after npm install (see $log)" >&2
    exit 1
fi
echo "$bin"
