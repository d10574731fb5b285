#!/usr/bin/env bash
# Build one lab image from Debian packages (no registry is reachable): mmdebstrap + docker import.
# Usage: lab/image/build.sh [KIND]   KIND is an image of lab/lab.yml (full, bare-bookworm,
# bare-trixie; default full). The tag is a hash of the image's recipe (this script, its hooks,
# its package list and its suite), so an image is rebuilt only when its recipe changes. Prints
# the image reference on stdout. The image's env variable in lab/lab.yml (for full:
# DHCP_FAILOVER_LAB_IMAGE=ref) skips the build and uses that image (a user with a registry).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
kind=${1:-full}
python=${PYTHON:-python3}
lab() { "$python" "$repo/lab/lab.py" "$@"; }
envvar=$(lab get "images.$kind.env")
if [ -n "${!envvar:-}" ]; then
  echo "${!envvar}"
  exit 0
fi
suite=$(lab get "images.$kind.suite")
packages_file=$repo/$(lab get "images.$kind.packages")
mapfile -t hooks < <(lab get "images.$kind.hooks")
repository=$(lab get "images.$kind.repository")
tag=$( { cat "$here/build.sh" "$packages_file"; for h in "${hooks[@]}"; do cat "$repo/$h"; done; echo "$suite"; } \
  | sha256sum | cut -c1-12)
image="$repository:$tag"
if docker image inspect "$image" >/dev/null 2>&1; then
  echo "$image"
  exit 0
fi
packages=$(grep -v '^\s*#' "$packages_file" | grep -v '^\s*$' | paste -sd, -)
hook_args=()
for h in "${hooks[@]}"; do hook_args+=(--customize-hook="$repo/$h"); done
# The bare images' apt source points at the lab's local repository, mounted here.
LAB_APT_MOUNT=$(lab get apt_repository.mount)
export LAB_APT_MOUNT
work=$(mktemp -d /var/tmp/dhcp-failover-lab.XXXXXX)
trap 'rm -rf "$work"' EXIT
echo "building $image from Debian $suite packages (mmdebstrap)..." >&2
mmdebstrap --quiet --variant=minbase --include="$packages" "${hook_args[@]}" \
  "$suite" "$work/rootfs.tar" >&2
docker import \
  --change 'CMD ["/lib/systemd/systemd"]' \
  --change 'ENV container=docker' \
  "$work/rootfs.tar" "$image" >/dev/null
docker tag "$image" "$repository:latest"
echo "$image"
