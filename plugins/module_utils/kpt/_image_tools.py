# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The container CLIs (skopeo, podman, docker, nerdctl, crictl, umoci) run with the caller's environment,
the auth file (written in a private temporary folder, removed afterwards) and explicit TLS flags;
and the fcntl lock the stores and the unpacker share."""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import re
import shutil
import tempfile
import threading

from ansible_collections.o2edge.perf.plugins.module_utils._secrets import redact
from ansible_collections.o2edge.perf.plugins.module_utils.kpt._image_input import pull_ref
from ansible_collections.o2edge.perf.plugins.module_utils.measure._cmd_timer import child_env, run_once


class Tools(object):
    """Runs the CLIs with the caller's environment, the auth file and TLS flags; thread-safe."""

    def __init__(self, environment=None, timeout=300.0, insecure=(), auth=None, executable=None, secrets=()):
        self.env = child_env(environment or {})
        self.timeout = timeout
        self.insecure = set(insecure or ())
        self.auth = auth or {}
        self.executable = executable
        self.secrets = list(secrets)
        self.authdir = None
        self.authfile = None
        self.calls = 0
        self._lock = threading.Lock()

    def which(self, name):
        return shutil.which(name, path=self.env.get("PATH", os.defpath))

    def setup_auth(self, docker_config=False):
        """Write the auth file (containers-auth.json format) into a private temp folder."""
        if not self.auth:
            return
        self.authdir = tempfile.mkdtemp(prefix="o2edge-auth-")
        os.chmod(self.authdir, 0o700)
        auths = {}
        for registry, (user, password) in self.auth.items():
            token = base64.b64encode(("%s:%s" % (user, password)).encode("utf-8")).decode("ascii")
            auths[registry] = {"auth": token}
        name = "config.json" if docker_config else "auth.json"
        self.authfile = os.path.join(self.authdir, name)
        fd = os.open(self.authfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump({"auths": auths}, handle)
        if docker_config:
            self.env["DOCKER_CONFIG"] = self.authdir

    def cleanup(self):
        if self.authdir:
            shutil.rmtree(self.authdir, ignore_errors=True)
            self.authdir = self.authfile = None

    def tls_verify(self, registry):
        return "false" if registry in self.insecure else "true"

    def run(self, argv, timeout=None):
        with self._lock:
            self.calls += 1
        res = run_once(argv, env=self.env, timeout=timeout or self.timeout, capture_stdout=True)
        res["stderr"] = redact(res.get("stderr") or "", self.secrets)
        res["stdout"] = res.get("stdout") or ""
        return res

    def version(self, argv):
        path = self.which(argv[0])
        if not path:
            return None
        res = run_once([path] + argv[1:], env=self.env, timeout=20, capture_stdout=True)
        match = re.search(r"(\d+\.\d+(?:\.\d+)?[\w.+~-]*)", res.get("stdout") or "")
        return match.group(1) if res["ok"] and match else None

    def skopeo_inspect(self, image, ref=None):
        """The raw manifest of ``ref`` (default the image's reference) from the registry: dict(ok, raw, error)."""
        argv = [self.which("skopeo") or "skopeo", "inspect", "--raw", "--tls-verify=" + self.tls_verify(image["registry"])]
        if self.authfile:
            argv += ["--authfile", self.authfile]
        argv.append("docker://" + (ref or pull_ref(image)))
        res = self.run(argv)
        res["raw"] = res["stdout"].encode("utf-8") if res["ok"] else b""
        return res


@contextlib.contextmanager
def flocked(path):
    """An exclusive fcntl lock on ``path`` (created when missing) for the ``with`` block."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
