#!/usr/bin/env bash
# `npm test`: from a fresh clone, bootstrap (npm ci, codegen, local stack, migrations), then lint,
# typecheck and every vitest project (unit, integration, e2e). Leaves the local stack running;
# `npx polaris stack down` stops it.
set -euo pipefail
# shellcheck source=scripts/bootstrap.sh
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"

polaris_bootstrap
polaris_step "lint" npm run lint
polaris_step "typecheck" npm run typecheck
polaris_step "tests" npx vitest run
polaris_total
