#!/usr/bin/env bash
# Builds the peers slokeeper is compared with — Flagger and Argo Rollouts' controller — from the
# Go module proxy into the toolchain's cache (keyed by version, like build.sh), with their CRDs
# copied from their modules. Test only. Idempotent: a peer whose marker exists is skipped, so a
# warm run takes milliseconds. One Go build at a time: a lock file serialises concurrent callers
# (pytest workers), and the two peers build one after the other.
#
# Usage: peers.sh [--print-dir]
#   SLOKEEPER_CACHE   cache root (default ~/.cache/slokeeper)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=peers.env
source "$here/peers.env"

cache=${SLOKEEPER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/slokeeper}
flagger_dir=$cache/flagger-$FLAGGER_VERSION
argo_dir=$cache/argo-rollouts-$ARGO_ROLLOUTS_VERSION

if [[ ${1:-} == --print-dir ]]; then
  echo "$cache"
  exit 0
fi

command -v go >/dev/null || { echo "peers.sh: 'go' is not on PATH; install Go 1.26 or newer" >&2; exit 2; }
export CGO_ENABLED=0
started=$(date +%s)
go() { command go "$@" 2> >(grep -v '^go: downloading' >&2); }
say() { printf '[slokeeper peers %4ss] %s\n' "$(( $(date +%s) - started ))" "$*"; }

done_marker() { [[ -f $1/.complete ]]; }
mark_done() { date -u +%FT%TZ > "$1/.complete"; }
# Where the module sits in the module cache, downloaded first if needed.
module_dir() { go mod download -json "$1" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p'; }

build_flagger() {
  done_marker "$flagger_dir" && { say "flagger $FLAGGER_VERSION cached"; return; }
  say "flagger $FLAGGER_VERSION: building (about 3.5 minutes cold)"
  rm -rf "$flagger_dir" && mkdir -p "$flagger_dir"
  GOBIN=$flagger_dir go install -trimpath -ldflags "-s -w" \
    "github.com/fluxcd/flagger/cmd/flagger@$FLAGGER_VERSION"
  local src
  src=$(module_dir "github.com/fluxcd/flagger@$FLAGGER_VERSION")
  cp "$src/artifacts/flagger/crd.yaml" "$flagger_dir/crd.yaml"
  "$flagger_dir/flagger" -version
  mark_done "$flagger_dir"
}

# `go install …@version` refuses a module whose go.mod has replace directives, as Argo Rollouts'
# has: build inside a writable copy of the module instead, with the newer Go its go.mod asks for.
build_argo_rollouts() {
  done_marker "$argo_dir" && { say "argo-rollouts $ARGO_ROLLOUTS_VERSION cached"; return; }
  say "argo-rollouts $ARGO_ROLLOUTS_VERSION: building rollouts-controller (several minutes cold)"
  export GOTOOLCHAIN=$ARGO_ROLLOUTS_GOTOOLCHAIN
  local src work=$cache/work/argo-rollouts-$ARGO_ROLLOUTS_VERSION
  src=$(module_dir "github.com/argoproj/argo-rollouts@$ARGO_ROLLOUTS_VERSION")
  [[ -d $src ]] || { echo "could not download argo-rollouts@$ARGO_ROLLOUTS_VERSION" >&2; exit 1; }
  rm -rf "$work" "$argo_dir" && mkdir -p "$(dirname "$work")" "$argo_dir/crds"
  cp -r "$src" "$work" && chmod -R u+w "$work"
  (
    cd "$work"
    go build -trimpath -o "$argo_dir/rollouts-controller" \
      -ldflags "-s -w -X github.com/argoproj/argo-rollouts/utils/version.version=${ARGO_ROLLOUTS_VERSION#v}" \
      ./cmd/rollouts-controller
  )
  cp "$src"/manifests/crds/*-crd.yaml "$argo_dir/crds/"
  "$argo_dir/rollouts-controller" --version
  rm -rf "$work"
  mark_done "$argo_dir"
}

mkdir -p "$cache"
exec 9>"$cache/.peers.lock"
flock 9
build_flagger
build_argo_rollouts
say "peers ready in $cache"
