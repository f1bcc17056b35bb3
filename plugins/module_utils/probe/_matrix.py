# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The site x service matrix's two rules, shared by the probe (``_probe``) and the report (``_report``).

Standard library only, no network code: the report imports this without the probes' sockets, TLS and
HTTP clients. Python 3.9+.
"""

from __future__ import annotations


def site_state(states):
    """``up`` when every state of a site is up, ``partial`` when some are, else ``down`` (no state: down)."""
    ups = sum(1 for s in states if s == "up")
    if states and ups == len(states):
        return "up"
    return "partial" if ups else "down"


def service_columns(results):
    """The services of ``results`` in the matrix's column order: ssh first, then by name."""
    names = []
    for r in results:
        if r["service"] not in names:
            names.append(r["service"])
    return sorted(names, key=lambda n: (n != "ssh", n))
