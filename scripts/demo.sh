#!/usr/bin/env bash
# `npm run demo`: bootstrap like the tests do, then run the end-to-end demo (`polaris demo`).
set -euo pipefail
# shellcheck source=scripts/bootstrap.sh
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"

polaris_bootstrap
polaris_step "demo" npx polaris demo "$@"
polaris_total
