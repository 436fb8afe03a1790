#!/usr/bin/env bash
# Packs tokentune as `npm pack` would publish it, installs the tarball into an empty project (the
# way a user outside this repository installs it: no dev dependencies, the addon built at install)
# and runs the demo from it. Uses npm's cache (filled by `npm ci`), so it also works offline.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$repo"
tarball="$(npm pack --silent --pack-destination "$work" | tail -n 1)"
cd "$work"
printf '{"name":"pack-check","version":"1.0.0","private":true}\n' > package.json
npm install --prefer-offline --no-audit --no-fund --loglevel=error "./$tarball"
./node_modules/.bin/tokentune --version
# The full demo (it trains in seconds): a packed build that runs but does not learn fails here too.
./node_modules/.bin/tokentune demo --output-dir demo-out > demo.log
grep -q '^F1: ' demo.log || { cat demo.log; echo "pack check: the demo printed no F1" >&2; exit 1; }
awk '/^F1: / { exit !($2 >= 0.5) }' demo.log || { cat demo.log; echo "pack check: the demo's F1 is below 0.5" >&2; exit 1; }
test -f demo-out/model.safetensors
echo "pack check: $tarball installs and runs the demo ($(grep '^F1: ' demo.log))"
