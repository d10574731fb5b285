#!/usr/bin/env bash
# `make test`: set up what is missing, then run every stage CI checks, stopping at the first
# failure, and end with one summary line per stage (passed/failed, seconds).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
# Cheap static checks first: lint, the docs and changelog linters, Galaxy's importer and the
# execution-environment check take about two minutes together; then ansible-test with the
# toolchain's ansible-core (2.19) and with 2.16-2.18, then the tests that need the lab.
stages=(setup lint antsibull galaxy ee sanity units core-matrix pytest molecule molecule-core-2.16)
declare -A result seconds
failed=""
run_stage() {
  local name=$1
  local t0=$SECONDS
  echo "===== stage $name ====="
  case $name in
    setup) make --no-print-directory venv engine lab-image collection ;;
    *) make --no-print-directory "$name" ;;
  esac
  local rc=$?
  seconds[$name]=$((SECONDS - t0))
  if [ $rc -eq 0 ]; then result[$name]=passed; else result[$name]=failed; failed=$name; fi
  return $rc
}
for s in "${stages[@]}"; do
  if [ -n "$failed" ]; then result[$s]="not run"; seconds[$s]=0; continue; fi
  if [ "$s" != setup ] && [ -z "${DHCP_FAILOVER_LAB_IMAGE:-}" ] && [ -f build/lab-image.ref ]; then
    DHCP_FAILOVER_LAB_IMAGE=$(cat build/lab-image.ref)
    export DHCP_FAILOVER_LAB_IMAGE
  fi
  run_stage "$s"
done
echo
echo "===== summary ====="
passed=0; nfailed=0; total=0
for s in "${stages[@]}"; do
  printf '%-18s %-8s %5ss\n' "$s" "${result[$s]}" "${seconds[$s]}"
  total=$((total + ${seconds[$s]}))
  [ "${result[$s]}" = passed ] && passed=$((passed + 1))
  [ "${result[$s]}" = failed ] && nfailed=$((nfailed + 1))
done
printf '%-18s %-8s %5ss\n' total "" "$total"
echo "stages: $passed passed, $nfailed failed"
[ -z "$failed" ]
