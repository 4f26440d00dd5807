#!/usr/bin/env bash
# Prerequisites of `npm run test:cluster` on a fresh machine: etcd,
# kube-apiserver and kubectl v1.28 built from the Go module proxy (cached in
# ${XDG_CACHE_HOME:-$HOME/.cache}/trading-platform/, instant when present).
# Prints the asset folder on stdout, for KUBEBUILDER_ASSETS:
#
#   export KUBEBUILDER_ASSETS="$(bash .ci/cluster-assets.sh)"
#
# No apt packages are needed: Go is at /usr/local/go on this machine kind and
# `diff` (for `kubectl diff`) is part of Debian's base system.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if ! command -v go >/dev/null && [[ -x /usr/local/go/bin/go ]]; then
  export PATH="/usr/local/go/bin:$PATH"
fi
command -v diff >/dev/null || { apt-get update -qq && apt-get install -y -qq diffutils >&2; }
exec bash "$here/test/cluster/build-assets.sh"
