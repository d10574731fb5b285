#!/usr/bin/env bash
# Build the lab image from Debian packages (no registry is reachable): mmdebstrap + docker import.
# The tag is derived from the recipe (this script and packages.txt), so the image is rebuilt only
# when the recipe changes. Prints the image reference on stdout.
# DHCP_FAILOVER_LAB_IMAGE=ref skips the build and uses that image (a user with a registry).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [ -n "${DHCP_FAILOVER_LAB_IMAGE:-}" ]; then
  echo "$DHCP_FAILOVER_LAB_IMAGE"
  exit 0
fi
tag=$(cat "$here/build.sh" "$here/customize-rootfs.sh" "$here/packages.txt" | sha256sum | cut -c1-12)
image="dhcp-failover-lab:$tag"
if docker image inspect "$image" >/dev/null 2>&1; then
  echo "$image"
  exit 0
fi
packages=$(grep -v '^\s*#' "$here/packages.txt" | grep -v '^\s*$' | paste -sd, -)
work=$(mktemp -d /var/tmp/dhcp-failover-lab.XXXXXX)
trap 'rm -rf "$work"' EXIT
echo "building $image from Debian bookworm packages (mmdebstrap)..." >&2
mmdebstrap --quiet --variant=minbase --include="$packages" \
  --customize-hook="$here/customize-rootfs.sh" \
  bookworm "$work/rootfs.tar" >&2
docker import \
  --change 'CMD ["/lib/systemd/systemd"]' \
  --change 'ENV container=docker' \
  "$work/rootfs.tar" "$image" >/dev/null
docker tag "$image" dhcp-failover-lab:latest
echo "$image"
