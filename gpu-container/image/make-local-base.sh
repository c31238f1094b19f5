#!/bin/sh
# make-local-base.sh [TAG]
#
# Makes the Debian 13 (trixie) base image from Debian's packages, for building the worker image where
# public base images cannot be pulled. The result stands in for debian:trixie-slim as BASE_IMAGE.
#
# If this machine trusts extra certificate authorities (a TLS-inspecting egress proxy puts its CA in
# /usr/local/share/ca-certificates), the base trusts them too, and tells pip and npm to use the system
# bundle, so the Dockerfile's installs work here exactly as they do on a machine with direct access.
# An image built on such a base trusts that CA: it is for proving the recipe, never for pushing.
set -eu

tag=${1:-heritage-base:trixie}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
security=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mkdir -p "$work/ca"
for crt in /usr/local/share/ca-certificates/*.crt; do
  [ -e "$crt" ] && cp "$crt" "$work/ca/"
done

mmdebstrap --variant=minbase --include=ca-certificates \
  --customize-hook="mkdir -p \"\$1/usr/local/share/ca-certificates\" && cp -r $work/ca \"\$1/usr/local/share/ca-certificates/heritage-local\"" \
  --customize-hook='chroot "$1" update-ca-certificates' \
  trixie "$work/rootfs.tar" \
  "deb $mirror trixie main" "deb $mirror trixie-updates main" "deb $security trixie-security main"

set -- --change 'CMD ["bash"]'
if [ -n "$(ls "$work/ca")" ]; then
  set -- "$@" --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
    --change 'ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt'
fi
docker import "$@" "$work/rootfs.tar" "$tag"
echo "make-local-base: $tag ($(ls "$work/ca" | wc -l) extra CA certificates)"
