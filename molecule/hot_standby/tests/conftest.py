"""Lab of the hot_standby scenario: a split-256 pair and one client."""

import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "shared"))

from lab_checks import client, inventory, primary, secondary, servers  # noqa: E402

# The shared fixtures, re-exported so that pytest finds them here.
__all__ = ["client", "inventory", "primary", "secondary", "servers"]


@pytest.fixture(scope="session")
def lab():
    return SimpleNamespace(
        primary="dhcpf-hot-p",
        secondary="dhcpf-hot-s",
        client="dhcpf-hot-c",
        peer="dhcp-standby",
        primary_address="10.231.2.2",
        secondary_address="10.231.2.1",
        pool=("10.231.2.120", "10.231.2.200"),
    )
