"""Lab service stand-ins: a Kubernetes API stand-in and an O2IMS-style status endpoint.

This is a STAND-IN, not a Kubernetes API server: no kube-apiserver can be installed on these
machines. It answers the health and discovery endpoints a probe or an operator's first look
uses, over HTTPS with the lab's own CA and a bearer token, as a real API server would:

  /readyz, /livez, /healthz (with ?verbose), /version, /api, /apis

Without the right token it answers 401 with a Kubernetes Status object. The O2IMS mode serves
plain HTTP: GET /o2ims-infrastructureInventory/v1 and /o2ims-infrastructureInventory/api_versions,
and GET /o2lab/pipeline/revision: the revision of ``main`` in the lab pipeline's git repository
(``--pipeline-git``, by default ``pipeline/edge.git`` under the lab folder, the stand-in's working
directory), read on every request, so the lab pipeline's edge check sees what was pushed.

Run with /usr/bin/python3 (stdlib only), one process per listener.
"""
import argparse
import hmac
import json
import os
import socket
import ssl
import subprocess
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer as _ThreadingHTTPServer
from urllib.parse import urlsplit, parse_qs

CHECKS = ["ping", "log", "etcd", "informer-sync", "poststarthook/start-apiserver-admission-initializer"]


def _status(code, reason, message):
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }


class KubeHandler(BaseHTTPRequestHandler):
    """A Kubernetes API server as a client sees it. HTTP/1.1 with keep-alive, as kube-apiserver answers
    (every answer has a Content-Length): a client's next request may come on the same connection. A
    connection idle for ``timeout`` seconds is closed, so kept connections do not hold threads."""
    server_version = "o2lab-kube-standin/1"
    protocol_version = "HTTP/1.1"
    timeout = 30
    token = b""
    site = "edge"

    def log_message(self, fmt, *args):  # keep the lab quiet; errors still go to stderr
        pass

    def _send(self, code, body, ctype="application/json"):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):  # noqa: N802 (http.server API)
        parts = urlsplit(self.path)
        auth = self.headers.get("Authorization", "")
        given = auth[7:].encode() if auth.startswith("Bearer ") else b""
        if not given or not hmac.compare_digest(given, self.token):
            self._send(401, _status(401, "Unauthorized", "Unauthorized"))
            return
        path = parts.path.rstrip("/") or "/"
        if path in ("/readyz", "/livez", "/healthz"):
            if "verbose" in parse_qs(parts.query, keep_blank_values=True):
                lines = ["[+]%s ok" % c for c in CHECKS]
                lines.append("%s check passed" % path.strip("/"))
                self._send(200, ("\n".join(lines) + "\n").encode(), "text/plain; charset=utf-8")
            else:
                self._send(200, b"ok", "text/plain; charset=utf-8")
        elif path == "/version":
            self._send(200, {
                "major": "1", "minor": "30", "gitVersion": "v1.30.0-o2lab-standin",
                "gitCommit": "0000000000000000000000000000000000000000", "gitTreeState": "clean",
                "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.22", "compiler": "gc",
                "platform": "linux/amd64",
            })
        elif path == "/api":
            self._send(200, {"kind": "APIVersions", "versions": ["v1"],
                             "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0",
                                                             "serverAddress": self.server.advertise}]})
        elif path == "/apis":
            self._send(200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
                {"name": "apps", "versions": [{"groupVersion": "apps/v1", "version": "v1"}],
                 "preferredVersion": {"groupVersion": "apps/v1", "version": "v1"}}]})
        else:
            self._send(404, _status(404, "NotFound", "the server could not find the requested resource"))


def pipeline_revision(git_dir):
    """The commit ``main`` points at in ``git_dir``, or None (no repository, no such branch)."""
    if not os.path.isdir(git_dir):
        return None
    res = subprocess.run(["git", "--git-dir", git_dir, "rev-parse", "--verify", "-q", "refs/heads/main"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, universal_newlines=True,
                         timeout=5, check=False)
    return (res.stdout.strip() or None) if res.returncode == 0 else None


class O2imsHandler(BaseHTTPRequestHandler):
    server_version = "o2lab-o2ims-standin/1"
    site = "edge"
    pipeline_git = "pipeline/edge.git"

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):  # noqa: N802
        path = urlsplit(self.path).path.rstrip("/")
        if path == "/o2ims-infrastructureInventory/v1":
            body = {"oCloudId": "o2lab-%s" % self.site, "globalCloudId": "o2lab-%s" % self.site,
                    "name": self.site, "description": "o2edge lab O-Cloud (stand-in)",
                    "serviceUri": "http://%s/o2ims-infrastructureInventory/v1" % self.headers.get("Host", "")}
            code = 200
        elif path == "/o2ims-infrastructureInventory/api_versions":
            body = {"uriPrefix": "/o2ims-infrastructureInventory/v1", "apiVersions": [{"version": "1.0.0"}]}
            code = 200
        elif path == "/o2lab/pipeline/revision":
            revision = pipeline_revision(self.pipeline_git)
            body = {"site": self.site, "ref": "refs/heads/main", "revision": revision}
            code = 200 if revision else 503
        else:
            body = {"status": 404, "title": "Not Found", "detail": path}
            code = 404
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class ThreadingHTTPServer(_ThreadingHTTPServer):
    """socketserver's listen backlog is 5: a burst of probes (a sweep at concurrency 64) overflows it, the
    kernel drops the SYNs and the clients retry a second later (the initial TCP retransmission time),
    which a real Kubernetes API server or O2IMS endpoint (Go's listen backlog: the kernel's somaxconn)
    does not do. The stand-ins listen as those do.

    Each accepted connection also has Nagle's algorithm off (TCP_NODELAY), as Go sets on every TCP
    connection (kube-apiserver, a Go O2IMS server, the lab's Prometheus). With it on, an answer's body
    (written after its headers, each a TLS record of its own) waited for the client's delayed ACK of the
    headers, about 40 ms on Linux: one Kubernetes probe of an idle stand-in took 88 ms (two GETs) where
    the lab's Prometheus answers in 0.9 ms; with it off, 2.4-3.4 ms."""
    request_queue_size = 4096

    def get_request(self):
        conn, addr = super().get_request()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn, addr


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("mode", choices=["kube", "o2ims"])
    p.add_argument("--listen", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--site", default="edge")
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--token-file")
    p.add_argument("--pipeline-git", default=O2imsHandler.pipeline_git,
                   help="the lab pipeline's git repository (o2ims mode; relative to the working directory)")
    a = p.parse_args(argv)
    if a.mode == "kube":
        with open(a.token_file, "rb") as f:
            KubeHandler.token = f.read().strip()
        KubeHandler.site = a.site
        srv = ThreadingHTTPServer((a.listen, a.port), KubeHandler)
        srv.advertise = "%s:%d" % (a.listen, a.port)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.cert, a.key)
        # Handshake in the handler thread, so one slow or failing client cannot stall the others.
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True, do_handshake_on_connect=False)
    else:
        O2imsHandler.site = a.site
        O2imsHandler.pipeline_git = os.path.abspath(a.pipeline_git)
        srv = ThreadingHTTPServer((a.listen, a.port), O2imsHandler)
    srv.daemon_threads = True
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
