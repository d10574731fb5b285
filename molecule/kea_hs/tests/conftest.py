"""Lab of the kea_hs scenario: a hot-standby Kea pair (Kea 2.6, Debian 13, over SSH) and one client."""

import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "shared"))


@pytest.fixture(scope="session")
def lab():
    return SimpleNamespace(
        pair="keah",
        primary="dhcpf-kh-p",
        secondary="dhcpf-kh-s",
        client="dhcpf-kh-c",
        primary_address="10.231.76.2",
        secondary_address="10.231.76.3",
        pool=("10.231.76.100", "10.231.76.149"),
        kea_mode="hot-standby",
        normal_state="hot-standby",
        drill_method="stop",
        kea_version="2.6",
        leases={},
        takeover=[],
    )
