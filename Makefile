# dhcp.failover — developer and CI entry points. `make test` is what CI runs (.ci/run).
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV        := $(CURDIR)/.venv
BIN         := $(VENV)/bin
VERSION     := $(shell sed -n 's/^version: *//p' galaxy.yml)
TARBALL     := build/dist/dhcp-failover-$(VERSION).tar.gz
# The collection as a Galaxy user gets it: built tarball installed into a private path.
COLLECTIONS := $(CURDIR)/build/collections
# A copy of the source tree at ansible_collections/dhcp/failover, where ansible-test wants it,
# outside this git checkout (inside it, ansible-test would see only git-tracked files of the outer repo).
TESTTREE    := /var/tmp/dhcp-failover-test-$(shell echo $(CURDIR) | sha256sum | cut -c1-8)/ansible_collections/dhcp/failover
REQ_STAMP   := $(VENV)/.installed-$(shell sha256sum tests/requirements-dev.txt | cut -c1-12)
SCENARIOS   ?= $(sort $(notdir $(patsubst %/molecule.yml,%,$(wildcard molecule/*/molecule.yml))))
# Tools with pins of their own, each in its venv build/venvs/NAME from tests/requirements-NAME.txt.
TOOLVENVS   := build/venvs
# Older ansible-core releases that meta/runtime.yml admits; 2.19 is the toolchain's own (.venv).
CORE_MATRIX := 2.16 2.17 2.18
# The scenarios `make molecule-core-2.16` runs with ansible-core 2.16: a pair serving real clients,
# and every day-2 playbook (status, drill, maintenance, partner_down) against a pair.
CORE216_SCENARIOS ?= hot_standby maintenance

export PATH := $(BIN):$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export ANSIBLE_FORCE_COLOR := 0
export PY_COLORS := 0

.PHONY: ansible-test-pip help test demo lab-down bench venv engine lab-image collection lint docs-check sanity units pytest molecule clean \
	antsibull galaxy ee core-matrix molecule-core-2.16

help:
	@echo "make demo      bring up a local lab (two dhcpd servers + a client) and run the collection's playbooks"
	@echo "make test      everything CI checks: lint, ansible-test sanity+units, pytest, all Molecule scenarios"
	@echo "make bench     benchmarks (results in bench/RESULTS.md); a subset: make bench BENCH_ARGS='--only rerun --rerun-trials 3'"
	@echo "make lab-down  remove the demo lab"
	@echo "make galaxy | ee | antsibull | core-matrix | molecule-core-2.16   one stage of make test (see scripts/test.sh)"

test:
	@scripts/test.sh

demo: venv engine lab-image collection
	@DHCP_FAILOVER_LAB_IMAGE=$$(cat build/lab-image.ref) scripts/demo.sh up

lab-down:
	@scripts/demo.sh down

# BENCH_ARGS: options of bench/run.py (--only MEASURE,..., --trials N, --rerun-trials N); a subset or
# fewer trials writes to build/bench/, never to bench/RESULTS.md.
bench: venv engine lab-image collection
	@DHCP_FAILOVER_LAB_IMAGE=$$(cat build/lab-image.ref) $(BIN)/python bench/run.py $(BENCH_ARGS)

venv: $(REQ_STAMP)
$(REQ_STAMP): tests/requirements-dev.txt
	test -x $(BIN)/python || python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r tests/requirements-dev.txt
	rm -f $(VENV)/.installed-* && touch $@

engine:
	@scripts/ensure-docker.sh

# Every image of lab/lab.yml (each rebuilt only when its recipe changes; its reference in its ref
# file, build/lab-image.ref for the full image) and the local apt repository of the bare ones.
lab-image: engine venv
	@mkdir -p build && for kind in $$($(BIN)/python lab/lab.py images); do \
	  ref=$$($(BIN)/python lab/lab.py get images.$$kind.ref); \
	  PYTHON=$(BIN)/python lab/image/build.sh $$kind > $$ref.new && mv $$ref.new $$ref || exit 1; \
	  echo "lab image $$kind: $$(cat $$ref)"; \
	done
	@$(BIN)/python lab/lab.py isolate >/dev/null && echo "lab networks: forwarded traffic out of $$($(BIN)/python lab/lab.py get network.address_space | paste -sd' ') dropped (DOCKER-USER)"
	@PYTHON=$(BIN)/python lab/apt-repo/build.sh >/dev/null && echo "lab apt repository: build/apt-repo ($$($(BIN)/python lab/lab.py get apt_repository.suites | paste -sd' '))"

# Installed into a fresh directory first and swapped in, so a run using the collection is never
# left with half an installation.
collection: venv
	rm -rf build/dist $(COLLECTIONS).new && mkdir -p build/dist $(COLLECTIONS).new
	$(BIN)/ansible-galaxy collection build --force --output-path build/dist .
	$(BIN)/ansible-galaxy collection install --force --offline -p $(COLLECTIONS).new $(TARBALL)
	rm -rf $(COLLECTIONS).old && { test ! -d $(COLLECTIONS) || mv $(COLLECTIONS) $(COLLECTIONS).old; } \
	  && mv $(COLLECTIONS).new $(COLLECTIONS) && rm -rf $(COLLECTIONS).old

lint: venv
	$(BIN)/ansible-lint --offline
	@$(MAKE) --no-print-directory docs-check

# The role README's variable reference and defaults/main.yml are generated from the argument spec:
# fails (with the diff) when they are stale. Regenerate with .venv/bin/python scripts/role_docs.py.
docs-check: venv
	$(BIN)/python scripts/role_docs.py --check

# Galaxy and Automation Hub: their importer on the built tarball, offline; any warning fails.
galaxy: collection $(TOOLVENVS)/importer/.installed
	scripts/galaxy_import.sh $(TOOLVENVS)/importer $(TARBALL) build/galaxy-importer

# Execution environments: ansible-builder introspect on the installed collection, and create on
# the example definition; fails unless both list what meta/execution-environment.yml declares.
# (Building the image itself needs a container registry for the base image: not done here.)
ee: collection $(TOOLVENVS)/builder/.installed
	$(TOOLVENVS)/builder/bin/python scripts/check_execution_environment.py --collections $(COLLECTIONS) \
	  --tarball $(TARBALL) --definition examples/execution-environment/execution-environment.yml \
	  --context build/ee/context --ansible-galaxy $(BIN)/ansible-galaxy

# The docs site's linter on the installed collection's plugin and role docs, and the changelog's.
antsibull: collection $(TOOLVENVS)/docs/.installed
	cd $(COLLECTIONS)/ansible_collections/dhcp/failover && PATH=$(CURDIR)/$(TOOLVENVS)/docs/bin:$$PATH \
	  antsibull-docs lint-collection-docs --plugin-docs --validate-collection-refs dependent .
	$(BIN)/antsibull-changelog lint

$(TOOLVENVS)/%/.installed: tests/requirements-%.txt
	rm -rf $(@D) && python3 -m venv $(@D)
	$(@D)/bin/pip install --quiet --disable-pip-version-check -r $<
	touch $@

$(TESTTREE): FORCE
	rm -rf $(TESTTREE) && mkdir -p $(TESTTREE)
	git ls-files -co --exclude-standard -z | tar --null -T - -cf - | tar -xf - -C $(TESTTREE)
FORCE:

# ansible-test --venv downloads a pip bootstrap script from a host we cannot reach: give it ours.
ansible-test-pip: venv
	@v=$$(sed -n "s/.*pip='\\([0-9.]*\\)'.*/\\1/p" $(VENV)/lib/python3*/site-packages/ansible_test/_internal/python_requirements.py | head -1); \
	  test -n "$$v" && mkdir -p $(HOME)/.ansible/test/cache && \
	  cp scripts/ansible-test-get-pip.py $(HOME)/.ansible/test/cache/get_pip_$${v//./_}.py

sanity: venv ansible-test-pip $(TESTTREE)
	cd $(TESTTREE) && $(BIN)/ansible-test sanity --python 3.11 --venv --color no

units: venv ansible-test-pip $(TESTTREE)
	cd $(TESTTREE) && $(BIN)/ansible-test units --python 3.11 --venv --color no

# ansible-test sanity and units with ansible-core 2.16, 2.17 and 2.18, each from its own venv.
core-matrix: $(foreach v,$(CORE_MATRIX),$(TOOLVENVS)/core-$(v)/.installed) $(TESTTREE)
	scripts/core_matrix.sh $(TESTTREE) $(CORE_MATRIX)

# Unit tests, and tests that need the lab image (real dhcpd), against the installed collection:
# ANSIBLE_COLLECTIONS_PATH (exported above: build/collections) is the one path they take it from
# (tests/conftest.py). DHCP_FAILOVER_LAB_REQUIRED=1: a missing lab (Docker, image, collection)
# fails the lab tests here instead of skipping them (tests/lab/conftest.py).
pytest: venv
	DHCP_FAILOVER_LAB_REQUIRED=1 DHCP_FAILOVER_LAB_IMAGE=$${DHCP_FAILOVER_LAB_IMAGE:-$$(cat build/lab-image.ref)} \
	  $(BIN)/python -m pytest -p no:cacheprovider -q tests/unit tests/lab

molecule: venv
	set -e; for s in $(SCENARIOS); do \
	  echo "== molecule test -s $$s"; \
	  DHCP_FAILOVER_LAB_IMAGE=$${DHCP_FAILOVER_LAB_IMAGE:-$$(cat build/lab-image.ref)} $(BIN)/molecule test -s $$s; \
	done

# Molecule with ansible-core 2.16 as the controller (molecule 26 supports 2.16.19): the tarball
# installed by 2.16's ansible-galaxy, converged with 2.16's ansible-playbook, verified by testinfra
# through 2.16. Fails if ansible-core says the collection does not support it.
molecule-core-2.16: collection $(TOOLVENVS)/molecule-core-2.16/.installed
	rm -rf build/collections-core-2.16
	ANSIBLE_COLLECTIONS_PATH=$(CURDIR)/build/collections-core-2.16 $(TOOLVENVS)/molecule-core-2.16/bin/ansible-galaxy \
	  collection install --offline --force -p build/collections-core-2.16 $(TARBALL)
	set -o pipefail; export PATH=$(CURDIR)/$(TOOLVENVS)/molecule-core-2.16/bin:$$PATH \
	  ANSIBLE_COLLECTIONS_PATH=$(CURDIR)/build/collections-core-2.16 \
	  DHCP_FAILOVER_LAB_IMAGE=$${DHCP_FAILOVER_LAB_IMAGE:-$$(cat build/lab-image.ref)}; \
	  echo "controller: $$(command -v ansible-playbook): $$(ansible-playbook --version | head -1)"; \
	  for s in $(CORE216_SCENARIOS); do echo "== molecule test -s $$s (ansible-core 2.16)"; molecule test -s $$s || exit 1; done \
	  2>&1 | tee build/molecule-core-2.16.log
	@! grep -n "does not support Ansible version" build/molecule-core-2.16.log

clean:
	rm -rf build
