"""Stand-in for the pip bootstrap script ansible-test downloads when it creates a --venv.

ansible-test fetches get-pip.py from a host that is not reachable from the lab machines (only
PyPI and Debian are). This stand-in does the same job with what is here: it installs the pip
bundled with CPython (ensurepip) into the new virtual environment, then lets that pip install
the exact packages ansible-test asked for (pip==VERSION, ...) from PyPI. The Makefile copies it
to ~/.ansible/test/cache/get_pip_<version>.py, the path ansible-test looks at before downloading.
"""

import subprocess
import sys

# get-pip.py's own switches; pip install does not know them.
GET_PIP_ONLY = {"--no-setuptools", "--no-wheel"}

# ensurepip in its own process: in-process it sets PIP_CONFIG_FILE=/dev/null, which would hide
# the machine's pip configuration (CA bundle, mirrors) from the install below.
subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade"])
args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY]
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install"] + args))
