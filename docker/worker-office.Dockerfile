# convertd worker with LibreOffice (engine `libreoffice`), at a pinned Debian bookworm version.
# Build from the repository root:
#   docker build -f docker/worker-office.Dockerfile \
#     --build-arg LIBREOFFICE_VERSION=4:7.4.7-1+deb12u14 -t convertd-worker-office .
#
# Debian keeps only the newest bookworm build in its mirrors, so once it ships an update of a
# pinned package that version can no longer be installed from there: either bump the argument
# (`apt-cache policy <package>` shows the current version), or set DEBIAN_SNAPSHOT to a
# snapshot.debian.org timestamp (e.g. 20260101T000000Z) at which the pinned version was current.
# Their libraries come from the same archive state, so they are the builds that went with them.
# An empty version argument installs whatever is current; DEBIAN_BACKPORTS=true takes newer
# builds from bookworm-backports (see docker/apt-install.sh).
#
# The packages are the ones ./dev installs for this family (APT_PACKAGES), without recommends. A
# worker serves the engines it finds at start, so this one advertises `libreoffice`, plus the
# in-process engines every worker has (sharp, pdf-lib, the archiver).
#
# The stages `base`, `manifests` and `deps` are identical in every docker/*.Dockerfile, and
# `fonts` in every docker/worker-*.Dockerfile, so the builder reuses their layers across images:
# keep them in sync when you edit one of them.
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

# --- fonts: the fonts ./dev installs -------------------------------------------------------------
# Every worker draws text with them: its engine, and the in-process engines all workers serve
# (pdf-lib and sharp watermarks).
FROM base AS fonts
COPY docker/apt-install.sh /usr/local/lib/convertd/apt-install.sh
RUN sh /usr/local/lib/convertd/apt-install.sh \
      fonts-dejavu fonts-liberation fonts-liberation2 fonts-noto-core fonts-noto-cjk

# --- worker-office -------------------------------------------------------------------------------
FROM fonts AS worker-office
ARG LIBREOFFICE_VERSION=4:7.4.7-1+deb12u14
# Office thumbnails and pages as images are LibreOffice's PDF drawn by mupdf on the same worker.
ARG MUPDF_VERSION=1.21.1+ds2-1+deb12u1
ARG DEBIAN_SNAPSHOT=
ARG DEBIAN_BACKPORTS=
# The engine layer comes before the code so that code edits do not reinstall LibreOffice.
RUN set -eu; \
    sh /usr/local/lib/convertd/apt-install.sh \
      "libreoffice-core-nogui${LIBREOFFICE_VERSION:+=$LIBREOFFICE_VERSION}" \
      "libreoffice-writer-nogui${LIBREOFFICE_VERSION:+=$LIBREOFFICE_VERSION}" \
      "libreoffice-calc-nogui${LIBREOFFICE_VERSION:+=$LIBREOFFICE_VERSION}" \
      "libreoffice-impress-nogui${LIBREOFFICE_VERSION:+=$LIBREOFFICE_VERSION}" \
      "python3-uno${LIBREOFFICE_VERSION:+=$LIBREOFFICE_VERSION}" \
      "mupdf-tools${MUPDF_VERSION:+=$MUPDF_VERSION}"; \
    HOME=/tmp/engine-check soffice --version; \
    mutool -v; \
    rm -rf /tmp/engine-check

WORKDIR /app
# Sources land on top of the installed tree; .dockerignore keeps out node_modules and the
# generated Prisma client, so the ones from `deps` survive. Files stay root-owned (read-only to
# the app user).
COPY --from=deps /app/ ./
COPY . .
RUN mkdir -p /data && chown node:node /data
# WORK_DIR (task dirs, engine profiles) defaults to $TMPDIR/convertd-work, i.e. /tmp.
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
