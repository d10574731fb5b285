"""Lab of the kea_lb scenario: a load-balancing Kea pair (Kea 2.2, Debian 12) and one client."""

import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "shared"))


@pytest.fixture(scope="session")
def lab():
    return SimpleNamespace(
        pair="keal",
        primary="dhcpf-kl-p",
        secondary="dhcpf-kl-s",
        client="dhcpf-kl-c",
        primary_address="10.231.75.2",
        secondary_address="10.231.75.3",
        pool=("10.231.75.100", "10.231.75.179"),
        # The collection splits the pool: the first half is the primary's (HA class of its name).
        primary_half=("10.231.75.100", "10.231.75.139"),
        secondary_half=("10.231.75.140", "10.231.75.179"),
        kea_mode="load-balancing",
        normal_state="load-balancing",
        drill_method="kill",
        kea_version="2.2",
        leases={},
        takeover=[],
    )
