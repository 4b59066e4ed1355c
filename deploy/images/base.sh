#!/bin/sh
# The base image every Mercato process runs on: Debian bookworm (minbase) from the Debian mirror, made with
# mmdebstrap and imported with `podman import` — no registry involved. It carries the Python that the app
# image's venv runs on and CA certificates (the real payment, SMS and push providers speak TLS); docs, man
# pages and translations are left out. Skipped when the image is already there (FORCE=1 rebuilds).
set -eu
IMAGE=${MERCATO_BASE_IMAGE:-localhost/mercato-base:bookworm}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SECURITY=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}

if [ -z "${FORCE:-}" ] && podman image exists "$IMAGE"; then
    echo "$IMAGE is there (FORCE=1 to rebuild)"
    exit 0
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/mercato-base.XXXXXX")
trap 'rm -rf "$work"' EXIT
mmdebstrap --variant=minbase --quiet \
    --include=python3,ca-certificates \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --aptopt='Acquire::Languages "none"' \
    --customize-hook='rm -rf "$1"/var/cache/apt/* "$1"/var/lib/apt/lists/* "$1"/var/log/*' \
    bookworm "$work/rootfs.tar" \
    "deb $MIRROR bookworm main" \
    "deb $MIRROR bookworm-updates main" \
    "deb $SECURITY bookworm-security main"
podman import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["/bin/sh"]' \
    --change 'LABEL org.opencontainers.image.title="mercato-base"' \
    --change 'LABEL org.opencontainers.image.description="Debian bookworm minbase with Python 3 (mmdebstrap)"' \
    "$work/rootfs.tar" "$IMAGE"
