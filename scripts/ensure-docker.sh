#!/usr/bin/env bash
# Make sure a Docker engine answers. On Debian as root: install docker.io (and mmdebstrap, which
# builds the lab images, dpkg-dev and apt-utils, which index the lab's apt repository, ssh, and the
# shell linter shellcheck, which ansible-test sanity runs on our scripts) when missing and start dockerd in the background when it is not running
# (CI machines have no systemd as PID 1). Elsewhere: say what is missing and stop.
set -euo pipefail
if docker info >/dev/null 2>&1 && command -v mmdebstrap >/dev/null 2>&1 && command -v shellcheck >/dev/null 2>&1 \
  && command -v dpkg-scanpackages >/dev/null 2>&1 && command -v apt-ftparchive >/dev/null 2>&1 && command -v ssh >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || [ ! -f /etc/debian_version ]; then
  echo "error: no working Docker engine (docker info failed), or mmdebstrap, shellcheck, dpkg-scanpackages, apt-ftparchive or ssh missing." >&2
  echo "Install Docker, mmdebstrap, shellcheck, dpkg-dev, apt-utils and openssh-client, start the engine, and run again (automatic set-up is done only on Debian as root)." >&2
  exit 1
fi
need=()
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
command -v mmdebstrap >/dev/null 2>&1 || need+=(mmdebstrap)
command -v shellcheck >/dev/null 2>&1 || need+=(shellcheck)
# The lab's local apt repository (lab/apt-repo/build.sh) and Ansible over SSH (molecule/operator).
command -v dpkg-scanpackages >/dev/null 2>&1 || need+=(dpkg-dev)
command -v apt-ftparchive >/dev/null 2>&1 || need+=(apt-utils)
command -v ssh >/dev/null 2>&1 || need+=(openssh-client)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]} from Debian's repositories..." >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
if ! docker info >/dev/null 2>&1; then
  echo "starting dockerd in the background (log: /var/log/dockerd-dhcp-failover.log)..." >&2
  nohup dockerd >/var/log/dockerd-dhcp-failover.log 2>&1 &
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
fi
docker info >/dev/null 2>&1 || { echo "error: dockerd did not come up; see /var/log/dockerd-dhcp-failover.log" >&2; exit 1; }
