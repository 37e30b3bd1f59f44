#!/usr/bin/env bash
# Makes sure the base image of deploy/Dockerfile exists for podman: uses it if present, pulls it
# if a registry answers, and otherwise builds it here with debootstrap from the Debian mirror this
# machine already uses, then imports it as localhost/debian:bookworm. Prints the image name to use.
set -euo pipefail

base=${BASE_IMAGE:-debian:bookworm}
local_name=localhost/debian:bookworm

# The one made here first: podman would also resolve the short name debian:bookworm to it.
if podman image exists "$local_name"; then
  echo "image-base: using $local_name, made earlier here with debootstrap" >&2
  echo "$local_name"; exit 0
fi
if podman image exists "$base"; then echo "$base"; exit 0; fi
if timeout 60 podman pull -q "docker.io/library/$base" >/dev/null 2>&1; then echo "$base"; exit 0; fi

# The first deb822 URIs: or one-line deb entry for the main archive (not -security, not third parties).
mirror=$(grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null \
  | awk '{print $2}' | grep -v security | grep -i debian | head -n1 || true)
if [[ -z $mirror ]]; then
  mirror=$(grep -hE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
    | awk '{print $2}' | grep -v security | grep -i debian | head -n1 || true)
fi
mirror=${mirror:-http://deb.debian.org/debian}
echo "image-base: $base cannot be pulled (no registry reachable); building it with" \
  "debootstrap --variant=minbase bookworm from $mirror and importing it as $local_name" >&2

dir=$(mktemp -d /var/tmp/todo-bookworm.XXXXXX)
trap 'rm -rf "$dir"' EXIT
nice -n 19 debootstrap --variant=minbase bookworm "$dir" "$mirror" >&2
# The same sources as the official image (main, updates, security) so apt-get in the build sees
# the fixes; a slim image has no apt lists or caches.
cat >"$dir/etc/apt/sources.list" <<SOURCES
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb ${mirror%/debian}/debian-security bookworm-security main
SOURCES
rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/archives/*.deb
tar -C "$dir" -c . | podman import --change 'CMD ["bash"]' - "$local_name" >&2
echo "$local_name"
