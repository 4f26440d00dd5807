#!/usr/bin/env bash
# Builds the envtest-style control-plane binaries (etcd, kube-apiserver, kubectl)
# from source, using ONLY the Go module proxy, and caches them outside the repo.
#
#   test/cluster/build-assets.sh          # prints the asset directory on stdout
#   test/cluster/build-assets.sh --live   # also the live twin's binaries (test/live):
#                                         # kube-scheduler, kube-controller-manager, kwok
#                                         # (+ kwok-stages.yaml), rollouts-controller
#
# Result: $KUBE_ASSETS_DIR/{etcd,kube-apiserver,kubectl,...}, by default
#   ${XDG_CACHE_HOME:-$HOME/.cache}/trading-platform/kube-assets-<KUBE_VERSION>/
# Each binary is built only when missing: a second run returns at once.
#
# Why a throwaway module: k8s.io/kubernetes is not meant to be required as a
# library; its go.mod replaces every k8s.io/<staging> module with a local
# ./staging path, which `go build k8s.io/kubernetes/...@version` cannot follow.
# We create a module that requires k8s.io/kubernetes and re-states those
# replaces as "k8s.io/<staging> => k8s.io/<staging> v0.<minor>.<patch>".
set -euo pipefail

KUBE_VERSION="${KUBE_VERSION:-1.28.15}"   # last 1.28 patch release
ETCD_VERSION="${ETCD_VERSION:-3.5.15}"    # etcd version k8s 1.28 ships with (build/dependencies.yaml)
KWOK_VERSION="${KWOK_VERSION:-0.8.0}"     # fake kubelets (live twin)
ROLLOUTS_VERSION="${ROLLOUTS_VERSION:-1.9.1}" # = the Argo Rollouts CRDs in ../shared/k8s/crds
CACHE_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}/trading-platform"
ASSETS_DIR="${KUBE_ASSETS_DIR:-$CACHE_ROOT/kube-assets-$KUBE_VERSION}"
WORK="$CACHE_ROOT/kube-assets-build-$KUBE_VERSION"

log() { echo "[build-assets] $*" >&2; }

LIVE=0
[[ "${1:-}" == "--live" ]] && LIVE=1
CORE="etcd kube-apiserver kubectl"
LIVE_BINS="kube-scheduler kube-controller-manager kwok kwok-stages.yaml rollouts-controller"
want="$CORE"; [[ $LIVE == 1 ]] && want="$CORE $LIVE_BINS"
missing=""
for b in $want; do [[ -s "$ASSETS_DIR/$b" ]] || missing+=" $b"; done
if [[ -z "$missing" ]]; then
  log "cached: $ASSETS_DIR"
  echo "$ASSETS_DIR"
  exit 0
fi
# BUILD_ONLY="kwok rollouts-controller": build just those (when missing)
if [[ -n "${BUILD_ONLY:-}" ]]; then
  only=""; for m in $missing; do [[ " $BUILD_ONLY " == *" $m "* ]] && only+=" $m"; done; missing="$only"
fi
needs() { for m in $missing; do for b in "$@"; do [[ $m == "$b" ]] && return 0; done; done; return 1; }

# CI's environment may lack the Go toolchain's directory in PATH
if ! command -v go >/dev/null && [[ -x /usr/local/go/bin/go ]]; then export PATH="/usr/local/go/bin:$PATH"; fi
command -v go >/dev/null || { log "go not found in PATH (need Go >= 1.22; /usr/local/go/bin?)"; exit 1; }
log "go: $(go version); missing:$missing"
mkdir -p "$ASSETS_DIR" "$WORK/bin"

# k8s 1.28 code is older than the local toolchain's linkname checks (Go >= 1.23
# refuses some //go:linkname pulls used by dependencies); -checklinkname=0
# restores the old behaviour. The module's `go` line stays at 1.20/1.21 so
# GOTOOLCHAIN never tries to download a different toolchain.
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
export GOFLAGS="-mod=mod -buildvcs=false"
export CGO_ENABLED=0
LDBASE="-s -w -checklinkname=0"

start=$(date +%s)
timed() { local t0; t0=$(date +%s); "$@"; log "  ($(( $(date +%s) - t0 ))s)"; }

# ---- kube-apiserver, kubectl, kube-scheduler, kube-controller-manager -------
kube_build() { # args: command names under k8s.io/kubernetes/cmd
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
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
GO
  ts=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  vflags=""
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    vflags+=" -X $p.gitVersion=v$KUBE_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor"
    vflags+=" -X $p.gitTreeState=clean -X $p.buildDate=$ts"
  done
  pkgs=""; for c in "$@"; do pkgs+=" k8s.io/kubernetes/cmd/$c"; done
  (
    cd "$KMOD"
    log "resolving k8s.io/kubernetes v$KUBE_VERSION module graph (Go proxy)"
    go mod tidy -e >/dev/null 2>"$WORK/tidy.log" || true
    # tidy may drop requirements for the tools-tagged file; make sure they exist
    go get "k8s.io/kubernetes@v$KUBE_VERSION" >&2
    log "building $* (cold: ~10 min on 2 cores for kube-apiserver + kubectl, ~1 min each more)"
    # shellcheck disable=SC2086
    go build -trimpath -ldflags "$LDBASE $vflags" -o "$WORK/bin/" $pkgs >&2
  )
  for c in "$@"; do install -m 0755 "$WORK/bin/$c" "$ASSETS_DIR/"; rm -f "$WORK/bin/$c"; done
}
kube_cmds=""
for c in kube-apiserver kubectl kube-scheduler kube-controller-manager; do needs "$c" && kube_cmds+=" $c"; done
# shellcheck disable=SC2086
[[ -n "$kube_cmds" ]] && timed kube_build $kube_cmds

