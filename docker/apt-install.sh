#!/bin/sh
# Installs Debian packages into a worker image the way ./dev does (no recommends), then drops the
# package lists. Usage: apt-install.sh PACKAGE[=VERSION]...
#
# DEBIAN_SNAPSHOT (a snapshot.debian.org timestamp such as 20260101T000000Z) installs from the
# archive as it was then: the way to get a pinned version once the mirrors carry a newer build.
# DEBIAN_BACKPORTS=true adds bookworm-backports and prefers it (newer engines than bookworm's).
set -eu

sources=/etc/apt/sources.list.d/debian.sources
debian=http://deb.debian.org/debian
security=http://deb.debian.org/debian-security
if [ -n "${DEBIAN_SNAPSHOT:-}" ]; then
  debian="http://snapshot.debian.org/archive/debian/${DEBIAN_SNAPSHOT}"
  security="http://snapshot.debian.org/archive/debian-security/${DEBIAN_SNAPSHOT}"
  sed -i \
    -e "s|^URIs: http://deb.debian.org/debian\$|URIs: ${debian}|" \
    -e "s|^URIs: http://deb.debian.org/debian-security\$|URIs: ${security}|" \
    "$sources"
  echo 'Acquire::Check-Valid-Until "false";' > /etc/apt/apt.conf.d/99snapshot
fi

target=
if [ "${DEBIAN_BACKPORTS:-}" = true ]; then
  printf '\nTypes: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    "$debian" >> "$sources"
  target=bookworm-backports
fi

apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
  ${target:+-t "$target"} "$@"
rm -rf /var/lib/apt/lists/*
