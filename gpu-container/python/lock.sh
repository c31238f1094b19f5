#!/bin/sh
# Resolves requirements.in into requirements.lock, and sage-build.in into sage-build.lock, for the
# image's Python (Debian 13: CPython 3.13, glibc 2.41, x86_64): every package pinned, every file
# hashed, wheels only. Needs uv (pip install uv). Run it after changing an .in file or a copied
# upstream requirements file; commit the locks it writes.
set -eu
cd "$(dirname "$0")"
compile() {
  uv pip compile "$@" --generate-hashes --python-version 3.13 --python-platform x86_64-manylinux_2_40 \
    --only-binary :all: --no-header --emit-build-options --quiet
}
compile requirements.in -o requirements.lock
# The build stage's packages at the runtime lock's versions wherever the two share one.
grep -E '^[A-Za-z0-9][A-Za-z0-9._-]*==' requirements.lock | sed 's/ .*//' > "${TMPDIR:-/tmp}/heritage-runtime-pins.txt"
compile sage-build.in -c "${TMPDIR:-/tmp}/heritage-runtime-pins.txt" -o sage-build.lock
echo "locked: $(grep -c '^[a-z0-9]' requirements.lock) runtime packages, $(grep -c '^[a-z0-9]' sage-build.lock) for the SageAttention build"
