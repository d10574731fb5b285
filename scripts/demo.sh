#!/usr/bin/env bash
# `make demo` / `make lab-down`: a local lab (two dhcpd servers and a client in Docker, network
# dhcpf-demo, 10.231.9.0/24) driven by the collection's own playbooks, run by FQCN from the
# installed tarball as a Galaxy user runs them.
#   scripts/demo.sh up     (re)create the lab, then site, status, drill, status
#   scripts/demo.sh down   remove the lab
# `make demo` sets DHCP_FAILOVER_LAB_IMAGE, PATH (the venv) and ANSIBLE_COLLECTIONS_PATH.
set -euo pipefail
cd "$(dirname "$0")/.."

NETWORK=dhcpf-demo
SUBNET=10.231.9.0/24
CONTAINERS=(dhcpf-demo-p dhcpf-demo-s dhcpf-demo-c)
declare -A ADDRESS=([dhcpf-demo-p]=10.231.9.2 [dhcpf-demo-s]=10.231.9.3 [dhcpf-demo-c]=10.231.9.10)
# The lab's image, container flags and network options: lab/lab.yml, read by lab/lab.py.
lab() { "${PYTHON:-python3}" lab/lab.py "$@"; }
IMAGE=$(lab image full)
DEMO_DIR=build/demo
INVENTORY=$DEMO_DIR/inventory.yml

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

down() {
  local c
  for c in "${CONTAINERS[@]}"; do
    if docker container inspect "$c" >/dev/null 2>&1; then docker rm -f "$c" >/dev/null; echo "removed container $c"; fi
  done
  if docker network inspect "$NETWORK" >/dev/null 2>&1; then docker network rm "$NETWORK" >/dev/null; echo "removed network $NETWORK"; fi
}

write_inventory() {
  mkdir -p "$DEMO_DIR"
  cat > "$INVENTORY" <<YAML
# Written by scripts/demo.sh: the demo lab's pair "demo" and its probe client.
all:
  vars:
    ansible_connection: community.docker.docker
    ansible_python_interpreter: /usr/bin/python3
  children:
    dhcp_failover:
      children:
        demo:
          hosts:
            dhcpf-demo-p: {dhcp_failover_role: primary}
            dhcpf-demo-s: {dhcp_failover_role: secondary}
          vars:
            dhcp_failover_peer_name: demo
            dhcp_failover_mclt: 30         # small, so a first start and a recovery take seconds
            dhcp_failover_ping_check: false
            dhcp_failover_omapi_key_dir: "$PWD/$DEMO_DIR/keys"
            dhcp_failover_subnets:
              - network: 10.231.9.0/24
                routers: [10.231.9.254]
                domain_name: demo.lab
                pools:
                  - ranges: [{start: 10.231.9.100, end: 10.231.9.199}]
    dhcp_failover_probe:
      hosts:
        dhcpf-demo-c: {dhcp_failover_probe_interface: eth0}
YAML
}

up() {
  say "lab: removing what an earlier run left"
  down
  local net_args run_args command
  mapfile -t net_args < <(lab network-create-args "$SUBNET")
  mapfile -t run_args < <(lab docker-run-args)
  command=$(lab command)
  say "lab: network $NETWORK (${net_args[*]}) and containers from $IMAGE"
  docker network create "${net_args[@]}" "$NETWORK" >/dev/null
  local c
  for c in "${CONTAINERS[@]}"; do
    docker run -d --name "$c" --hostname "$c" --network "$NETWORK" --ip "${ADDRESS[$c]}" \
      "${run_args[@]}" "$IMAGE" "$command" >/dev/null
    echo "started $c (${ADDRESS[$c]})"
  done
  for c in "${CONTAINERS[@]}"; do   # systemd up far enough for systemctl and journald
    timeout 60 bash -c "until docker exec $c systemctl is-active --quiet systemd-journald 2>/dev/null; do sleep 0.5; done" \
      || { echo "systemd did not come up in $c" >&2; exit 1; }
  done
  write_inventory
  export ANSIBLE_PIPELINING=true
  local pb=(ansible-playbook -i "$INVENTORY")

  say "ansible-playbook dhcp.failover.site      (validate both peers, configure, wait for normal)"
  "${pb[@]}" dhcp.failover.site
  say "ansible-playbook dhcp.failover.status    (one table for every pair; JSON and Prometheus textfile)"
  "${pb[@]}" dhcp.failover.status -e dhcp_failover_status_json="$PWD/$DEMO_DIR/status.json" \
    -e dhcp_failover_status_textfile="$PWD/$DEMO_DIR/dhcp_failover.prom"
  say "ansible-playbook dhcp.failover.drill     (stop the primary, lease from the secondary, back to normal)"
  "${pb[@]}" dhcp.failover.drill -e dhcp_failover_drill_report="$PWD/$DEMO_DIR/drill.json"
  say "ansible-playbook dhcp.failover.status    (after the drill)"
  "${pb[@]}" dhcp.failover.status -e dhcp_failover_status_json="$PWD/$DEMO_DIR/status.json" \
    -e dhcp_failover_status_textfile="$PWD/$DEMO_DIR/dhcp_failover.prom"

  say "done"
  cat <<TXT
The lab is still running. Try more:
  export ANSIBLE_COLLECTIONS_PATH=${ANSIBLE_COLLECTIONS_PATH:-build/collections}
  ansible-playbook dhcp.failover.maintenance -i $INVENTORY
  ansible-playbook dhcp.failover.status -i $INVENTORY
Reports: $DEMO_DIR/status.json, $DEMO_DIR/dhcp_failover.prom, $DEMO_DIR/drill.json
Tear down with: make lab-down
TXT
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
