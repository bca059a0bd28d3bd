# convertd worker with the PDF tools (engines `ghostscript`, `poppler`, `mupdf`, `qpdf`, `ocrmypdf`,
# `exiftool`), each at a pinned Debian bookworm version.
# Build from the repository root:
#   docker build -f docker/worker-pdf.Dockerfile \
#     --build-arg GHOSTSCRIPT_VERSION=10.0.0~dfsg-11+deb12u9 -t convertd-worker-pdf .
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
# worker serves the engines it finds at start, so this one advertises `ghostscript`, `poppler`,
# `mupdf`, `qpdf`, `ocrmypdf` and `exiftool`, plus the in-process engines every worker has (sharp,
# pdf-lib, the archiver).
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

# --- worker-pdf ----------------------------------------------------------------------------------
FROM fonts AS worker-pdf
ARG GHOSTSCRIPT_VERSION=10.0.0~dfsg-11+deb12u9
ARG POPPLER_VERSION=22.12.0-2+deb12u3
ARG MUPDF_VERSION=1.21.1+ds2-1+deb12u1
ARG QPDF_VERSION=11.3.0-1+deb12u1
ARG OCRMYPDF_VERSION=14.0.1+dfsg1-1
ARG TESSERACT_VERSION=5.3.0-2
ARG EXIFTOOL_VERSION=12.57+dfsg-1
# Archive::Zip: without it exiftool reads docx, xlsx, odt... as plain ZIP files.
ARG ARCHIVE_ZIP_VERSION=1.68-1
ARG DEBIAN_SNAPSHOT=
ARG DEBIAN_BACKPORTS=
# The engine layer comes before the code so that code edits do not reinstall the tools.
RUN set -eu; \
    sh /usr/local/lib/convertd/apt-install.sh \
      "ghostscript${GHOSTSCRIPT_VERSION:+=$GHOSTSCRIPT_VERSION}" \
      "poppler-utils${POPPLER_VERSION:+=$POPPLER_VERSION}" \
      "mupdf-tools${MUPDF_VERSION:+=$MUPDF_VERSION}" \
      "qpdf${QPDF_VERSION:+=$QPDF_VERSION}" \
      "ocrmypdf${OCRMYPDF_VERSION:+=$OCRMYPDF_VERSION}" \
      "tesseract-ocr${TESSERACT_VERSION:+=$TESSERACT_VERSION}" \
      tesseract-ocr-eng \
      tesseract-ocr-deu \
      tesseract-ocr-fra \
      "libimage-exiftool-perl${EXIFTOOL_VERSION:+=$EXIFTOOL_VERSION}" \
      "libarchive-zip-perl${ARCHIVE_ZIP_VERSION:+=$ARCHIVE_ZIP_VERSION}"; \
    gs --version; pdfinfo -v; mutool -v; qpdf --version; ocrmypdf --version; \
    tesseract --version; exiftool -ver

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
# tini reaps the children that ocrmypdf and Ghostscript leave when a run is killed.
ENTRYPOINT ["/usr/bin/tini", "--"]
# Same as `pnpm start:worker` (tsx), without pnpm and tsx's CLI as parent processes, so SIGTERM
# reaches the worker directly and it can finish its running tasks.
CMD ["node", "--import", "tsx", "apps/worker/src/main.ts"]
