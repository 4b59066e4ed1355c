#!/bin/sh
# `make images`: the base image (deploy/images/base.sh, kept while present), then Mercato's one image,
# localhost/mercato:<version> and :latest. The image is labelled with a hash of the source it is built
# from (org.mercato.source-hash); when :latest already carries the hash of this tree, nothing is rebuilt.
# FORCE=1 rebuilds both. Run from the repository's root.
set -eu
cd "$(dirname "$0")/../.."
export CONTAINERS_CONF="${CONTAINERS_CONF:-$PWD/deploy/images/containers.conf}"
PYTHON=${PYTHON:-.venv/bin/python}
IMAGE=${MERCATO_IMAGE:-localhost/mercato}
VERSION=$("$PYTHON" -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')

sh deploy/images/base.sh

# Every file that goes into the image, tracked or new (not ignored), by content.
hash=$(git ls-files -z --cached --others --exclude-standard -- mercato pyproject.toml README.md deploy/images \
       | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)
if [ -z "${FORCE:-}" ] && [ "$(podman image inspect --format '{{index .Labels "org.mercato.source-hash"}}' \
        "$IMAGE:latest" 2>/dev/null)" = "$hash" ]; then
    echo "$IMAGE:latest is built from this source ($hash)"
    exit 0
fi

# The wheelhouse: Mercato's wheel (built from this tree) and every dependency's, for Debian's Python 3.11.
wheels=var/images/wheels
mkdir -p "$wheels"
rm -f "$wheels"/mercato-*.whl
"$PYTHON" -m pip wheel -q -q --disable-pip-version-check --wheel-dir "$wheels" . pip

podman build --quiet --format docker \
    --build-arg VERSION="$VERSION" --build-arg SOURCE_HASH="$hash" \
    --file deploy/images/Containerfile \
    --tag "$IMAGE:$VERSION" --tag "$IMAGE:latest" .
# The image this one replaced and the build stage, now untagged: not kept.
for title in mercato mercato-base; do
    podman image prune --force --filter "label=org.opencontainers.image.title=$title" >/dev/null
done
echo "$IMAGE:$VERSION built ($hash)"
