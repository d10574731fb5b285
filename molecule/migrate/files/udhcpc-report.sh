#!/bin/sh
# busybox udhcpc's event script for the rolling scenario's client load: applies nothing (no
# address, route or resolv.conf change), prints the lease and when it was bound.
if [ "$1" = bound ]; then
  echo "bound at=$(date +%s.%N) ip=${ip:-} serverid=${serverid:-} lease=${lease:-}"
fi
exit 0
