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

polaris_bootstrap() {
  # node_modules/.package-lock.json is what the last install wrote; a newer lockfile means stale.
  if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
    polaris_step "npm ci" npm ci --no-audit --no-fund
  else
    echo "==> npm ci: skipped (node_modules matches package-lock.json)"
  fi
  polaris_chdb
  polaris_step "generate" npm run generate
  polaris_step "stack up" npx polaris stack up
  polaris_step "migrate" npx polaris migrate
}
