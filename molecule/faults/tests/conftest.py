"""Lab of the faults scenario: a load-balancing pair, a dhclient client and a udhcpc client."""

import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "shared"))

from lab_checks import client, inventory, lab_host, omapi_key, primary, secondary, servers  # noqa: E402

# The shared fixtures, re-exported so that pytest finds them here.
__all__ = ["client", "inventory", "primary", "secondary", "servers"]


@pytest.fixture(scope="session")
def lab():
    return SimpleNamespace(
        primary="dhcpf-faults-p",
        secondary="dhcpf-faults-s",
        client="dhcpf-faults-c",
        client2="dhcpf-faults-c2",
        peer="dhcp-faults",
        primary_address="10.231.3.2",
        secondary_address="10.231.3.1",
        pool=("10.231.3.120", "10.231.3.200"),
        router="10.231.3.254",
        mclt=30,
    )


@pytest.fixture(scope="session")
def client2(lab, inventory):
    """The second client, which uses busybox udhcpc."""
    return lab_host(lab.client2, inventory)


@pytest.fixture(scope="session")
def omapi(primary):
    return omapi_key(primary)
