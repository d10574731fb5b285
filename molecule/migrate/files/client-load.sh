#!/bin/sh
# Client load of the migrate scenarios (and bench/measures/migration.py), run inside the client container:
#
#   client-load.sh DIR TAG MAX
#
# Every 0.5 s a new client asks for a lease: a macvlan interface on eth0 with a fresh MAC
# (02:44:TAG:01:HI:LO), so the container's own eth0 (Docker's address and route) is never
# touched, and busybox udhcpc with a script that applies nothing (udhcpc-report.sh). Each request
# runs on its own, so a slow answer never delays the next question. One line per request goes to
# DIR/records: when it asked (epoch seconds), udhcpc's exit code, the DISCOVERs it sent, and, if it
# got a lease, when, which address, which server (DHCP server identifier), the lease time and
# whether its release was sent. Each lease is released at once (dhcp-release.py: busybox udhcpc -q
# -R sends no release, seen in the servers' logs), so that a long run does not drain the pool: before
# that, every request held its address for the lease time (600 s), the scenario's runs used up a
# pool of 150, and the primary's dhcpd, partner-down after a revert, logged "peer holds all free
# leases" to new clients until MCLT had passed.
# Stops after MAX requests or when DIR/stop exists; DIR/done marks that every request has ended.
set -u
dir=$1
tag=$2
max=$3
mkdir -p "$dir"

request() {
  n=$1
  mac=$(printf '02:44:%02x:01:%02x:%02x' "$tag" $((n / 256)) $((n % 256)))
  ifc="rl${tag}x${n}"
  ip link add "$ifc" link eth0 address "$mac" type macvlan mode bridge && ip link set "$ifc" up
  asked=$(date +%s.%N)
  # Up to 6 DISCOVERs, 2 s apart: an unanswered request is one no server answered for 12 s. With -n
  # udhcpc also gives up when its REQUEST after an OFFER goes unanswered three times (6 s: an OFFER
  # made by a server just before a Kea HA transition moved the client to the other one), where
  # dhclient, or udhcpc without -n, starts over with a DISCOVER: so it starts over here too, as the
  # same client (same MAC), until 12 s have passed since it first asked. attempts= counts the starts.
  attempts=0
  out=
  rc=1
  while [ "$rc" -ne 0 ] && [ "$(awk -v a="$asked" -v b="$(date +%s.%N)" 'BEGIN { print (b - a < 12) ? 1 : 0 }')" = 1 ]; do
    attempts=$((attempts + 1))
    out="$out
$(busybox udhcpc -i "$ifc" -f -q -n -t 6 -T 2 -s /usr/local/sbin/udhcpc-report.sh 2>&1)"
    rc=$?
  done
  ended=$(date +%s.%N)
  bound=$(printf '%s\n' "$out" | grep '^bound ' | head -n 1)
  if [ -n "$bound" ]; then
    lease=$(printf '%s\n' "$bound" | sed -n 's/.* ip=\([0-9.]*\) serverid=\([0-9.]*\) .*/\1 \2/p')
    # shellcheck disable=SC2086 # two words: the address and the server identifier
    if python3 /usr/local/sbin/dhcp-release.py "$ifc" "$mac" $lease; then bound="$bound released=1"; else bound="$bound released=0"; fi
  fi
  ip link del "$ifc"
  discovers=$(printf '%s\n' "$out" | grep -c 'broadcasting discover')
  echo "n=$n mac=$mac asked=$asked ended=$ended rc=$rc attempts=$attempts discovers=$discovers $bound" >>"$dir/records"
}

i=0
while [ "$i" -lt "$max" ] && [ ! -e "$dir/stop" ]; do
  i=$((i + 1))
  request "$i" &
  sleep 0.5
done
wait
touch "$dir/done"
