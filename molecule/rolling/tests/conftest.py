# -*- coding: utf-8 -*-
# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures of the rolling scenario: the figures every test adds to (written to
build/rolling-figures.json and summed up in one line at the end, also when a test failed), and a
repair after a failed test, so that the next test starts from a pair that serves."""

from __future__ import annotations

import hashlib
import json
import os
import pathlib
import shutil
import subprocess
import time

import pytest

from rolling_lab import LOGS, REPO, processes, run_playbook

# The pair's settings once test 1 has applied its change: every later site run keeps them.
GOOD_VARS = ("dhcp_failover_default_lease_time=900",)

FIGURES_PATH = REPO / "build" / "rolling-figures.json"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.rolling_failed = report.failed


def _shown(value):
    return "n/a" if value is None else value


def _summary(figures):
    parts = []
    change = figures.get("config_change") or {}
    if change:
        parts.append("change under load: %s/%s answered, longest gap %ss, restarts %s" % (
            change.get("answered"), change.get("asked"), change.get("longest_gap_s"),
            change.get("restarts", {}).get("verdict", "?")))
    rollback = figures.get("rollback") or {}
    if rollback:
        parts.append("rollback: %s/%s answered, longest gap %ss, rollback %ss, other peer %s" % (
            rollback.get("answered"), rollback.get("asked"), rollback.get("longest_gap_s"),
            _shown(rollback.get("rollback_s")), rollback.get("other_peer")))
    refused = figures.get("refused") or {}
    if refused:
        parts.append("missing interface: %s" % refused.get("verdict"))
    second = figures.get("second_controller") or {}
    if second:
        parts.append("second controller: %s; maintenance %s" % (second.get("verdict"), second.get("maintenance")))
    return "rolling figures: " + "; ".join(parts)


@pytest.fixture(scope="session")
def figures():
    shutil.rmtree(LOGS, ignore_errors=True)
    data = {}
    yield data
    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            check=False).stdout.strip()
    collections = os.environ.get("ANSIBLE_COLLECTIONS_PATH", "")
    files_json = pathlib.Path(collections.split(":")[0], "ansible_collections", "dhcp", "failover", "FILES.json")
    document = {
        "written": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "repo_head": commit,
        "collections_path": collections,
        # Which build of the collection was tested (the tree may hold uncommitted work).
        "collection_files_sha256": hashlib.sha256(files_json.read_bytes()).hexdigest()[:16] if files_json.is_file() else None,
        **data,
    }
    FIGURES_PATH.parent.mkdir(parents=True, exist_ok=True)
    FIGURES_PATH.write_text(json.dumps(document, indent=1) + "\n")
    print("\n" + _summary(data))
    print("(figures written to %s, playbook logs in %s)" % (FIGURES_PATH, LOGS))


@pytest.fixture(autouse=True)
def repair_after_failure(request):
    """After a failed test: site with the pair's good settings, from the first controller, so that
    one failure does not decide the next test's result."""
    yield
    running = processes()
    if getattr(request.node, "rolling_failed", False) or not all(running.values()):
        run = run_playbook("site", *GOOD_VARS, tag="repair-after-%s" % request.node.name)
        print("repair after %s: site exit %d in %ss; dhcpd %s" % (
            request.node.name, run.rc, run.seconds, {host: str(proc) for host, proc in processes().items()}))
