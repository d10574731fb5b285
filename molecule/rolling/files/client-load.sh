#!/bin/sh
# Client load for the rolling scenario, run inside the client container:
#
#   client-load.sh DIR TAG MAX
#
# Every 0.5 s a new client asks for a lease: a macvlan interface on eth0 with a fresh MAC
# (02:44:TAG:00:HI:LO), so the container's own eth0 (Docker's address and route) is never
# touched, and busybox udhcpc with a script that applies nothing (udhcpc-report.sh). Each request
# runs on its own, so a slow answer never delays the next question. One line per request goes to
# DIR/records: when it asked (epoch seconds), udhcpc's exit code, the DISCOVERs it sent, and, if it
# got a lease, when, which address, which server (DHCP server identifier) and the lease time.
# Nothing is released: busybox udhcpc -q -R quits before BOUND and sends no DHCPRELEASE (seen in
# the servers' logs; molecule/migrate/files/dhcp-release.py sends one), so each request holds its
# address for the lease time (600 s). The scenario's two loads ask about 80 times (42 and 36 in
# the CI rehearsal of 2026-12-07) from a pool of 219: a load that asks more than that must release.
# Stops after MAX requests or when DIR/stop exists; DIR/done marks that every request has ended.
set -u
dir=$1
tag=$2
max=$3
mkdir -p "$dir"

request() {
  n=$1
  mac=$(printf '02:44:%02x:00:%02x:%02x' "$tag" $((n / 256)) $((n % 256)))
  ifc="rl${tag}x${n}"
  ip link add "$ifc" link eth0 address "$mac" type macvlan mode bridge && ip link set "$ifc" up
  asked=$(date +%s.%N)
  # Up to 6 DISCOVERs, 2 s apart: an unanswered request is one no server answered for 12 s.
  out=$(busybox udhcpc -i "$ifc" -f -q -n -R -t 6 -T 2 -s /usr/local/sbin/udhcpc-report.sh 2>&1)
  rc=$?
  ended=$(date +%s.%N)
  ip link del "$ifc"
  bound=$(printf '%s\n' "$out" | grep '^bound ' | head -n 1)
  discovers=$(printf '%s\n' "$out" | grep -c 'broadcasting discover')
  echo "n=$n mac=$mac asked=$asked ended=$ended rc=$rc discovers=$discovers $bound" >>"$dir/records"
}

i=0
while [ "$i" -lt "$max" ] && [ ! -e "$dir/stop" ]; do
  i=$((i + 1))
  request "$i" &
  sleep 0.5
done
wait
touch "$dir/done"
