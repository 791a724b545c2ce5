#!/usr/bin/env bash
# Vendor the JavaScript `procc site` serves itself, so the built site works
# offline (no CDN): Mermaid, which draws the runbooks' flow diagrams. Taken
# from the npm registry with npm's own client (npm pack: the published
# tarball only, no install scripts run), into .procc/vendor/ (git-ignored).
# procc site finds it there (or at $PROCC_MERMAID_JS).
set -euo pipefail
cd "$(dirname "$0")/.."
MERMAID_VERSION="${MERMAID_VERSION:-11.6.0}"
dest=.procc/vendor
js="$dest/mermaid-$MERMAID_VERSION.min.js"
if [ -s "$js" ]; then
  echo "$js"
  exit 0
fi
command -v npm >/dev/null 2>&1 || { echo "site-assets: npm is missing (scripts/system-deps.sh installs it)" >&2; exit 1; }
mkdir -p "$dest"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "mermaid@$MERMAID_VERSION" >/dev/null)
tar -xzf "$tmp"/mermaid-*.tgz -C "$tmp" package/dist/mermaid.min.js
mv "$tmp/package/dist/mermaid.min.js" "$js"
ln -sfn "$(basename "$js")" "$dest/mermaid.min.js"
echo "$js"
