# syntax=docker/dockerfile:1
# One image for every Polaris deployable, under tini. The command (k8s: args) picks the service:
#   node collector/dist/main.js | sink-worker/dist/main.js | rating-worker/dist/main.js
#   node gateway/dist/main.js   | cli/dist/polaris.js migrate (the operator CLI)
# Build: docker build -t polaris:dev .
ARG NODE_IMAGE=node:24-bookworm-slim

# ---------------------------------------------------------------------------------------------------
# Workspace manifests only, so the `npm ci` layers below are reused until a dependency changes.
# Every workspace listed in the root package.json must be copied here (k8s/*.integration.test.ts
# checks it): npm ci fails on a workspace whose package.json is missing.
FROM ${NODE_IMAGE} AS manifests
WORKDIR /app
COPY package.json package-lock.json ./
COPY shared/package.json shared/
COPY postgres/package.json postgres/
COPY clickhouse/package.json clickhouse/
COPY proto/package.json proto/
COPY collector/package.json collector/
COPY sink-worker/package.json sink-worker/
COPY rating-worker/package.json rating-worker/
COPY gateway/package.json gateway/
COPY cli/package.json cli/
COPY scripts/package.json scripts/
COPY sdk/package.json sdk/

# ---------------------------------------------------------------------------------------------------
FROM manifests AS build
RUN --mount=type=cache,target=/root/.npm \
    npm ci --no-audit --no-fund
COPY . .
# proto/gen is git-ignored and excluded from the context: generate it from the .proto contracts
# (npm-shipped buf + ts-proto, no system packages), then bundle every entry point.
RUN npm run generate && npm run build

# ---------------------------------------------------------------------------------------------------
FROM manifests AS prod-deps
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --no-audit --no-fund

# ---------------------------------------------------------------------------------------------------
# tini, the runtime's PID 1 (ENTRYPOINT below): it forwards SIGTERM to node and reaps orphans. PID 1
# gets no default signal handling from the kernel, so without an init a SIGTERM that node has not
# yet taken over is dropped and the pod waits out its grace period for SIGKILL. From Debian's
# package of the runtime's own release; copied, so nothing is installed in the runtime stage.
FROM ${NODE_IMAGE} AS tini
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*

# ---------------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    NODE_OPTIONS=--enable-source-maps
WORKDIR /app
# Root-owned and not writable by the runtime user: the container can run with a read-only root
# filesystem (k8s sets readOnlyRootFilesystem; only /tmp is an emptyDir).
COPY --from=prod-deps /app/node_modules ./node_modules
# The workspace package.json files stay: their "type": "module" is what makes Node load
# <svc>/dist/main.js as ESM.
COPY --from=manifests /app/ ./
COPY --from=build /app/collector/dist collector/dist
COPY --from=build /app/sink-worker/dist sink-worker/dist
COPY --from=build /app/rating-worker/dist rating-worker/dist
COPY --from=build /app/gateway/dist gateway/dist
COPY --from=build /app/cli/dist cli/dist
COPY postgres/migrations postgres/migrations
COPY clickhouse/migrations clickhouse/migrations
COPY --from=tini /usr/bin/tini /usr/bin/tini
# public HTTP (gateway, collector), gRPC (Ingest, Usage, Identity), ops (/healthz /readyz /metrics)
EXPOSE 8080 8081 50051 50052 50053 9091 9092 9093 9094
# Numeric, so Kubernetes' runAsNonRoot can verify it (the `node` user of the base image is 1000).
USER 1000:1000
# Compose's `command` and k8s's `args` replace CMD only: every process runs under tini. (A k8s
# `command` would replace the entrypoint too; the manifests never set one.)
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node"]
