# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Writing a report: the run directory, the index of past runs and the Pushgateway PUT.

``results_json`` gives the text of results.json; ``write_run`` writes every file of a report into a new run directory, built in a temporary
directory beside it and renamed into place; ``update_index`` rewrites the index of past runs
(index.json, index.md, index.html, each atomically, under a lock); ``push`` sends the metrics to
a Prometheus Pushgateway and names a failure instead of raising it.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import re
import shutil
import tempfile
from urllib.error import HTTPError, URLError
from urllib.parse import quote, urlsplit, urlunsplit


from ansible_collections.o2edge.perf.plugins.plugin_utils import _report_formats, _report_html
from ansible_collections.o2edge.perf.plugins.module_utils import _safe_read, _yaml_bounds
from ansible_collections.o2edge.perf.plugins.module_utils._atomic import atomic_write
from ansible_collections.o2edge.perf.plugins.plugin_utils._mask import display_url, mask_text
from ansible_collections.o2edge.perf.plugins.module_utils._secrets import redact

# The index of past runs and a run's results.json read back from dest: at most this many bytes.
MAX_INDEX_BYTES = 64 * 1024 * 1024
MAX_INDEX_DEPTH = 64
_MAX_RESULTS_BYTES = 256 * 1024 * 1024  # _results.MAX_BYTES

INDEX_SCHEMA = "o2edge.perf/report-index/v1"


class ReportError(Exception):
    """Bad input: the message names the field (``results``, ``baseline``, ``slo_file`` ...)."""


def dumps_results(value):
    """``value`` as results.json writes it (compact); a ReportError when a figure is not a finite number."""
    try:
        return json.dumps(value, separators=(",", ":"), check_circular=False, allow_nan=False)
    except ValueError:
        raise ReportError("results: a figure computed from the results is not a finite number; nothing was written")


def results_json(doc, section, doc_worker):
    """The text of results.json: ``doc`` with the ``report`` section added as its last key.

    With ``doc_worker`` (``_report_parallel.document_worker``, started once ``doc`` was read), the document
    part comes from the second process and the section is joined to it: the same bytes as ``dumps_results`` of the
    merged document, since ``doc`` is a non-empty mapping without a ``report`` key (else no worker is started)."""
    if doc_worker is None:
        return dumps_results(dict(doc, report=section)) + "\n"
    return "%s,\"report\":%s}\n" % (doc_worker.result()[:-1], dumps_results(section))


def _text(value):
    return "" if value is None else str(value)


# --------------------------------------------------------------------------- writing

def run_dir_name(run_id):
    """A directory name from a run id read from a file: no separator, no leading dot, never empty."""
    name = re.sub(r"[^A-Za-z0-9._-]", "_", _text(run_id)).lstrip(".")[:120]
    return name or "run"


def _write(path, content):
    with open(path, "w", encoding="utf-8", errors="replace", newline="") as handle:
        handle.write(content)


def write_run(dest, name, files):
    """Write ``files`` ({file name: text}) into a new directory ``dest/<name>[-N]``; return its path.

    The directory is filled as a temporary directory beside its final place and renamed into
    place: a writer that fails leaves nothing but the removed temporary directory.
    """
    if not os.path.isdir(dest):
        try:
            os.makedirs(dest)
        except OSError as exc:
            raise ReportError("dest: cannot create %s: %s" % (dest, exc.strerror or exc))
    try:
        tmp = tempfile.mkdtemp(prefix=".%s.tmp-" % name, dir=dest)
    except OSError as exc:
        raise ReportError("dest: cannot write in %s: %s" % (dest, exc.strerror or exc))
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)
        for file_name, content in files.items():
            _write(os.path.join(tmp, file_name), content() if callable(content) else content)
        for attempt in range(1, 1000):
            final = os.path.join(dest, name if attempt == 1 else "%s-%d" % (name, attempt))
            if os.path.lexists(final):
                continue
            try:
                os.rename(tmp, final)
                return final
            except OSError:
                if not os.path.lexists(final):
                    raise
        raise ReportError("dest: no free run directory name for %s in %s" % (name, dest))
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_atomic(path, content):
    """Replace ``path`` with ``content`` (text, UTF-8) through ``_atomic.atomic_write`` (fsynced);
    the file gets the mode the umask allows, as a plain ``open`` would give it."""
    umask = os.umask(0)
    os.umask(umask)
    atomic_write(path, content.encode("utf-8", "replace"), 0o666 & ~umask)


