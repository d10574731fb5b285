#!/usr/bin/env bash
# mmdebstrap customize hook: $1 is the root of the new image.
# An empty machine-id makes systemd generate a fresh one in every container started from it.
set -euo pipefail
rm -f "$1/etc/machine-id"
touch "$1/etc/machine-id"
