#!/usr/bin/env bash
# `make galaxy`: import the built collection tarball with galaxy-importer, the importer Galaxy and
# Automation Hub run on every upload (ansible-doc on each plugin, ansible-lint at the production
# profile on the artifact, the changelog, meta/execution-environment.yml, the tags Automation Hub
# requires), offline, and fail on any warning or error it reports: a user who uploads the
# tarball sees exactly these lines.
#
#   scripts/galaxy_import.sh IMPORTER_VENV TARBALL WORKDIR
set -uo pipefail
venv=$(realpath "$1") tarball=$(realpath "$2") workdir=$(realpath -m "$3")

rm -rf "$workdir" && mkdir -p "$workdir/home" "$workdir/tmp" || exit 1
cat > "$workdir/galaxy-importer.cfg" <<EOF
[galaxy-importer]
run_ansible_doc = True
run_ansible_lint = True
offline_ansible_lint = True
check_changelog = True
check_required_tags = True
run_ansible_test = False
tmp_root_dir = $workdir/tmp
ansible_local_tmp = $workdir/home/.ansible/tmp
EOF

# The importer's own venv first on PATH (it runs ansible-doc and ansible-lint from there), and a
# HOME of its own, so that nothing installed for this user (~/.ansible/collections, the
# toolchain's ANSIBLE_COLLECTIONS_PATH) can resolve what Galaxy would not.
cd "$workdir" || exit 1
env -u ANSIBLE_COLLECTIONS_PATH -u ANSIBLE_COLLECTIONS_PATHS HOME="$workdir/home" PATH="$venv/bin:$PATH" \
  GALAXY_IMPORTER_CONFIG="$workdir/galaxy-importer.cfg" \
  "$venv/bin/python" -m galaxy_importer.main "$tarball" > importer.log 2>&1
rc=$?
grep -v '^Loading ' importer.log

complaints=$(grep -cE '^(WARNING|ERROR|CRITICAL)|Traceback' importer.log)
if [ "$rc" -ne 0 ] || [ "$complaints" -ne 0 ] || ! grep -q '^Importer processing completed successfully' importer.log; then
  echo "galaxy-importer: FAILED on $(basename "$tarball") (exit $rc, $complaints warning/error lines above; log: $workdir/importer.log)"
  exit 1
fi
echo "galaxy-importer $("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("galaxy-importer"))'):" \
  "$(basename "$tarball") imported with no warning and no error ($(grep -c '^Loading ' importer.log) contents loaded)"
