# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Call something that must not block on a FIFO, without letting a regression hang the test run."""
from __future__ import annotations

import os
import threading


def call_without_hanging(fifos, func, *args, **kwargs):
    """``func(*args, **kwargs)``'s result, or its exception re-raised; AssertionError when it blocks.

    A call still running after 10 s is taken to be stuck in ``open()`` of one of ``fifos``: a
    writer is opened on each (which releases a reader blocked in ``open``) and the test fails.
    """
    box = {}

    def run():
        try:
            box["value"] = func(*args, **kwargs)
        except BaseException as exc:  # handed back to the test
            box["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(10)
    if thread.is_alive():
        for fifo in fifos:
            try:
                os.close(os.open(str(fifo), os.O_WRONLY | os.O_NONBLOCK))
            except OSError:
                pass
        thread.join(10)
        raise AssertionError("blocked on a FIFO (%s)" % ", ".join(str(f) for f in fifos))
    if "error" in box:
        raise box["error"]
    return box.get("value")
