#!/bin/sh
# setup-local-builder.sh MIRRORS_DIR
#
# Readies a Debian machine without access to public base images or GitHub (only Debian's and the
# language package registries) to build the worker image with the same Dockerfile as everywhere:
#
#   1. installs Docker's engine and mmdebstrap from Debian (as root), and starts dockerd;
#   2. makes the base image from Debian's packages (make-local-base.sh) -> heritage-base:trixie;
#   3. serves the pinned sources from MIRRORS_DIR on loopback with `git daemon` (partial clones and
#      fetch by commit allowed), as GitHub serves them.
#
# MIRRORS_DIR holds bare git repositories of Comfy-Org/ComfyUI, Fannovel16/ComfyUI-Frame-Interpolation
# and thu-ml/SageAttention, each as <owner>+<name>/repo or <owner>/<name>.git. A mirror may lack blobs
# that the image leaves out (fetch-source.sh's EXCLUDE patterns), never one it checks out.
#
# It prints the two variables `npm run image` reads. Not part of CI: CI builds no image.
set -eu

mirrors=${1:?usage: setup-local-builder.sh MIRRORS_DIR}
here=$(cd "$(dirname "$0")" && pwd)
port=${HERITAGE_SOURCES_PORT:-9418}
served=${HERITAGE_SOURCES_DIR:-/var/lib/heritage-sources}

if ! command -v dockerd >/dev/null 2>&1 || ! command -v mmdebstrap >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io mmdebstrap >/dev/null
fi
if ! docker info >/dev/null 2>&1; then
  setsid dockerd >/var/log/heritage-dockerd.log 2>&1 < /dev/null &
  tries=0
  until docker info >/dev/null 2>&1; do
    tries=$((tries + 1))
    [ "$tries" -lt 60 ] || { echo "dockerd did not start: see /var/log/heritage-dockerd.log" >&2; exit 1; }
    sleep 1
  done
fi

"$here/make-local-base.sh" heritage-base:trixie

# <owner>/<name>.git links to the mirrors, the layout the Dockerfile's SOURCES URLs expect.
for repo in Comfy-Org/ComfyUI Fannovel16/ComfyUI-Frame-Interpolation thu-ml/SageAttention; do
  owner=${repo%/*}
  name=${repo#*/}
  for candidate in "$mirrors/$owner+$name/repo" "$mirrors/$owner/$name.git"; do
    if [ -d "$candidate" ]; then
      mkdir -p "$served/$owner"
      ln -sfn "$candidate" "$served/$owner/$name.git"
      continue 2
    fi
  done
  echo "no mirror of $repo in $mirrors" >&2
  exit 1
done
if ! git ls-remote "git://127.0.0.1:$port/Comfy-Org/ComfyUI.git" >/dev/null 2>&1; then
  setsid git -c uploadpack.allowFilter=true -c uploadpack.allowAnySHA1InWant=true \
    daemon --reuseaddr --listen=127.0.0.1 --port="$port" --export-all --base-path="$served" "$served" \
    >/var/log/heritage-git-daemon.log 2>&1 < /dev/null &
  sleep 1
fi

echo "export HERITAGE_BASE_IMAGE=heritage-base:trixie HERITAGE_SOURCES=git://127.0.0.1:$port"
