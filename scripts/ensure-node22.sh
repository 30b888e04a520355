#!/usr/bin/env bash
# The project runs on Node 20, which has no node:sqlite. To prove SqliteStore on
# node:sqlite as well, the tests run that store's conformance suite under a
# Node 22 binary fetched once from the npm registry (the official node-<os>-<arch>
# package) into .cache/node22. Set QNOX_NODE22 to use a Node >= 22.5 you have.
set -euo pipefail
[ -n "${QNOX_NODE22:-}" ] && exit 0
dir=.cache/node22
[ -x "$dir/package/bin/node" ] && exit 0
target="node-$(node -p 'process.platform + "-" + process.arch')@22"
echo "Fetching $target for the node:sqlite conformance run…"
mkdir -p "$dir"
(cd "$dir" && npm pack --silent "$target" >/dev/null && tar xzf node-*.tgz && rm node-*.tgz)
