# convertd worker with LibreOffice (engine `libreoffice`), at a pinned Debian bookworm version.
# Build from the repository root:
#   docker build -f docker/worker-office.Dockerfile \
#     --build-arg LIBREOFFICE_VERSION=4:7.4.7-1+deb12u14 -t convertd-worker-office .
#
# Debian keeps only the newest bookworm build in its mirrors, so once it ships a newer
# LibreOffice security update the pinned version can no longer be installed from there: either
# bump LIBREOFFICE_VERSION (`apt-cache policy libreoffice-core-nogui` shows the current one), or
# set DEBIAN_SNAPSHOT to a snapshot.debian.org timestamp (e.g. 20260101T000000Z) at which the
# pinned version was current. An empty LIBREOFFICE_VERSION installs whatever is current.
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

# --- worker-office ----------------------------------------------------------------------------
FROM base AS worker-office
ARG LIBREOFFICE_VERSION=4:7.4.7-1+deb12u14
ARG DEBIAN_SNAPSHOT=
# The engine layer comes before the code so that code edits do not reinstall LibreOffice.
RUN set -eu; \
    if [ -n "${DEBIAN_SNAPSHOT:-}" ]; then \
      sed -i \
        -e "s|^URIs: http://deb.debian.org/debian\$|URIs: http://snapshot.debian.org/archive/debian/${DEBIAN_SNAPSHOT}|" \
        -e "s|^URIs: http://deb.debian.org/debian-security\$|URIs: http://snapshot.debian.org/archive/debian-security/${DEBIAN_SNAPSHOT}|" \
        /etc/apt/sources.list.d/debian.sources; \
      echo 'Acquire::Check-Valid-Until "false";' > /etc/apt/apt.conf.d/99snapshot; \
    fi; \
    pin="${LIBREOFFICE_VERSION:+=$LIBREOFFICE_VERSION}"; \
    apt-get update; \
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      "libreoffice-core-nogui${pin}" \
      "libreoffice-writer-nogui${pin}" \
      "libreoffice-calc-nogui${pin}" \
      "libreoffice-impress-nogui${pin}" \
      fonts-dejavu fonts-liberation fonts-liberation2 fonts-noto-core fonts-noto-cjk \
      poppler-utils; \
    rm -rf /var/lib/apt/lists/*; \
    HOME=/tmp/lo-check soffice --version; \
    rm -rf /tmp/lo-check

WORKDIR /app
# Sources land on top of the installed tree; .dockerignore keeps out node_modules and the
# generated Prisma client, so the ones from `deps` survive. Files stay root-owned (read-only to
# the app user).
COPY --from=deps /app/ ./
COPY . .
RUN mkdir -p /data && chown node:node /data
# WORK_DIR (task dirs, LibreOffice profiles) defaults to $TMPDIR/convertd-work, i.e. /tmp.
ENV DATA_DIR=/data
USER node
# The worker rewrites $TMPDIR/convertd-worker.heartbeat every 10 s while it can reach Redis.
HEALTHCHECK --interval=20s --timeout=5s --start-period=60s --retries=3 \
  CMD find /tmp/convertd-worker.heartbeat -mmin -1 | grep -q .
# tini reaps the soffice processes that LibreOffice's launcher leaves behind.
ENTRYPOINT ["/usr/bin/tini", "--"]
# Same as `pnpm start:worker` (tsx), without pnpm and tsx's CLI as parent processes, so SIGTERM
# reaches the worker directly and it can finish its running tasks.
CMD ["node", "--import", "tsx", "apps/worker/src/main.ts"]
