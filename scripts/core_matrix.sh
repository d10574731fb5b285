#!/usr/bin/env bash
# `make core-matrix`: ansible-test sanity and units with each older ansible-core that
# meta/runtime.yml admits, each from its own venv (build/venvs/core-X.Y, tests/requirements-core-X.Y.txt),
# on the ansible-test tree the Makefile prepared. ansible-core 2.19 is the toolchain's own and
# runs in `make sanity units`. Every version runs even when an earlier one fails; the script ends
# with one line per version and fails if any failed.
#
#   scripts/core_matrix.sh TESTTREE VERSION...
set -uo pipefail
root=$(pwd)
tree=$1
shift
declare -A result
failed=0
for v in "$@"; do
  venv=$root/build/venvs/core-$v
  # ansible-test --venv fetches get-pip.py from a host we cannot reach: give each version's
  # ansible-test our stand-in under the name it looks for (its own pip version).
  pip_version=$(sed -n "s/.*pip='\([0-9.]*\)'.*/\1/p" "$venv"/lib/python3*/site-packages/ansible_test/_internal/python_requirements.py | head -1)
  if [ -z "$pip_version" ]; then
    echo "ansible-core $v: no pip version in ansible-test's python_requirements.py ($venv)"
    exit 1
  fi
  mkdir -p "$HOME/.ansible/test/cache"
  cp scripts/ansible-test-get-pip.py "$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
  for test in sanity units; do
    echo "== ansible-core $("$venv/bin/python" -c 'import ansible.release as r; print(r.__version__)'): ansible-test $test"
    t0=$SECONDS
    (cd "$tree" && "$venv/bin/ansible-test" "$test" --python 3.11 --venv --color no)
    rc=$?
    if [ $rc -eq 0 ]; then result[$v $test]="passed"; else result[$v $test]="FAILED"; failed=1; fi
    result[$v $test]+=" $((SECONDS - t0))s"
  done
done
echo
for v in "$@"; do
  printf 'ansible-core %-5s sanity %-12s units %s\n' "$v" "${result[$v sanity]}" "${result[$v units]}"
done
exit $failed
