"""Lab of the default scenario: the seed's load-balancing pair (split 128) and one client."""

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
        primary="dhcpf-default-p",
        secondary="dhcpf-default-s",
        client="dhcpf-default-c",
        peer="dhcp-failover",
        primary_address="192.168.1.2",
        secondary_address="192.168.1.1",
        pool=("192.168.1.120", "192.168.1.200"),
        router="192.168.1.2",
        dns="192.168.1.2",
        domain="domini.cat",
    )
