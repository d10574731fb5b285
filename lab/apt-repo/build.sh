#!/usr/bin/env bash
# Build the lab's local apt repository, as a site with its own Debian mirror has one: for every
# suite of lab/lab.yml (apt_repository.suites), the .deb files of lab/apt-repo/packages.txt and
# of all their dependencies, fetched with apt from Debian's archive (a private apt state per
# suite, so trixie's come on a bookworm host), indexed with dpkg-scanpackages (Packages) and
# apt-ftparchive (Release). Result: build/apt-repo/SUITE/, a flat repository that the lab mounts
# read-only into the bare containers. Rebuilt only when this script, the package list or the
# suites change; apt's state for each suite is kept under /var/tmp.
# The archive is the one the host's apt uses (DHCP_FAILOVER_LAB_MIRROR overrides it).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
python=${PYTHON:-python3}
lab() { "$python" "$repo/lab/lab.py" "$@"; }
out=$repo/$(lab get apt_repository.directory)
list=$repo/$(lab get apt_repository.packages)
mapfile -t suites < <(lab get apt_repository.suites)
recipe=$( { cat "$0" "$list"; echo "${suites[@]}"; } | sha256sum | cut -c1-12)
if [ "$(cat "$out/.recipe" 2>/dev/null)" = "$recipe" ]; then
  echo "$out"
  exit 0
fi
mapfile -t packages < <(grep -v '^\s*#' "$list" | grep -v '^\s*$')
host_codename=$(sed -n 's/^VERSION_CODENAME=//p' /etc/os-release)
# apt's own $(FIELD) placeholders in single quotes, not shell expansions:
# shellcheck disable=SC2016
mirror=${DHCP_FAILOVER_LAB_MIRROR:-$(apt-get indextargets --format '$(SITE) $(RELEASE)' 'Identifier: Packages' \
  | awk -v c="$host_codename" '$2 == c {print $1; exit}')}
if [ -z "$mirror" ]; then
  echo "error: no Debian archive for $host_codename in the host's apt sources; set DHCP_FAILOVER_LAB_MIRROR" >&2
  exit 1
fi
cache=/var/tmp/dhcp-failover-lab-apt
rm -rf "$out.new" && mkdir -p "$out.new"
for suite in "${suites[@]}"; do
  state=$cache/$suite
  mkdir -p "$state/lists/partial" "$state/archives/partial" "$state/etc/sources.list.d" "$state/etc/preferences.d"
  : > "$state/status"
  rm -f "$state"/archives/*.deb
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $suite main" > "$state/etc/sources.list"
  # An empty dpkg status: apt resolves the whole dependency closure, whatever a bare host has.
  opts=(-o "Dir::State::status=$state/status" -o "Dir::State::Lists=$state/lists"
        -o "Dir::Cache::Archives=$state/archives" -o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache="
        -o "Dir::Etc::sourcelist=$state/etc/sources.list" -o "Dir::Etc::sourceparts=$state/etc/sources.list.d"
        -o "Dir::Etc::preferencesparts=$state/etc/preferences.d" -o "APT::Architecture=$(dpkg --print-architecture)"
        -o "APT::Architectures::=$(dpkg --print-architecture)" -o Debug::NoLocking=1)
  echo "apt repository: fetching ${packages[*]} and their dependencies for $suite..." >&2
  apt-get "${opts[@]}" -qq update
  apt-get "${opts[@]}" -qq -y --no-install-recommends --download-only install "${packages[@]}" >/dev/null
  mkdir -p "$out.new/$suite"
  cp "$state"/archives/*.deb "$out.new/$suite/"
  (cd "$out.new/$suite" && dpkg-scanpackages --multiversion . /dev/null 2>/dev/null > Packages \
    && gzip -9k Packages \
    && apt-ftparchive -o APT::FTPArchive::Release::Origin=dhcp-failover-lab \
         -o "APT::FTPArchive::Release::Suite=$suite" release . > ../Release.tmp && mv ../Release.tmp Release)
  echo "apt repository: $suite: $(find "$out.new/$suite" -name "*.deb" | wc -l) packages, $(du -sh "$out.new/$suite" | cut -f1)" >&2
done
echo "$recipe" > "$out.new/.recipe"
rm -rf "$out.old" && { test ! -d "$out" || mv "$out" "$out.old"; } && mv "$out.new" "$out" && rm -rf "$out.old"
echo "$out"
