# convertd worker with the media tools (engines `ffmpeg`, `imagemagick`, `graphicsmagick`,
# `exiftool`, and the 7-Zip, bzip2 and libheif programs of `archivetool` and `vips`), at pinned
# Debian bookworm versions. sharp (libvips) runs in-process and comes with the node modules.
# Build from the repository root:
#   docker build -f docker/worker-media.Dockerfile \
#     --build-arg FFMPEG_VERSION=7:5.1.9-0+deb12u1 -t convertd-worker-media .
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
# worker serves the engines it finds at start, so this one advertises `ffmpeg`, `imagemagick`,
# `graphicsmagick`, `exiftool` and `archivetool`, plus the in-process engines every worker has
# (sharp, pdf-lib, the archiver).
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

# --- worker-media --------------------------------------------------------------------------------
FROM fonts AS worker-media
ARG FFMPEG_VERSION=7:5.1.9-0+deb12u1
ARG IMAGEMAGICK_VERSION=8:6.9.11.60+dfsg-1.6+deb12u16
ARG GRAPHICSMAGICK_VERSION=1.4+really1.3.40-4+deb12u1
ARG LIBHEIF_VERSION=1.15.1-1+deb12u2
ARG EXIFTOOL_VERSION=12.57+dfsg-1
# Archive::Zip: without it exiftool reads docx, xlsx, odt... as plain ZIP files.
ARG ARCHIVE_ZIP_VERSION=1.68-1
ARG SEVENZIP_VERSION=22.01+really26.02+dfsg-0+deb12u1
ARG BZIP2_VERSION=1.0.8-5+b1
ARG DEBIAN_SNAPSHOT=
ARG DEBIAN_BACKPORTS=
# The engine layer comes before the code so that code edits do not reinstall the tools.
RUN set -eu; \
    sh /usr/local/lib/convertd/apt-install.sh \
      "ffmpeg${FFMPEG_VERSION:+=$FFMPEG_VERSION}" \
      "imagemagick${IMAGEMAGICK_VERSION:+=$IMAGEMAGICK_VERSION}" \
      "graphicsmagick${GRAPHICSMAGICK_VERSION:+=$GRAPHICSMAGICK_VERSION}" \
      "libheif-examples${LIBHEIF_VERSION:+=$LIBHEIF_VERSION}" \
      "libimage-exiftool-perl${EXIFTOOL_VERSION:+=$EXIFTOOL_VERSION}" \
      "libarchive-zip-perl${ARCHIVE_ZIP_VERSION:+=$ARCHIVE_ZIP_VERSION}" \
      "7zip${SEVENZIP_VERSION:+=$SEVENZIP_VERSION}" \
      "bzip2${BZIP2_VERSION:+=$BZIP2_VERSION}"; \
    ffmpeg -version; convert -version; gm version; command -v heif-convert; exiftool -ver; \
    7zz i > /dev/null; command -v bzip2

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
# tini reaps the ffmpeg and ImageMagick children left when a run is killed.
ENTRYPOINT ["/usr/bin/tini", "--"]
# Same as `pnpm start:worker` (tsx), without pnpm and tsx's CLI as parent processes, so SIGTERM
# reaches the worker directly and it can finish its running tasks.
CMD ["node", "--import", "tsx", "apps/worker/src/main.ts"]
