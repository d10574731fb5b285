#!/usr/bin/env bash
# mmdebstrap customize hook of the bare server images: $1 is the root of the new image.
# - a user `ops` with passwordless sudo: Ansible connects as ops over SSH and becomes root;
# - sshd takes keys from /etc/ssh/lab_authorized_keys/USER, which the lab mounts read-only at
#   container start (a key generated per run), and no passwords; host keys are made at first
#   start, so no two containers share them;
# - apt's only source is the lab's local repository (lab/apt-repo/build.sh), mounted read-only
#   at $LAB_APT_MOUNT. trusted=yes: an unsigned mirror of the lab's own, built on this machine
#   from Debian's signed archive; a real site would sign its mirror.
set -euo pipefail
root=$1
mount=${LAB_APT_MOUNT:-/srv/dhcp-failover-lab-apt}
chroot "$root" useradd --create-home --shell /bin/bash ops
printf 'ops ALL=(ALL:ALL) NOPASSWD: ALL\n' > "$root/etc/sudoers.d/ops"
chmod 0440 "$root/etc/sudoers.d/ops"
mkdir -p "$root/etc/ssh/sshd_config.d" "$root/etc/ssh/lab_authorized_keys"
cat > "$root/etc/ssh/sshd_config.d/dhcp-failover-lab.conf" <<'CONF'
AuthorizedKeysFile .ssh/authorized_keys /etc/ssh/lab_authorized_keys/%u
PasswordAuthentication no
KbdInteractiveAuthentication no
CONF
rm -f "$root"/etc/ssh/ssh_host_*
mkdir -p "$root/etc/systemd/system/ssh.service.d"
cat > "$root/etc/systemd/system/ssh.service.d/dhcp-failover-lab-host-keys.conf" <<'CONF'
[Service]
ExecStartPre=
ExecStartPre=/usr/bin/ssh-keygen -A
ExecStartPre=/usr/sbin/sshd -t
CONF
codename=$(sed -n 's/^VERSION_CODENAME=//p' "$root/etc/os-release")
rm -f "$root/etc/apt/sources.list" "$root"/etc/apt/sources.list.d/*
cat > "$root/etc/apt/sources.list.d/dhcp-failover-lab.sources" <<SOURCES
# The site's own Debian mirror (dhcp.failover lab: lab/apt-repo/build.sh), mounted read-only.
# Trusted: an unsigned local lab mirror, built on the lab's host from Debian's signed archive.
Types: deb
URIs: file:$mount/$codename
Suites: ./
Trusted: yes
SOURCES
rm -rf "$root"/var/lib/apt/lists/*
