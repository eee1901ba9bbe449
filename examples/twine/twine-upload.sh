#!/usr/bin/env bash
# Drop-in for `twine upload dist/*`: the files go through pubguard's gates (version tag,
# secret scan, approvals when a policy exists, token checks, re-hash) and then to twine.
# The token comes from $PYPI_TOKEN only; it is never put on a command line.
#   RELEASE_TAG=v1.2.3 PYPI_TOKEN=pypi-… ./twine-upload.sh dist/*.whl dist/*.tar.gz
set -euo pipefail
if [ "$#" -eq 0 ]; then
  echo "usage: RELEASE_TAG=vX.Y.Z $0 <dist files...>" >&2
  exit 2
fi
if [ -z "${RELEASE_TAG:-}" ]; then
  # ${RELEASE_TAG:?} would exit 1, which pubguard's gates use for a refused release.
  echo "$0: set RELEASE_TAG to the release tag, e.g. v1.2.3" >&2
  exit 2
fi
exec pubguard publish pypi "$@" --tag-name "$RELEASE_TAG" ${REPOSITORY_URL:+--repository-url "$REPOSITORY_URL"}
