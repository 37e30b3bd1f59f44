#!/usr/bin/env bash
# Installs the Debian 12 packages that make image, make image-test and podman-compose need —
# only those missing. Kept apart from install-deps.sh so that make run and make test do not
# install a container engine. Works as root; uses sudo otherwise.
set -euo pipefail

# iptables: netavark sets up the containers' network with it (without it: "netavark: No such file
# or directory"); podman only recommends it, and apt installs no recommends here.
packages=(podman runc netavark aardvark-dns iptables podman-compose debootstrap uidmap slirp4netns fuse-overlayfs curl python3-yaml)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ $status == "install ok installed" ]] || missing+=("$p")
done
((${#missing[@]} == 0)) && exit 0

echo "install-image-deps: installing ${missing[*]}"
sudo_cmd=()
[[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
