#!/bin/sh
# npm run image [-- DOCKER_BUILD_ARGS...]: builds gpu-container/Dockerfile from the repository root.
#
#   HERITAGE_IMAGE        tag (default heritage-gpu:dev)
#   HERITAGE_BASE_IMAGE   BASE_IMAGE build argument (default: the Dockerfile's pinned debian:trixie-slim)
#   HERITAGE_SOURCES      SOURCES build argument (default: the Dockerfile's https://github.com)
#
# Host networking: the build reaches exactly what this machine reaches, loopback mirrors included.
# Prints the image's size when done.
set -eu
cd "$(dirname "$0")/../.."
tag=${HERITAGE_IMAGE:-heritage-gpu:dev}
set -- --network host -f gpu-container/Dockerfile -t "$tag" "$@"
if [ -n "${HERITAGE_BASE_IMAGE:-}" ]; then set -- --build-arg "BASE_IMAGE=$HERITAGE_BASE_IMAGE" "$@"; fi
if [ -n "${HERITAGE_SOURCES:-}" ]; then set -- --build-arg "SOURCES=$HERITAGE_SOURCES" "$@"; fi
# BuildKit where this docker has it (buildx); the classic builder otherwise: the Dockerfile suits both.
if ! docker buildx version >/dev/null 2>&1; then export DOCKER_BUILDKIT=0; fi
docker build "$@" .
echo "built $tag: $(docker image inspect --format '{{.Size}}' "$tag") bytes unpacked"
