# convertd gateway: the HTTP API on 8080 and the sync API on 8081. No conversion engines.
# Build from the repository root:  docker build -f docker/gateway.Dockerfile -t convertd-gateway .
#
# The stages `base`, `manifests` and `deps` are identical in every docker/*.Dockerfile, so the
# builder reuses their layers across images: keep them in sync when you edit one of them.
# No BuildKit-only syntax (RUN --mount, COPY --chmod/--link, heredocs): docker-compose v1 may
# build with the classic builder.

ARG NODE_IMAGE=node:20-bookworm-slim

# --- base: Node 20, tini as PID 1, pnpm (corepack cannot verify pnpm's signature here) ---------
FROM ${NODE_IMAGE} AS base
ARG PNPM_VERSION=10.34.9
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/* \
 && npm i -g pnpm@${PNPM_VERSION} \
 && npm cache clean --force
ENV CHECKPOINT_DISABLE=1 \
    PRISMA_HIDE_UPDATE_MESSAGE=1

# --- manifests: only the files `pnpm install` reads, so code edits keep the install layer -----
FROM base AS manifests
WORKDIR /src
COPY . .
RUN mkdir /out \
 && cp --parents package.json pnpm-lock.yaml pnpm-workspace.yaml \
      apps/*/package.json packages/*/package.json \
      packages/db/prisma.config.ts packages/db/scripts/no-schema-engine.sh \
      /out/ \
 && cp -r prisma /out/prisma \
 && for f in .npmrc .pnpmfile.cjs patches; do [ ! -e "$f" ] || cp -r --parents "$f" /out/; done

# --- deps: full install (dev deps included: the apps run from source through tsx) ------------
# The root postinstall runs `prisma generate`, which writes packages/db/src/generated.
FROM base AS deps
WORKDIR /app
COPY --from=manifests /out/ ./
RUN pnpm install --frozen-lockfile

# --- gateway ----------------------------------------------------------------------------------
FROM base AS gateway
WORKDIR /app
# Sources land on top of the installed tree; .dockerignore keeps out node_modules and the
# generated Prisma client, so the ones from `deps` survive. Files stay root-owned (read-only to
# the app user).
COPY --from=deps /app/ ./
COPY . .
RUN mkdir -p /data && chown node:node /data
ENV HOST=0.0.0.0 \
    PORT=8080 \
    SYNC_PORT=8081 \
    DATA_DIR=/data
USER node
EXPOSE 8080 8081
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/healthz', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--"]
# Same as `pnpm start:gateway` (tsx), without pnpm and tsx's CLI as parent processes, so SIGTERM
# reaches the gateway directly. Migrations are applied by the gateway itself at start.
CMD ["node", "--import", "tsx", "apps/gateway/src/main.ts"]
