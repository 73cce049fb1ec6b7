#!/usr/bin/env bash
# Builds the local control plane (Kubernetes, etcd, kwok, helm, Prometheus, Alertmanager,
# VictoriaMetrics, Sloth for comparisons, actionlint for the workflow files, and crane for a local
# OCI registry) from the Go module
# proxy into a cache keyed by version. Idempotent: a component whose binaries are cached and
# answer --version is skipped, so a warm run takes seconds. Go builds run one at a time, since
# two in parallel on a 2-core machine only thrash.
#
# Usage: build.sh [--print-dir | --only actionlint|crane]
#   --only actionlint  build (or find cached) actionlint alone: what `make lint` needs
#   --only crane       the same for crane, whose `registry serve` the chart's OCI test pushes to
#   SLOKEEPER_CACHE   cache root (default ~/.cache/slokeeper)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"

cache=${SLOKEEPER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/slokeeper}
k8s_dir=$cache/kubernetes-$KUBERNETES_VERSION
k8s_node_dir=$cache/kubernetes-node-$KUBERNETES_VERSION
etcd_dir=$cache/etcd-$ETCD_VERSION
kwok_dir=$cache/kwok-$KWOK_VERSION
helm_dir=$cache/helm-$HELM_VERSION
prom_dir=$cache/prometheus-$PROMETHEUS_VERSION
promop_dir=$cache/prometheus-operator-crds-$PROMETHEUS_OPERATOR_VERSION
sloth_dir=$cache/sloth-$SLOTH_VERSION
am_dir=$cache/alertmanager-$ALERTMANAGER_VERSION
vm_dir=$cache/victoriametrics-$VICTORIAMETRICS_VERSION
actionlint_dir=$cache/actionlint-$ACTIONLINT_VERSION
crane_dir=$cache/crane-$CRANE_VERSION

if [[ ${1:-} == --print-dir ]]; then
  echo "$cache"
  exit 0
fi

command -v go >/dev/null || { echo "build.sh: 'go' is not on PATH; install Go 1.26 or newer" >&2; exit 2; }
export CGO_ENABLED=0 GOFLAGS=-mod=mod
started=$(date +%s)

# Go prints one line per module it downloads (hundreds on a cold build); keep errors, drop those.
go() { command go "$@" 2> >(grep -v '^go: downloading' >&2); }

say() {
  printf '[slokeeper toolchain %4ss] %s\n' "$(( $(date +%s) - started ))" "$*"
  printf '%s' "$*" > "$cache/.current-step"
}

mkdir -p "$cache"
# One build at a time in one cache: a second caller (another pytest worker, a test run started
# beside CI) waits here, then finds the components cached instead of building them again into
# the same directories.
exec 9>"$cache/.build.lock"
if ! flock -n 9; then
  printf '[slokeeper toolchain] another build.sh is building into %s; waiting for it\n' "$cache"
  flock 9
fi

# A Go build of Kubernetes stays silent for minutes: a line a minute says it is still going.
( while sleep 60; do
    printf '[slokeeper toolchain %4ss] … still working on: %s\n' \
      "$(( $(date +%s) - started ))" "$(cat "$cache/.current-step" 2>/dev/null)"
  done ) &
heartbeat=$!
trap 'kill "$heartbeat" 2>/dev/null' EXIT

# A component is done when its marker exists: the marker is written only after every binary
# of the component built, so an interrupted build is redone rather than trusted.
done_marker() { [[ -f $1/.complete ]]; }
mark_done() { date -u +%FT%TZ > "$1/.complete"; }

fresh_module() {
  local dir=$1 name=$2
  rm -rf "$dir" && mkdir -p "$dir" && cd "$dir"
  go mod init "$name" >/dev/null 2>&1
}

