#!/bin/sh
# fetch-source.sh URL COMMIT DEST [EXCLUDE...]
#
# Checks out exactly COMMIT of the git repository at URL into DEST, without its history, and fails
# unless HEAD is that commit afterwards. The fetch is a partial clone: the commit and its trees come
# first (their hashes chain up to COMMIT), then only the files that are checked out. EXCLUDE are
# sparse-checkout patterns (gitignore syntax, rooted with a leading /) of files the image leaves out:
# tests, demo media, and files no Heritage workflow reads. Their blobs are never fetched.
#
# URL may be any git remote that serves partial clones and fetches by commit: GitHub does, and so does
# `git daemon` with uploadpack.allowFilter and uploadpack.allowAnySHA1InWant (docs/gpu-image.md).
set -eu

if [ "$#" -lt 3 ]; then
  echo "usage: fetch-source.sh URL COMMIT DEST [EXCLUDE...]" >&2
  exit 2
fi
url=$1
commit=$2
dest=$3
shift 3

if ! printf '%s' "$commit" | grep -Eq '^[0-9a-f]{40}$'; then
  echo "fetch-source: '$commit' is not a full 40-hex commit id" >&2
  exit 2
fi

git init -q "$dest"
cd "$dest"
git remote add origin "$url"
git fetch -q --depth 1 --filter=blob:none origin "$commit"
# '/*' takes every path; each '!pattern' then leaves one out.
set -- '/*' "$@"
patterns=''
for pattern do
  case "$pattern" in
    '/*') patterns="$pattern" ;;
    *) patterns="$patterns
!$pattern" ;;
  esac
done
printf '%s\n' "$patterns" | git sparse-checkout set --no-cone --stdin
git -c advice.detachedHead=false checkout -q --detach "$commit"
head=$(git rev-parse HEAD)
if [ "$head" != "$commit" ]; then
  echo "fetch-source: $url gave $head, not $commit" >&2
  exit 1
fi
rm -rf .git
echo "fetch-source: $url at $commit -> $dest ($(find . -type f | wc -l) files)"
