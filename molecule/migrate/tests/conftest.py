"""Lab of the migrate scenario: an ISC dhcpd pair (bare Debian 12) migrated to Kea 2.2, one client."""

import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "shared"))

FILES = Path(__file__).resolve().parents[1] / "files"


@pytest.fixture(scope="session", autouse=True)
def client_tools():
    """The client's request scripts (from molecule/migrate/files, as molecule/rolling has them)."""
    for name in ("udhcpc-report.sh", "client-load.sh", "dhcp-release.py"):
        subprocess.run(["docker", "cp", str(FILES / name), "dhcpf-mc-c:/usr/local/sbin/" + name], check=True)
        subprocess.run(["docker", "exec", "dhcpf-mc-c", "chmod", "0755", "/usr/local/sbin/" + name], check=True)
