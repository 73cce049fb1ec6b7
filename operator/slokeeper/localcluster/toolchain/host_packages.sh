#!/usr/bin/env bash
# Installs the Debian packages the real-node cluster needs (containerd and runc for containers,
# the CNI plugins, iptables and conntrack for kube-proxy, socat for the API relay, debootstrap and
# podman for images; facts in shared/REALNODE.md) when any is missing. Idempotent: with all
# present it only checks. Needs root to install, as the real node itself does.
set -euo pipefail
# Test workers may start nodes at once: one installs, the others wait and then find all present
# (the lock is on this script itself, so no lock file is left anywhere).
exec 9<"${BASH_SOURCE[0]}"
flock 9

packages=(containerd runc containernetworking-plugins iptables conntrack socat debootstrap podman buildah)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "real-node packages: all present"
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "the real-node cluster needs root, and these Debian packages: ${missing[*]}" >&2
  exit 2
fi
echo "real-node packages: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=300 update -qq
apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "real-node packages: installed"
