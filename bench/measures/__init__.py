# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One module per measure of bench/run.py: NAME (the key in the results JSON), MAIN_PAIR (runs on
the main pair of bench/benchlab.py, deployed once) and run(ctx) -> the measure's results."""
