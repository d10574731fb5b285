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

export PATH := $(BIN):$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export ANSIBLE_FORCE_COLOR := 0
export PY_COLORS := 0

.PHONY: ansible-test-pip help test demo lab-down bench venv engine lab-image collection lint docs-check sanity units pytest molecule clean

help:
	@echo "make demo      bring up a local lab (two dhcpd servers + a client) and run the collection's playbooks"
	@echo "make test      everything CI checks: lint, ansible-test sanity+units, pytest, all Molecule scenarios"
	@echo "make bench     benchmarks (results in bench/RESULTS.md)"
	@echo "make lab-down  remove the demo lab"

test:
	@scripts/test.sh

demo: venv engine lab-image collection
	@DHCP_FAILOVER_LAB_IMAGE=$$(cat build/lab-image.ref) scripts/demo.sh up

lab-down:
	@scripts/demo.sh down

bench: venv engine lab-image collection
	@DHCP_FAILOVER_LAB_IMAGE=$$(cat build/lab-image.ref) $(BIN)/python bench/run.py

venv: $(REQ_STAMP)
$(REQ_STAMP): tests/requirements-dev.txt
	test -x $(BIN)/python || python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r tests/requirements-dev.txt
	rm -f $(VENV)/.installed-* && touch $@

engine:
	@scripts/ensure-docker.sh

lab-image: engine
	@mkdir -p build && lab/image/build.sh > build/lab-image.ref && echo "lab image: $$(cat build/lab-image.ref)"

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

# Tests that need the lab image (real dhcpd) run against the installed collection.
pytest: venv
	PYTHONPATH=$(COLLECTIONS) DHCP_FAILOVER_LAB_IMAGE=$${DHCP_FAILOVER_LAB_IMAGE:-$$(cat build/lab-image.ref)} \
	  $(BIN)/python -m pytest -p no:cacheprovider -q tests/unit tests/lab

molecule: venv
	set -e; for s in $(SCENARIOS); do \
	  echo "== molecule test -s $$s"; \
	  DHCP_FAILOVER_LAB_IMAGE=$${DHCP_FAILOVER_LAB_IMAGE:-$$(cat build/lab-image.ref)} $(BIN)/molecule test -s $$s; \
	done

clean:
	rm -rf build
