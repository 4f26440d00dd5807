#!/usr/bin/env bash
# Builds the envtest-style control-plane binaries (etcd, kube-apiserver, kubectl)
# from source, using ONLY the Go module proxy, and caches them outside the repo.
#
#   test/cluster/build-assets.sh          # prints the asset directory on stdout
#
# Result: $KUBE_ASSETS_DIR/{etcd,kube-apiserver,kubectl}, by default
#   ${XDG_CACHE_HOME:-$HOME/.cache}/trading-platform/kube-assets-<KUBE_VERSION>/
# A second run with the binaries present returns at once.
#
# Why a throwaway module: k8s.io/kubernetes is not meant to be required as a
# library; its go.mod replaces every k8s.io/<staging> module with a local
# ./staging path, which `go build k8s.io/kubernetes/...@version` cannot follow.
# We create a module that requires k8s.io/kubernetes and re-states those
# replaces as "k8s.io/<staging> => k8s.io/<staging> v0.<minor>.<patch>".
set -euo pipefail

KUBE_VERSION="${KUBE_VERSION:-1.28.15}"   # last 1.28 patch release
ETCD_VERSION="${ETCD_VERSION:-3.5.15}"    # etcd version k8s 1.28 ships with (build/dependencies.yaml)
CACHE_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}/trading-platform"
ASSETS_DIR="${KUBE_ASSETS_DIR:-$CACHE_ROOT/kube-assets-$KUBE_VERSION}"
WORK="$CACHE_ROOT/kube-assets-build-$KUBE_VERSION"

log() { echo "[build-assets] $*" >&2; }

if [[ -x "$ASSETS_DIR/etcd" && -x "$ASSETS_DIR/kube-apiserver" && -x "$ASSETS_DIR/kubectl" ]]; then
  log "cached: $ASSETS_DIR"
  echo "$ASSETS_DIR"
  exit 0
fi

# CI's environment may lack the Go toolchain's directory in PATH
if ! command -v go >/dev/null && [[ -x /usr/local/go/bin/go ]]; then export PATH="/usr/local/go/bin:$PATH"; fi
command -v go >/dev/null || { log "go not found in PATH (need Go >= 1.22; /usr/local/go/bin?)"; exit 1; }
log "go: $(go version)"
mkdir -p "$ASSETS_DIR" "$WORK"

# k8s 1.28 code is older than the local toolchain's linkname checks (Go >= 1.23
# refuses some //go:linkname pulls used by dependencies); -checklinkname=0
# restores the old behaviour. The module's `go` line stays at 1.20/1.21 so
# GOTOOLCHAIN never tries to download a different toolchain.
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
export GOFLAGS="-mod=mod -buildvcs=false"
export CGO_ENABLED=0
LDBASE="-s -w -checklinkname=0"

start=$(date +%s)

# ---- kube-apiserver + kubectl --------------------------------------------
KMOD="$WORK/kube"
mkdir -p "$KMOD"
minor="${KUBE_VERSION#*.}"; minor="${minor%%.*}"
patch="${KUBE_VERSION##*.}"
staging="api apiextensions-apiserver apimachinery apiserver cli-runtime client-go
cloud-provider cluster-bootstrap code-generator component-base component-helpers
controller-manager cri-api csi-translation-lib dynamic-resource-allocation
endpointslice kms kube-aggregator kube-controller-manager kube-proxy
kube-scheduler kubectl kubelet legacy-cloud-providers metrics mount-utils
pod-security-admission sample-apiserver sample-cli-plugin sample-controller"
{
  echo "module local/kubeassets"
  echo
  echo "go 1.20"
  echo
  echo "require k8s.io/kubernetes v$KUBE_VERSION"
  echo
  echo "replace ("
  for s in $staging; do echo "	k8s.io/$s => k8s.io/$s v0.$minor.$patch"; done
  echo ")"
} > "$KMOD/go.mod"
cat > "$KMOD/tools.go" <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
GO
ts=$(date -u +%Y-%m-%dT%H:%M:%SZ)
vflags=""
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  vflags+=" -X $p.gitVersion=v$KUBE_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor"
  vflags+=" -X $p.gitTreeState=clean -X $p.buildDate=$ts"
done
(
  cd "$KMOD"
  log "resolving k8s.io/kubernetes v$KUBE_VERSION module graph (Go proxy)"
  go mod tidy -e >/dev/null 2>"$WORK/tidy.log" || true
  # tidy may drop requirements for the tools-tagged file; make sure they exist
  go get "k8s.io/kubernetes@v$KUBE_VERSION" >&2
  log "building kube-apiserver and kubectl (cold: ~10 min on 2 cores)"
  go build -trimpath -ldflags "$LDBASE $vflags" -o "$WORK/bin/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kubectl >&2
)

# ---- etcd ----------------------------------------------------------------
# The etcd repo root module (go.etcd.io/etcd/v3) uses local replaces, so build
# the same main() (server/v3/etcdmain.Main) from a tiny module of our own.
EMOD="$WORK/etcd"
mkdir -p "$EMOD"
cat > "$EMOD/go.mod" <<GOMOD
module local/etcdasset

go 1.20

require go.etcd.io/etcd/server/v3 v$ETCD_VERSION
GOMOD
cat > "$EMOD/main.go" <<'GO'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
(
  cd "$EMOD"
  log "building etcd v$ETCD_VERSION"
  go mod tidy >&2
  go build -trimpath -ldflags "$LDBASE" -o "$WORK/bin/etcd" . >&2
)

install -m 0755 "$WORK/bin/kube-apiserver" "$WORK/bin/kubectl" "$WORK/bin/etcd" "$ASSETS_DIR/"
rm -rf "$WORK/bin"
log "done in $(( $(date +%s) - start ))s: $ASSETS_DIR"
echo "$ASSETS_DIR"