# The wrapper module that builds Kubernetes commands: the kubernetes module requires its staging
# modules at v0.0.0 and replaces them with local paths, which a dependency's go.mod cannot do, so
# the wrapper points each one at its published v0.X.Y. Sets k8s_ldflags; cwd is the wrapper.
kubernetes_wrapper() {
  local work=$cache/work/kubernetes-$KUBERNETES_VERSION gomod minor
  local staging_version=v0.${KUBERNETES_VERSION#v1.}
  minor=${KUBERNETES_VERSION#v1.}; minor=${minor%%.*}
  k8s_ldflags="-s -w"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    k8s_ldflags+=" -X $pkg.gitVersion=$KUBERNETES_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    k8s_ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  if [[ -f $work/.ready ]]; then cd "$work"; return; fi
  say "kubernetes $KUBERNETES_VERSION: downloading the module (about a minute)"
  fresh_module "$work" slokeeper.local/kubernetes-build
  gomod=$(go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" | sed -n 's/^\s*"GoMod": "\(.*\)",$/\1/p')
  [[ -f $gomod ]] || { echo "could not download k8s.io/kubernetes@$KUBERNETES_VERSION" >&2; exit 1; }
  {
    echo "module slokeeper.local/kubernetes-build"
    echo
    sed -n 's/^go \(.*\)$/go \1/p' "$gomod" | head -n1
    grep -E '^godebug' "$gomod" || true
    echo
    echo "require k8s.io/kubernetes $KUBERNETES_VERSION"
    echo
    echo "replace ("
    sed -n 's#^\s*\(k8s.io/[a-z0-9-]*\) => ./staging/src/.*#\t\1 => \1 '"$staging_version"'#p' "$gomod"
    echo ")"
  } > go.mod
  cat > tools.go <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-proxy"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
	_ "k8s.io/kubernetes/cmd/kubelet"
)
GO
  go mod tidy -e >/dev/null 2>&1 || go mod tidy -e
  touch .ready
}

build_kubernetes() {
  done_marker "$k8s_dir" && { say "kubernetes $KUBERNETES_VERSION cached"; return; }
  kubernetes_wrapper
  mkdir -p "$k8s_dir"
  say "kubernetes $KUBERNETES_VERSION: building kube-apiserver (about 3 minutes cold)"
  go build -trimpath -ldflags "$k8s_ldflags" -o "$k8s_dir/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver
  say "kubernetes $KUBERNETES_VERSION: building kube-controller-manager, kube-scheduler, kubectl"
  for cmd in kube-controller-manager kube-scheduler kubectl; do
    go build -trimpath -ldflags "$k8s_ldflags" -o "$k8s_dir/$cmd" "k8s.io/kubernetes/cmd/$cmd"
  done
  "$k8s_dir/kube-apiserver" --version
  mark_done "$k8s_dir"
}

# The node's own binaries, for the real-node cluster (REALNODE.md): a separate cache entry, so a
# control plane cached before they were needed is not rebuilt.
build_kubernetes_node() {
  done_marker "$k8s_node_dir" && { say "kubelet and kube-proxy $KUBERNETES_VERSION cached"; return; }
  kubernetes_wrapper
  mkdir -p "$k8s_node_dir"
  say "kubernetes $KUBERNETES_VERSION: building kubelet and kube-proxy (about 6 minutes cold)"
  for cmd in kubelet kube-proxy; do
    go build -trimpath -ldflags "$k8s_ldflags" -o "$k8s_node_dir/$cmd" "k8s.io/kubernetes/cmd/$cmd"
  done
  "$k8s_node_dir/kubelet" --version
  mark_done "$k8s_node_dir"
}

build_etcd() {
  done_marker "$etcd_dir" && { say "etcd $ETCD_VERSION cached"; return; }
  say "etcd $ETCD_VERSION: building"
  local work=$cache/work/etcd-$ETCD_VERSION
  fresh_module "$work" slokeeper.local/etcd-build
  go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >/dev/null 2>&1 || go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION"
  mkdir -p "$etcd_dir"
  go build -trimpath -ldflags "-s -w" -o "$etcd_dir/etcd" go.etcd.io/etcd/server/v3
  "$etcd_dir/etcd" --version | head -n1
  mark_done "$etcd_dir"
}

build_kwok() {
  done_marker "$kwok_dir" && { say "kwok $KWOK_VERSION cached"; return; }
  say "kwok $KWOK_VERSION: building kwok and kwokctl"
  mkdir -p "$kwok_dir"
  for cmd in kwok kwokctl; do
    GOBIN=$kwok_dir go install -trimpath -ldflags "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=$KWOK_VERSION" \
      "sigs.k8s.io/kwok/cmd/$cmd@$KWOK_VERSION"
  done
  mark_done "$kwok_dir"
}

build_helm() {
  done_marker "$helm_dir" && { say "helm $HELM_VERSION cached"; return; }
  say "helm $HELM_VERSION: building"
  mkdir -p "$helm_dir"
  GOBIN=$helm_dir go install -trimpath -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" \
    "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
  "$helm_dir/helm" version --short
  mark_done "$helm_dir"
}

build_prometheus() {
  done_marker "$prom_dir" && { say "prometheus $PROMETHEUS_VERSION cached"; return; }
  say "prometheus $PROMETHEUS_VERSION: building prometheus and promtool (about 4 minutes cold)"
  local work=$cache/work/prometheus-$PROMETHEUS_VERSION
  fresh_module "$work" slokeeper.local/prometheus-build
  # Both commands must be fetched before building, or go.sum lacks their dependencies.
  go get "github.com/prometheus/prometheus/cmd/prometheus@$PROMETHEUS_MODULE_VERSION" \
         "github.com/prometheus/prometheus/cmd/promtool@$PROMETHEUS_MODULE_VERSION" >/dev/null 2>&1 \
    || go get "github.com/prometheus/prometheus/cmd/prometheus@$PROMETHEUS_MODULE_VERSION" \
              "github.com/prometheus/prometheus/cmd/promtool@$PROMETHEUS_MODULE_VERSION"
  mkdir -p "$prom_dir"
  local ldflags="-s -w -X github.com/prometheus/common/version.Version=$PROMETHEUS_VERSION"
  for cmd in prometheus promtool; do
    go build -trimpath -ldflags "$ldflags" -o "$prom_dir/$cmd" "github.com/prometheus/prometheus/cmd/$cmd"
  done
  "$prom_dir/prometheus" --version | head -n1
  mark_done "$prom_dir"
}

fetch_prometheus_operator_crds() {
  done_marker "$promop_dir" && { say "prometheus-operator CRDs $PROMETHEUS_OPERATOR_VERSION cached"; return; }
  say "prometheus-operator CRDs $PROMETHEUS_OPERATOR_VERSION: downloading the module"
  local dir
  dir=$(go mod download -json "github.com/prometheus-operator/prometheus-operator@$PROMETHEUS_OPERATOR_VERSION" \
    | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')
  [[ -d $dir/example/prometheus-operator-crd ]] || { echo "no CRDs in $dir" >&2; exit 1; }
  mkdir -p "$promop_dir"
  cp "$dir"/example/prometheus-operator-crd/monitoring.coreos.com_{prometheusrules,servicemonitors}.yaml "$promop_dir/"
  mark_done "$promop_dir"
}

build_sloth() {
  done_marker "$sloth_dir" && { say "sloth $SLOTH_VERSION cached"; return; }
  say "sloth $SLOTH_VERSION: building (about 2 minutes cold)"
  mkdir -p "$sloth_dir"
  GOBIN=$sloth_dir go install -trimpath -ldflags "-s -w" "github.com/slok/sloth/cmd/sloth@$SLOTH_VERSION"
  "$sloth_dir/sloth" version
  mark_done "$sloth_dir"
}

build_alertmanager() {
  done_marker "$am_dir" && { say "alertmanager $ALERTMANAGER_VERSION cached"; return; }
  say "alertmanager $ALERTMANAGER_VERSION: building"
  local module=github.com/prometheus/alertmanager src
  src=$(go mod download -json "$module@$ALERTMANAGER_VERSION" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')
  [[ -d $src ]] || { echo "could not download $module@$ALERTMANAGER_VERSION" >&2; exit 1; }
  # The web UI is embedded from app/dist, which its npm build makes and the module lacks. Only
  # the API is used here, so a writable copy gets an empty UI.
  local work=$cache/work/alertmanager-$ALERTMANAGER_VERSION
  rm -rf "$work" && mkdir -p "$(dirname "$work")" && cp -r "$src" "$work" && chmod -R u+w "$work"
  mkdir -p "$work/ui/app/dist/elm" "$work/ui/app/dist/mantine"
  echo '<p>web UI not built</p>' | tee "$work/ui/app/dist/elm/index.html" > "$work/ui/app/dist/mantine/index.html"
  mkdir -p "$am_dir"
  (cd "$work" && go build -trimpath \
    -ldflags "-s -w -X github.com/prometheus/common/version.Version=${ALERTMANAGER_VERSION#v}" \
    -o "$am_dir/alertmanager" ./cmd/alertmanager)
  "$am_dir/alertmanager" --version | head -n1
  mark_done "$am_dir"
}

build_victoriametrics() {
  done_marker "$vm_dir" && { say "victoriametrics $VICTORIAMETRICS_VERSION cached"; return; }
  say "victoriametrics $VICTORIAMETRICS_VERSION: building victoria-metrics (single node)"
  local work=$cache/work/victoriametrics-$VICTORIAMETRICS_VERSION
  fresh_module "$work" slokeeper.local/victoriametrics-build
  local module=github.com/VictoriaMetrics/VictoriaMetrics gomod
  gomod=$(go mod download -json "$module@$VICTORIAMETRICS_VERSION" | sed -n 's/^\s*"GoMod": "\(.*\)",$/\1/p')
  [[ -f $gomod ]] || { echo "could not download $module@$VICTORIAMETRICS_VERSION" >&2; exit 1; }
  # `go install m@v` refuses a module with replace directives; a wrapper module copies them.
  {
    echo "module slokeeper.local/victoriametrics-build"
    echo
    sed -n 's/^go \(.*\)$/go \1/p' "$gomod" | head -n1
    echo
    echo "require $module $VICTORIAMETRICS_VERSION"
    echo
    awk '/^replace \($/{inside=1; print; next} inside && /^\)$/{inside=0; print; next} inside || /^replace [^(]/' "$gomod"
  } > go.mod
  go get "$module/app/victoria-metrics@$VICTORIAMETRICS_VERSION" >/dev/null 2>&1 \
    || go get "$module/app/victoria-metrics@$VICTORIAMETRICS_VERSION"
  mkdir -p "$vm_dir"
  go build -trimpath -ldflags "-s -w -X $module/lib/buildinfo.Version=victoria-metrics-$VICTORIAMETRICS_VERSION" \
    -o "$vm_dir/victoria-metrics" "$module/app/victoria-metrics"
  "$vm_dir/victoria-metrics" -version
  mark_done "$vm_dir"
}

# A small build (one module, no cgo): the linter of .github/workflows, run by `make lint`.
build_actionlint() {
  done_marker "$actionlint_dir" && { say "actionlint $ACTIONLINT_VERSION cached"; return; }
  say "actionlint $ACTIONLINT_VERSION: building"
  mkdir -p "$actionlint_dir"
  GOBIN=$actionlint_dir go install -trimpath \
    -ldflags "-s -w -X github.com/rhysd/actionlint.version=$ACTIONLINT_VERSION" \
    "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION"
  "$actionlint_dir/actionlint" -version | head -n1
  mark_done "$actionlint_dir"
}

# A small build too: an in-memory OCI registry (`crane registry serve`) for the chart's OCI test.
build_crane() {
  done_marker "$crane_dir" && { say "crane $CRANE_VERSION cached"; return; }
  say "crane $CRANE_VERSION: building"
  mkdir -p "$crane_dir"
  GOBIN=$crane_dir go install -trimpath \
    -ldflags "-s -w -X github.com/google/go-containerregistry/cmd/crane/cmd.Version=$CRANE_VERSION" \
    "github.com/google/go-containerregistry/cmd/crane@$CRANE_VERSION"
  "$crane_dir/crane" version
  mark_done "$crane_dir"
}

if [[ ${1:-} == --only ]]; then
  case ${2:-} in
    actionlint) build_actionlint ;;
    crane) build_crane ;;
    *) echo "build.sh: --only takes actionlint or crane, not '${2:-}'" >&2; exit 2 ;;
  esac
  exit 0
fi

build_etcd
build_kwok
build_kubernetes
build_kubernetes_node
build_prometheus
build_helm
fetch_prometheus_operator_crds
build_alertmanager
build_victoriametrics
build_sloth
build_actionlint
build_crane
rm -rf "$cache/work"
say "toolchain ready in $cache ($(( $(date +%s) - started )) s)"