# ---- etcd ----------------------------------------------------------------
# The etcd repo root module (go.etcd.io/etcd/v3) uses local replaces, so build
# the same main() (server/v3/etcdmain.Main) from a tiny module of our own.
etcd_build() {
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
  install -m 0755 "$WORK/bin/etcd" "$ASSETS_DIR/"; rm -f "$WORK/bin/etcd"
}
needs etcd && timed etcd_build

# ---- kwok (live twin) ----------------------------------------------------
# `go install` works for kwok (no replace directives). kwok refuses to start
# without stages; the module ships them as kustomize folders, rendered here
# with the kubectl just built (node heartbeat by lease + fast pod lifecycle).
if needs kwok; then
  log "building kwok v$KWOK_VERSION"
  timed env GOBIN="$WORK/bin" GOFLAGS=-buildvcs=false go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@v$KWOK_VERSION" >&2
  install -m 0755 "$WORK/bin/kwok" "$ASSETS_DIR/"; rm -f "$WORK/bin/kwok"
fi
if needs kwok-stages.yaml; then
  GOFLAGS=-mod=mod go mod download "sigs.k8s.io/kwok@v$KWOK_VERSION" >&2
  stages="$(go env GOMODCACHE)/sigs.k8s.io/kwok@v$KWOK_VERSION/kustomize/stage/fast"
  "$ASSETS_DIR/kubectl" kustomize "$stages" > "$WORK/kwok-stages.yaml"
  install -m 0644 "$WORK/kwok-stages.yaml" "$ASSETS_DIR/"
fi

# ---- Argo Rollouts controller (live twin) -----------------------------------
# Its go.mod has replace directives (k8s.io/* => v0.34.x), so
# `go install .../cmd/rollouts-controller@v` is refused: a throwaway module
# requires it and copies the replace directives of its go.mod verbatim.
rollouts_build() {
  RMOD="$WORK/rollouts"
  mkdir -p "$RMOD"
  GOFLAGS=-mod=mod go mod download "github.com/argoproj/argo-rollouts@v$ROLLOUTS_VERSION" >&2
  upstream="$(go env GOMODCACHE)/cache/download/github.com/argoproj/argo-rollouts/@v/v$ROLLOUTS_VERSION.mod"
  goline=$(grep -m1 '^go ' "$upstream")
  {
    echo "module local/rolloutsasset"
    echo
    echo "$goline"
    echo
    echo "require github.com/argoproj/argo-rollouts v$ROLLOUTS_VERSION"
    echo
    # every `replace x => y` line and `replace (...)` block of the upstream go.mod
    awk '/^replace \(/{b=1} b{print} b&&/^\)/{b=0; next} !b&&/^replace /{print}' "$upstream"
  } > "$RMOD/go.mod"
  cat > "$RMOD/tools.go" <<'GO'
//go:build tools

package tools

import _ "github.com/argoproj/argo-rollouts/cmd/rollouts-controller"
GO
  (
    cd "$RMOD"
    log "building Argo Rollouts controller v$ROLLOUTS_VERSION (cold: several minutes)"
    go mod tidy -e >/dev/null 2>"$WORK/rollouts-tidy.log" || true
    go get "github.com/argoproj/argo-rollouts@v$ROLLOUTS_VERSION" >&2
    # The controller binds its metrics and healthz ports to 0.0.0.0 (a constant, no flag); the
    # twin listens on loopback only, so the build uses a copy of the module with that one line
    # changed to 127.0.0.1 (Go refuses an -overlay of files in the module cache).
    src="$(go env GOMODCACHE)/github.com/argoproj/argo-rollouts@v$ROLLOUTS_VERSION"
    rm -rf "$RMOD/argo-rollouts"; cp -r "$src" "$RMOD/argo-rollouts"; chmod -R u+w "$RMOD/argo-rollouts"
    sed -i 's/"0\.0\.0\.0:%d"/"127.0.0.1:%d"/' "$RMOD/argo-rollouts/controller/controller.go"
    grep -q '"127.0.0.1:%d"' "$RMOD/argo-rollouts/controller/controller.go" || { log "cannot find the listen address in $src/controller/controller.go"; exit 1; }
    go mod edit -replace "github.com/argoproj/argo-rollouts=./argo-rollouts"
    go build -trimpath \
      -ldflags "-s -w -X github.com/argoproj/argo-rollouts/utils/version.version=v$ROLLOUTS_VERSION" \
      -o "$WORK/bin/rollouts-controller" github.com/argoproj/argo-rollouts/cmd/rollouts-controller >&2
  )
  install -m 0755 "$WORK/bin/rollouts-controller" "$ASSETS_DIR/"; rm -f "$WORK/bin/rollouts-controller"
}
needs rollouts-controller && timed rollouts_build

log "done in $(( $(date +%s) - start ))s: $ASSETS_DIR"
echo "$ASSETS_DIR"
