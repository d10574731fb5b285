"""Lab of the migrate_pairs scenario: two ISC dhcpd pairs (bare Debian 12) migrated to Kea 2.2 in one run."""

import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "shared"))

# The client scripts of molecule/migrate (one copy in the repository).
FILES = Path(__file__).resolve().parents[2] / "migrate" / "files"


@pytest.fixture(scope="session", autouse=True)
def client_tools():
    for client in ("dhcpf-mp-ca", "dhcpf-mp-cb"):
        for name in ("udhcpc-report.sh", "client-load.sh", "dhcp-release.py"):
            subprocess.run(["docker", "cp", str(FILES / name), f"{client}:/usr/local/sbin/{name}"], check=True)
            subprocess.run(["docker", "exec", client, "chmod", "0755", "/usr/local/sbin/" + name], check=True)
