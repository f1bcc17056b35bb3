# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A part of a large report computed in a second process while this one goes on (controller only).

The report runs on the controller, one process per report task, with most of its work in pure
Python. A second core is used for three parts: reading the baseline while the results are read
(``read_both``), the objectives' evaluation and the serialising of the results document for results.json
while the baseline is taken and compared (``document_worker``), half of the sequential comparisons (``_comparisons.sequential_split``)
and two of the six formats (``render_worker``, ``rendered``). ``Worker(func, field)`` forks (POSIX ``os.fork``: the
child has the parent's memory, so nothing is sent to it) and runs ``func()`` in the child, which
writes its value (``marshal``: the plain values of a JSON document, or strings) to an unnamed
temporary file opened before the fork and leaves with ``os._exit`` (no clean-up of the parent's runs
in it). A file, not a pipe: the child writes megabytes at once and ends, where a pipe's 64 KiB would
have it wait for the parent to read each piece (one hand-over each, slow on a loaded machine).
``result()`` waits for the child's end and reads the file:

* the value, when the child gave one;
* a ``ReportError`` when ``func`` raised one (the same message), an ``OSError`` when it raised
  one (the same errno and text), or a ``ReportError`` naming ``field`` and the exception's type
  for anything else (never its text: it might quote a file);
* a ``ReportError`` naming ``field`` when the child died or sent nothing whole (killed, out of
  memory): the report then fails as it would have failed in one process, before anything is
  written (the run directory is still written by this process alone, renamed into place).

A child that has not ended within ``WAIT_S`` (120 s) is killed and its part done in this process.
``close()`` (also on leaving a ``with`` block) kills and reaps a child whose result was not taken,
as when this process fails first. The child only computes and writes its file: the run directory,
the index and the Pushgateway stay with this process. On a loaded machine the two processes share
the same cores, and a report gains little or nothing from its second process. ``O2EDGE_PERF_REPORT_PROCESSES=1`` keeps every report in one
process; small reports always stay in one (a fork and the transfer cost more than they save).
"""

from __future__ import annotations

import marshal
import os
import select
import signal
import tempfile
import time

from ansible_collections.o2edge.perf.plugins.plugin_utils._report_write import ReportError

ENV_PROCESSES = "O2EDGE_PERF_REPORT_PROCESSES"
# A baseline read in a second process from this many bytes of files (10,000 records: about 6.5 MB).
MIN_BYTES = 2 * 1024 * 1024
# Formats rendered in a second process from this many measurement records.
MIN_RECORDS = 2000

# The formats a large report renders in the second process while this one renders the others (measurements.csv,
# junit.xml, metrics.prom and the end of results.json): about half of the rendering each (10,000 records with a
# baseline: 0.21 and 0.22 s of CPU). The document part of results.json is serialised earlier, in a second process
# started once the results are read (``document_worker``), while this one evaluates the objectives.
IN_WORKER = ("report.md", "report.html")

_VALUE, _REPORT_ERROR, _OS_ERROR, _OTHER = 0, 1, 2, 3
# The longest a report waits for its second process before it kills it and does the part itself.
WAIT_S = 120.0


def enabled():
    """True when a report may use a second process (POSIX fork, not switched off)."""
    return hasattr(os, "fork") and os.environ.get(ENV_PROCESSES, "").strip() != "1"


def worth_reading(paths):
    """True when the files ``paths`` are large enough to be read in a second process."""
    if not enabled():
        return False
    total = 0
    for path in paths:
        try:
            total += os.path.getsize(path)
        except OSError:
            return False  # the reading names the problem, in this process
    return total >= MIN_BYTES


def worth_rendering(records):
    """True when a report of ``records`` measurements is large enough to render formats in a second process."""
    return enabled() and records >= MIN_RECORDS


def worth_splitting(jobs, half_at_least):
    """True when ``jobs`` comparisons are split between two processes: enough for each half to pay for
    the fork (``MIN_RECORDS``) and ``half_at_least`` in each half."""
    return enabled() and jobs >= 2 * max(MIN_RECORDS, half_at_least)


def read_both(read_results, baseline_files, read_files, meanwhile, sent_back=None):
    """``(results, baseline or None, early)``: ``read_results()`` in this process, ``read_files(baseline_files,
    "baseline")`` (None without files) after it here, or meanwhile in a second process when the files are large
    (which sends back ``sent_back(baseline)``, the part of it the caller reads, when given); then, while this
    process waits for it, ``early``: ``meanwhile(results)`` or the exception it raised (the caller raises it in
    its turn, after the baseline's own errors); None without a second process."""
    worker = None
    if baseline_files and worth_reading(baseline_files):
        worker = start(lambda: (sent_back or _same)(read_files(baseline_files, "baseline")), "baseline")
    try:
        results = read_results()
        if worker is None:
            return results, read_files(baseline_files, "baseline") if baseline_files else None, None
        try:
            early = meanwhile(results)
        except Exception as exc:  # pylint: disable=broad-except  # raised by the caller in its turn
            early = exc
        return results, worker.result(), early
    finally:
        if worker is not None:
            worker.close()


def _same(value):
    return value


def document_worker(doc, dumps, evaluate=None):
    """A DocumentWorker giving ``dumps(doc)`` (and ``evaluate()``) for a large results document (``MIN_RECORDS``
    measurement records), else None.

    Started as soon as the results are read: the child evaluates the objectives (``evaluate``, the first value
    this process needs, once its comparisons are done) and then serialises the document as it was then, while this
    process takes the baseline and compares (which only read the document)."""
    records = doc.get("records") if isinstance(doc, dict) else None
    if not isinstance(records, list) or not worth_rendering(len(records)):
        return None

    def work():
        outcome = None
        if evaluate is not None:
            try:
                outcome = evaluate()
                marshal.dumps(outcome)  # anything marshal cannot carry: evaluated again in the parent
            except Exception:  # pylint: disable=broad-except  # raised again by the parent's own evaluation
                outcome = None
        try:
            return dumps(doc), None, outcome
        except ReportError as exc:  # raised when results.json is written, as in one process
            return None, str(exc), outcome
    worker = start(work, "results")
    return None if worker is None else DocumentWorker(worker, evaluate)


class DocumentWorker:
    """The two values of ``document_worker``'s child: ``outcome()``, the objectives' outcome (evaluated here by
    ``evaluate`` when the child could not give it: no ``evaluate``, an exception in it, or the child failed), and
    ``result()``, the text of the document (a ReportError when the child failed or the document could not be
    serialised: raised only where results.json is written, as in one process)."""

    def __init__(self, worker, evaluate):
        self.worker = worker
        self.evaluate = evaluate
        self.value = None

    def _take(self):
        if self.value is None:
            try:
                self.value = self.worker.result()
            except ReportError as exc:
                self.value = (None, str(exc), None)
        return self.value

    def outcome(self):
        """The objectives' outcome on the document."""
        outcome = self._take()[2]
        return self.evaluate() if outcome is None else outcome

    def result(self):
        """The document as ``dumps`` gives it."""
        text, error, dummy = self._take()
        if text is None:
            raise ReportError(error)
        return text

    def close(self):
        """``Worker.close``."""
        self.worker.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


def render_worker(model, render, names=IN_WORKER):
    """A Worker rendering the files ``names`` of ``render(model, None)`` for a large report, else None."""
    if not worth_rendering(len(model["measurements"])):
        return None
    return start(lambda: dict((name, text()) for name, text in render(model, None).items() if name in names), "dest")


def rendered(files, worker, names=IN_WORKER):
    """``files`` ({name: text or a callable giving it}) with this process's share rendered and the texts of
    ``names`` taken from ``worker`` (render_worker's); unchanged without a worker."""
    if worker is not None:
        for name, content in list(files.items()):
            if name not in names and callable(content):
                files[name] = content()
        files.update(worker.result())
    return files


def start(func, field):
    """``Worker(func, field)``, or None when its temporary file cannot be made or the fork fails (out of
    processes or memory): the caller then does the work in this process."""
    try:
        return Worker(func, field)
    except OSError:
        return None


class Worker:
    """``func()`` run in a forked child; ``result()`` its value (see the module's docstring). ``start`` is
    the way to make one: it gives None rather than an OSError of the temporary file or the fork."""

    def __init__(self, func, field):
        self.field = field
        self.func = func
        self.file = tempfile.TemporaryFile(prefix="o2edge-perf-report-")
        try:
            pid = os.fork()
        except BaseException:
            self.file.close()
            raise
        if pid == 0:  # pragma: no cover  (the child: measured through the parent's result)
            _child(func, self.file.fileno())
        self.pid = pid

    @property
    def fd(self):
        """The file the child writes to (None once closed)."""
        return None if self.file is None else self.file.fileno()

    def result(self, wait_s=None):
        """The child's value, or the exception it ended with (see the module's docstring).

        A child that has not ended within ``wait_s`` seconds (``WAIT_S``: far beyond what its part
        takes even on a loaded machine, so only a child stuck for good, as a lock held at the fork
        by another thread would leave it) is killed and its part done here instead: a report never
        waits forever on its second process."""
        status = self._wait(WAIT_S if wait_s is None else wait_s)
        if status is None:
            self.close()
            return self.func()
        self.pid = None
        try:
            self.file.seek(0)
            data = self.file.read()
        finally:
            self.file.close()
            self.file = None
        try:
            answer = marshal.loads(data)
        except (EOFError, ValueError, TypeError):
            answer = None
        if not isinstance(answer, tuple) or not answer or status != 0:
            raise ReportError("%s: the worker process of the report failed (%s)" % (self.field, _status(status)))
        if answer[0] == _VALUE:
            return answer[1]
        if answer[0] == _REPORT_ERROR:
            raise ReportError(answer[1])
        if answer[0] == _OS_ERROR:
            raise OSError(answer[1], answer[2])
        raise ReportError("%s: the worker process of the report failed (%s)" % (self.field, answer[1]))

    def _wait(self, wait_s):
        """The child's exit status, or None when it has not ended within ``wait_s`` seconds.

        Woken when the child ends (a pidfd, Linux 5.3 and later), not at the next tick of a polling loop: the
        report waits on its second process at the end, where each millisecond of a tick is a millisecond of the
        report. Without pidfd_open, a poll with a back-off from 1 to 50 ms."""
        end = time.monotonic() + wait_s
        try:
            pidfd = os.pidfd_open(self.pid)
        except (AttributeError, OSError):
            pidfd = None
        pause = 0.001
        try:
            while True:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
                if pid:
                    return status
                left = end - time.monotonic()
                if left <= 0:
                    return None
                if pidfd is not None:
                    select.select([pidfd], [], [], left)
                else:
                    time.sleep(min(pause, left))
                    pause = min(pause * 2, 0.05)
        finally:
            if pidfd is not None:
                os.close(pidfd)

    def close(self):
        """Kill and reap the child when its result was not taken; close (and so remove) the file."""
        if self.file is not None:
            self.file.close()
            self.file = None
        if self.pid is not None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except OSError:
                pass
            os.waitpid(self.pid, 0)
            self.pid = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


def _status(status):
    if os.WIFSIGNALED(status):
        return "killed by signal %d" % os.WTERMSIG(status)
    if os.WIFEXITED(status) and os.WEXITSTATUS(status):
        return "exit status %d" % os.WEXITSTATUS(status)
    return "no result"


def _child(func, write_fd):  # pragma: no cover  (runs in the child)
    """Run ``func``, write its value (or what it raised) to ``write_fd``; never returns."""
    code = 1
    try:
        try:
            payload = marshal.dumps((_VALUE, func()))
        except ReportError as exc:
            payload = marshal.dumps((_REPORT_ERROR, str(exc)))
        except OSError as exc:
            payload = marshal.dumps((_OS_ERROR, exc.errno, exc.strerror or type(exc).__name__))
        except BaseException as exc:  # pylint: disable=broad-except  # named by its type in the parent
            payload = marshal.dumps((_OTHER, type(exc).__name__))
        view = memoryview(payload)
        while view:
            view = view[os.write(write_fd, view):]
        code = 0
    finally:
        os._exit(code)  # pylint: disable=protected-access  # the parent's clean-up is not the child's