def read_index(dest, skip=None):
    """The runs listed in ``dest/index.json``; rebuilt from the run directories when it is absent or unreadable.

    ``skip``: a run directory whose entry the caller replaces (its results.json is not read).
    """
    runs = None
    try:
        data = _yaml_bounds.load_json(_safe_read.read_text(os.path.join(dest, "index.json"), MAX_INDEX_BYTES, "index"),
                                      MAX_INDEX_DEPTH)
        if isinstance(data, dict) and isinstance(data.get("runs"), list):
            runs = [r for r in data["runs"] if isinstance(r, dict) and isinstance(r.get("dir"), str)]
    except (OSError, ValueError):
        runs = None
    if runs is None:
        runs = []
        for name in sorted(os.listdir(dest)):
            path = os.path.join(dest, name, "results.json")
            if name.startswith(".") or name == skip or not os.path.isfile(path):
                continue
            try:
                entry = _yaml_bounds.load_json(_safe_read.read_text(path, _MAX_RESULTS_BYTES, "results file"),
                                               MAX_INDEX_DEPTH)["report"]["index_entry"]
            except (OSError, ValueError, KeyError, TypeError):
                continue
            if isinstance(entry, dict):
                runs.append(dict(entry, dir=name))
    return [r for r in runs if r["dir"] and "/" not in r["dir"] and os.path.isdir(os.path.join(dest, r["dir"]))]


def update_index(dest, entry):
    """Add ``entry`` to the index of past runs and rewrite index.json, index.md and index.html, each atomically."""
    lock_path = os.path.join(dest, ".index.lock")
    with open(lock_path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        runs = [r for r in read_index(dest, skip=entry["dir"]) if r["dir"] != entry["dir"]]
        runs.append(entry)
        runs.sort(key=lambda r: (_text(r.get("generated_at")), r["dir"]), reverse=True)
        index = {"schema": INDEX_SCHEMA, "runs": runs}
        write_atomic(os.path.join(dest, "index.json"), json.dumps(index, indent=1, sort_keys=True, allow_nan=False) + "\n")
        write_atomic(os.path.join(dest, "index.md"), _report_formats.index_markdown(runs))
        write_atomic(os.path.join(dest, "index.html"), _report_html.index_html(runs))
    return runs


# --------------------------------------------------------------------------- Pushgateway

def push_url(url, instance):
    """``<url>/metrics/job/o2edge_perf/instance/<instance>`` (base64 form for a value with a slash).

    The path is appended to the URL's path; its query string is kept after it (built with
    ``urllib.parse``). A URL with userinfo (``user:password@``) is refused. Errors show the URL as
    ``display_url`` does: never its userinfo, query or fragment.
    """
    try:
        parts = urlsplit(_text(url))
        host = parts.hostname
        parts.port  # pylint: disable=pointless-statement  # raises ValueError for a bad port
    except ValueError:
        raise ReportError("pushgateway_url: %s is not a valid URL" % display_url(url))
    if parts.scheme not in ("http", "https") or not host:
        raise ReportError("pushgateway_url: %s is not an http(s) URL" % display_url(url))
    if "@" in parts.netloc:
        raise ReportError("pushgateway_url: %s must not embed credentials (user:password@)" % display_url(url))
    instance = _text(instance) or "unknown"
    if "/" in instance:
        segment = "instance@base64/" + base64.urlsafe_b64encode(instance.encode("utf-8")).decode("ascii")
    else:
        segment = "instance/" + quote(instance, safe="")
    path = parts.path.rstrip("/") + "/metrics/job/o2edge_perf/" + segment
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


def push(url, instance, content, timeout=10.0):
    """PUT the metrics to a Pushgateway; {url, ok, status, error} (a failure is named, never raised)."""
    # imported here: only a report sent to a Pushgateway needs ansible's HTTP client (and its imports)
    from ansible.module_utils.urls import ConnectionError as UrlsConnectionError, open_url  # pylint: disable=import-outside-toplevel
    target = push_url(url, instance)
    parts = urlsplit(target)
    out = {"url": display_url(target), "ok": False, "status": None, "error": None}
    try:
        resp = open_url(target, data=content.encode("utf-8"), method="PUT", timeout=timeout, follow_redirects="none",
                        headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})
        with resp:
            out.update(ok=200 <= resp.status < 300, status=resp.status)
    except HTTPError as exc:
        body = exc.read(300).decode("utf-8", "replace").strip()
        out.update(status=exc.code, error="HTTP %s %s%s" % (exc.code, exc.reason, (": " + body) if body else ""))
    except (URLError, OSError, ValueError, UrlsConnectionError) as exc:
        reason = getattr(exc, "reason", None) or exc
        out.update(error="%s: %s" % (type(reason).__name__, reason))
    if not out["ok"] and not out["error"]:
        out["error"] = "HTTP %s" % out["status"]
    if out["error"]:  # an error text may quote the URL: never its query
        error = out["error"].replace(target, out["url"])
        out["error"] = mask_text(redact(error, [parts.query, urlsplit(_text(url)).query, urlsplit(_text(url)).fragment]))
    return out
