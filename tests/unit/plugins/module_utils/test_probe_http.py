# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The HTTP probe kinds (http, prometheus, kubernetes) against loopback HTTP and TLS servers.

The Kubernetes stand-in lives in tests/unit/probe_servers.py: a verifying TLS server whose CA
is made here with openssl, a bearer token, a 200 readyz that still lists a failing check, and
routes that echo the token back in every place a detail is built from.
"""
from __future__ import annotations

import base64
import json
import os
import ssl

import pytest

from ansible_collections.o2edge.perf.plugins.module_utils.probe import _connect as conn
from ansible_collections.o2edge.perf.plugins.module_utils.probe import _probe as pr
from ansible_collections.o2edge.perf.plugins.module_utils.probe import _probe_http as ph
from tests.unit.probe_servers import TOKEN, closed_port, write_kubeconfig


def run(target, timeout=3.0, **ctx):
    return pr.probe_one(target, connect_timeout=timeout, timeout=timeout, ctx=pr.default_context(**ctx))


# --------------------------------------------------------------------------- http / prometheus

def test_http_expected_status(http_server):
    base = "http://127.0.0.1:%d" % http_server
    ok = run({"site": "s", "service": "o2ims", "kind": "http", "url": base + "/o2ims"})
    assert (ok["state"], ok["service"], ok["info"]["status"]) == ("up", "o2ims", 200)
    assert (ok["address"], ok["port"]) == ("127.0.0.1", http_server)  # from the url
    missing = run({"site": "s", "kind": "http", "url": base + "/nothing"})
    assert missing["state"] == "http_status" and "404" in missing["detail"]
    assert missing["info"]["status"] == 404
    expected_404 = run({"site": "s", "kind": "http", "url": base + "/nothing", "expect_status": [404]})
    assert expected_404["state"] == "up"
    forbidden = run({"site": "s", "kind": "http", "url": base + "/secret"})
    assert forbidden["state"] == "auth"


def test_http_refused():
    r = run({"site": "s", "kind": "http", "url": "http://127.0.0.1:%d/x" % closed_port()})
    assert r["state"] == "refused"


def test_http_garbage_is_protocol(line_server):
    srv = line_server(b"SSH-2.0-not-http\r\n")
    r = run({"site": "s", "kind": "http", "url": "http://127.0.0.1:%d/" % srv.port}, timeout=1.0)
    assert r["state"] == "protocol"


def test_bad_url_is_a_named_protocol_error():
    r = run({"site": "s", "kind": "http", "url": "ftp://127.0.0.1/x"})
    assert r["state"] == "protocol" and r["detail"].startswith("url must use http or https")


def test_prometheus_targets(http_server):
    r = run({"site": "s", "kind": "prometheus", "address": "127.0.0.1", "port": http_server})
    assert r["state"] == "up", r
    assert (r["info"]["targets_up"], r["info"]["targets_down"], r["info"]["down"]) == (2, 1, ["node/b:9100"])
    notready = run({"site": "s", "kind": "prometheus", "url": "http://127.0.0.1:%d/notready" % http_server})
    assert notready["state"] == "http_status" and "503" in notready["detail"], notready
    garbage = run({"site": "s", "kind": "prometheus", "url": "http://127.0.0.1:%d/garbage" % http_server})
    assert garbage["state"] == "protocol"


# --------------------------------------------------------------------------- kubernetes (TLS)

def kube(port, pki, **extra):
    t = {"site": "edge1", "kind": "kubernetes", "address": "127.0.0.1", "port": port,
         "ca_file": os.path.join(pki, "ca.crt"), "token": TOKEN}
    t.update(extra)
    return t


def test_kubernetes_up(https_server, pki):
    r = run(kube(https_server, pki))
    assert r["state"] == "up", r
    assert r["info"]["version"] == "v1.30.1" and r["info"]["checks_ok"] == 2 and r["info"]["failing_checks"] == []
    assert r["info"]["livez"] == 200


def test_kubernetes_token_file(https_server, pki, tmp_path):
    tf = tmp_path / "token"
    tf.write_text(TOKEN + "\n")
    assert run(kube(https_server, pki, token=None, token_file=str(tf)))["state"] == "up"


def test_kubernetes_wrong_ca_is_tls(https_server, pki):
    r = run(kube(https_server, pki, ca_file=os.path.join(pki, "wrong-ca.crt")))
    assert r["state"] == "tls" and "certificate verification failed" in r["detail"]


def test_kubernetes_wrong_name_is_tls(https_server, pki):
    r = run(kube(https_server, pki, tls_server_name="api.example.net"))
    assert r["state"] == "tls"


def test_kubernetes_wrong_token_is_auth_and_never_shown(https_server, pki):
    r = run(kube(https_server, pki, token="wrong-token-xyz"))
    assert r["state"] == "auth" and "401" in r["detail"]
    assert r["connect_ms"] is not None
    assert "wrong-token-xyz" not in json.dumps(r)
    ok = run(kube(https_server, pki))
    assert TOKEN not in json.dumps(ok)


def test_kubernetes_failing_checks(https_server, pki):
    r = run(kube(https_server, pki, url="https://127.0.0.1:%d/sub" % https_server))
    assert r["state"] == "http_status"
    assert r["info"]["failing_checks"] == ["etcd"] and "etcd" in r["detail"]


def test_kubernetes_readyz_200_with_a_failing_check_is_not_up(https_server, pki):
    """An apiserver can answer 200 and still list [-] checks: that is a failure, named."""
    r = run(kube(https_server, pki, url="https://127.0.0.1:%d/fail200" % https_server))
    assert (r["ok"], r["state"]) == (False, "http_status"), r
    assert "GET /readyz: 200" in r["detail"] and "failing checks: etcd" in r["detail"]
    assert r["info"]["failing_checks"] == ["etcd"] and r["info"]["checks_ok"] == 2


def test_kubernetes_plain_http_port_is_tls(http_server, pki):
    r = run(kube(http_server, pki))
    assert r["state"] == "tls"


def test_kubernetes_over_http_url_is_refused_as_protocol(http_server, pki):
    r = run(kube(http_server, pki, url="http://127.0.0.1:%d" % http_server))
    assert r["state"] == "protocol" and "must be reached over https" in r["detail"]


# --------------------------------------------------------------------------- kubeconfig

def test_kubernetes_kubeconfig_contexts(https_server, pki, tmp_path):
    with open(os.path.join(pki, "ca.crt"), "rb") as f:
        ca_data = base64.b64encode(f.read()).decode()
    kc = {"apiVersion": "v1", "kind": "Config", "current-context": "other",
          "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:%d" % https_server,
                                                 "certificate-authority-data": ca_data}}],
          "users": [{"name": "u", "user": {"token": TOKEN}}, {"name": "bad", "user": {"token": "nope"}}],
          "contexts": [{"name": "ro", "context": {"cluster": "c", "user": "u"}},
                       {"name": "other", "context": {"cluster": "c", "user": "bad"}}]}
    path = tmp_path / "kubeconfig.json"
    path.write_text(json.dumps(kc))
    t = {"site": "e", "kind": "kubernetes", "address": "192.0.2.1", "port": 6443, "kubeconfig": str(path)}
    up = run(dict(t, context="ro"))
    assert up["state"] == "up"
    assert (up["address"], up["port"]) == ("127.0.0.1", https_server)  # the kubeconfig's server, not address
    assert run(t)["state"] == "auth"
    assert run(dict(t, context="missing"))["state"] == "protocol"


def test_kubernetes_kubeconfig_only_no_address(https_server, pki, tmp_path):
    """A target with only a kubeconfig (no address, no port) probes the kubeconfig's server."""
    kc = write_kubeconfig(tmp_path / "config", "https://127.0.0.1:%d" % https_server,
                          os.path.join(pki, "ca.crt"), {"token": TOKEN})
    r = run({"site": "e", "kind": "kubernetes", "kubeconfig": kc})
    assert r["state"] == "up", r
    assert (r["address"], r["port"], r["info"]["version"]) == ("127.0.0.1", https_server, "v1.30.1")
    assert TOKEN not in json.dumps(r)


def test_kubernetes_kubeconfig_token_file_relative(https_server, pki, tmp_path):
    (tmp_path / "tok").write_text(TOKEN + "\n")
    kc = write_kubeconfig(tmp_path / "config", "https://127.0.0.1:%d" % https_server,
                          os.path.join(pki, "ca.crt"), {"tokenFile": "tok"})
    assert run({"site": "e", "kind": "kubernetes", "kubeconfig": kc})["state"] == "up"


def test_kubernetes_kubeconfig_exec_is_auth(tmp_path, pki):
    kc = write_kubeconfig(tmp_path / "config", "https://127.0.0.1:1", os.path.join(pki, "ca.crt"),
                          {"exec": "{command: get-token}"})
    r = run({"site": "e", "kind": "kubernetes", "kubeconfig": kc})
    assert r["state"] == "auth" and "exec and auth-provider" in r["detail"]
    assert r["address"] is None  # the endpoint was never known


def test_kubeconfig_yaml_error_never_quotes_the_document(tmp_path):
    path = tmp_path / "config"
    path.write_text("users:\n- name: u\n  user: {token: %s: x}\n" % TOKEN)
    r = run({"site": "e", "kind": "kubernetes", "kubeconfig": str(path)})
    assert r["state"] == "protocol" and "is not valid YAML" in r["detail"] and "line 3" in r["detail"]
    assert TOKEN not in json.dumps(r)


# --------------------------------------------------------------------------- tokens echoed back

def _kubeconfig_token(tmp_path, pki, port, prefix):
    return {"kubeconfig": write_kubeconfig(tmp_path / "config", "https://127.0.0.1:%d%s" % (port, prefix),
                                           os.path.join(pki, "ca.crt"), {"token": TOKEN}),
            "token": None, "address": None}


def _kubeconfig_token_file(tmp_path, pki, port, prefix):
    (tmp_path / "tok").write_text(TOKEN + "\n")
    return {"kubeconfig": write_kubeconfig(tmp_path / "config", "https://127.0.0.1:%d%s" % (port, prefix),
                                           os.path.join(pki, "ca.crt"), {"tokenFile": str(tmp_path / "tok")}),
            "token": None, "address": None}


def _token_file(tmp_path, pki, port, prefix):
    (tmp_path / "tok").write_text(TOKEN + "\n")
    return {"token": None, "token_file": str(tmp_path / "tok"), "url": "https://127.0.0.1:%d%s" % (port, prefix)}


def _token(tmp_path, pki, port, prefix):
    return {"url": "https://127.0.0.1:%d%s" % (port, prefix)}


@pytest.mark.parametrize("where,state", [
    ("readyz", "http_status"),       # a failing check named like the token: detail and info.failing_checks
    ("livez", "http_status"),        # the token in a 503 body
    ("version500", "http_status"),   # the token in a 500 body
    ("version", "up"),               # the token as the version: the success detail and info.version
])
@pytest.mark.parametrize("source", [_token, _token_file, _kubeconfig_token, _kubeconfig_token_file])
def test_token_echoed_by_the_server_is_masked(https_server, pki, tmp_path, where, state, source):
    extra = source(tmp_path, pki, https_server, "/echo-" + where)
    target = dict((k, v) for k, v in kube(https_server, pki, **extra).items() if v is not None)
    r = run(target)
    assert r["state"] == state, r
    assert TOKEN not in json.dumps(r)
    assert "********" in r["detail"]


def test_http_get_reports_connect_time_and_body(http_server):
    deadline = conn.Deadline(2, 2)
    status, reason, headers, body, connect_ms = ph.http_get("http", "127.0.0.1", http_server, "/o2ims", deadline,
                                                            conn.Resolver())
    assert (status, reason, json.loads(body)) == (200, "OK", {"oCloudId": "x"})
    assert headers["content-type"] == "application/json" and connect_ms >= 0


# --------------------------------------------------------------------------- files: bounded, never blocking

def _kube_target(kc):
    return {"site": "e", "kind": "kubernetes", "kubeconfig": kc, "timeout": 2, "connect_timeout": 1}


def test_kubeconfig_fifo_is_refused_without_blocking(tmp_path):
    # Bug (issue 15 class 7): open() of a FIFO kubeconfig waited for a writer forever.
    os.mkfifo(str(tmp_path / "config"))
    r = run(_kube_target(str(tmp_path / "config")))
    assert r["state"] == "auth" and "kubeconfig %s is a named pipe (FIFO)" % (tmp_path / "config") in r["detail"]


@pytest.mark.parametrize("place", ["kubeconfig", "target"])
def test_token_file_fifo_is_refused_without_blocking(tmp_path, pki, place):
    os.mkfifo(str(tmp_path / "tok"))
    if place == "kubeconfig":
        target = _kube_target(write_kubeconfig(tmp_path / "config", "https://127.0.0.1:1",
                                               os.path.join(pki, "ca.crt"), {"tokenFile": "tok"}))
    else:
        target = {"site": "e", "kind": "kubernetes", "url": "https://127.0.0.1:1", "token_file": str(tmp_path / "tok"),
                  "ca_file": os.path.join(pki, "ca.crt"), "timeout": 2}
    r = run(target)
    assert r["state"] == "auth" and "is a named pipe (FIFO), not a regular file" in r["detail"], r


def test_kubeconfig_nesting_is_bounded(tmp_path):
    # Bug: an unbounded yaml.safe_load recursed on a deeply nested document.
    path = tmp_path / "config"
    path.write_text("a: " + "[" * 5000 + "]" * 5000 + "\n")
    r = run(_kube_target(str(path)))
    assert r["state"] == "protocol" and "nests deeper than" in r["detail"], r


def test_kubeconfig_over_the_size_limit_is_refused(tmp_path):
    path = tmp_path / "config"
    path.write_text("#" * (ph.MAX_KUBECONFIG + 1))
    r = run(_kube_target(str(path)))
    assert r["state"] == "auth" and "over the limit" in r["detail"]


@pytest.mark.parametrize("field", ["certificate-authority-data", "client-certificate-data"])
def test_broken_base64_in_a_kubeconfig_is_a_named_error(tmp_path, field):
    # Bug: base64.b64decode's binascii.Error escaped as an unexplained failure.
    doc = {"current-context": "c", "contexts": [{"name": "c", "context": {"cluster": "k", "user": "u"}}],
           "clusters": [{"name": "k", "cluster": {"server": "https://127.0.0.1:1"}}],
           "users": [{"name": "u", "user": {}}]}
    where = doc["clusters"][0]["cluster"] if field.startswith("certificate") else doc["users"][0]["user"]
    where[field] = "not*base64"
    if field == "client-certificate-data":
        where["client-key-data"] = "a2V5"
    path = tmp_path / "config"
    path.write_text(json.dumps(doc))
    r = run(_kube_target(str(path)))
    assert r["state"] == "protocol" and r["detail"].endswith("%s is not base64" % field), r


def test_kubeconfig_context_name_from_the_file_is_not_quoted_unless_a_short_name(tmp_path):
    doc = {"current-context": "x" * 100 + " " + TOKEN, "contexts": [], "clusters": [], "users": []}
    path = tmp_path / "config"
    path.write_text(json.dumps(doc))
    r = run(_kube_target(str(path)))
    assert r["state"] == "protocol" and "has no context named so" in r["detail"] and "xxxx" not in r["detail"]
    assert run(dict(_kube_target(str(path)), context="edge-1"))["detail"].endswith("has no context named edge-1")


@pytest.mark.parametrize("which", ["ca", "cert"])
def test_ca_and_client_certificate_files_must_be_regular(tmp_path, pki, which):
    # Bug: ssl.create_default_context(cafile=FIFO) and load_cert_chain blocked on a FIFO.
    fifo = str(tmp_path / "pipe")
    os.mkfifo(fifo)
    if which == "ca":
        with pytest.raises(conn.ProbeError) as err:
            ph.tls_context(ca_file=fifo)
        assert err.value.state == "tls" and "CA file %s is a named pipe" % fifo in err.value.detail
    else:
        with pytest.raises(conn.ProbeError) as err:
            ph.tls_context(ca_file=os.path.join(pki, "ca.crt"), cert_file=os.path.join(pki, "ca.crt"), key_file=fifo)
        assert err.value.state == "auth" and "client key %s is a named pipe" % fifo in err.value.detail


@pytest.mark.parametrize("passphrase", ["pw", "XXXX"])
def test_an_encrypted_client_key_fails_instead_of_prompting(tmp_path, pki, passphrase):
    # Bugs: OpenSSL's own password prompt waited on a terminal; the probe supplying any passphrase at all (a short
    # ASCII one such as "XXXX" is as good as any: the key must stay locked whatever it is).
    import subprocess
    key = tmp_path / "enc.key"
    subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-aes256",
                    "-pass", "pass:" + passphrase, "-out", str(key)], check=True, capture_output=True)
    crt = tmp_path / "self.crt"
    subprocess.run(["openssl", "req", "-x509", "-key", str(key), "-passin", "pass:" + passphrase, "-subj", "/CN=x",
                    "-days", "1", "-out", str(crt)], check=True, capture_output=True)
    with pytest.raises(conn.ProbeError) as err:
        ph.tls_context(ca_file=os.path.join(pki, "ca.crt"), cert_file=str(crt), key_file=str(key))
    assert err.value.state == "auth" and "cannot load client certificate" in err.value.detail


# --------------------------------------------------------------------------- what of an answer is quoted

KEY_BLOCK = "-----BEGIN " + "PRIVATE KEY-----\nMIIE\n"


@pytest.mark.parametrize("body, shown, hidden", [
    (b"oops " * 200, "oops", "oops " * 41),
    (("error\n" + KEY_BLOCK).encode(), "the body is not quoted: it holds a private key block", "MIIE"),
    (b"see https://admin:hunter2@example.invalid/x", "the body is not quoted", "hunter2"),
    (b"a\x1b[31mred\x00", ": a [31mred", "\x1b"),
])
def test_an_error_body_is_quoted_short_printable_and_never_when_secret_looking(body, shown, hidden):
    # Bug (issue 15 class 7/5): the first 200 bytes of any body were quoted, a key block or a URL password too.
    err = ph._http_state(500, "Internal Server Error", "GET /x", body)
    assert shown in err.detail and hidden not in err.detail
    assert len(err.detail) <= len("GET /x: 500 Internal Server Error: ") + ph.MAX_BODY_QUOTE


def _fake_get(monkeypatch, answers):
    calls = []

    def http_get(scheme, address, port, path, *args, **kwargs):
        calls.append(path)
        return answers[len(calls) - 1]

    monkeypatch.setattr(ph, "http_get", http_get)
    return calls


def test_prometheus_labels_and_status_from_the_server_are_bounded(monkeypatch):
    many = {"status": "success", "data": {"result": [
        {"metric": {"job": "j" * 10000, "instance": "i%d" % n}, "value": [0, "0"]} for n in range(500)]}}
    _fake_get(monkeypatch, [(200, "OK", {}, b"ok", 1.0), (200, "OK", {}, json.dumps(many).encode(), 1.0)])
    r = run({"site": "s", "kind": "prometheus", "address": "127.0.0.1", "port": 9090})
    assert r["info"]["targets_down"] == 500 and len(r["info"]["down"]) == 50
    assert max(len(x) for x in r["info"]["down"]) <= 2 * ph.MAX_NAME + 1
    assert len(r["detail"]) < 1200
    _fake_get(monkeypatch, [(200, "OK", {}, b"ok", 1.0),
                            (200, "OK", {}, json.dumps({"status": "s" * 5000}).encode(), 1.0)])
    r = run({"site": "s", "kind": "prometheus", "address": "127.0.0.1", "port": 9090})
    assert r["state"] == "protocol" and len(r["detail"]) < 400


def test_prometheus_deep_json_is_refused_not_recursed(monkeypatch):
    _fake_get(monkeypatch, [(200, "OK", {}, b"ok", 1.0), (200, "OK", {}, b"[" * 100000 + b"]" * 100000, 1.0)])
    r = run({"site": "s", "kind": "prometheus", "address": "127.0.0.1", "port": 9090})
    assert r["state"] == "protocol" and "nests deeper than" in r["detail"], r


def test_kubernetes_failing_checks_and_version_are_bounded(monkeypatch, pki):
    readyz = "".join("[-]check-%d%s failed\n" % (n, "x" * 500) for n in range(1000)).encode()
    _fake_get(monkeypatch, [(200, "OK", {}, readyz, 1.0)])
    target = {"site": "e", "kind": "kubernetes", "url": "https://127.0.0.1:6443", "ca_file": os.path.join(pki, "ca.crt")}
    r = run(target)
    assert r["state"] == "http_status" and len(r["info"]["failing_checks"]) == ph.MAX_NAMES + 1
    assert r["info"]["failing_checks"][-1] == "(950 more)"
    assert max(len(x) for x in r["info"]["failing_checks"]) <= ph.MAX_NAME
    _fake_get(monkeypatch, [(200, "OK", {}, b"[+]ping ok\n", 1.0), (200, "OK", {}, b"ok", 1.0),
                            (200, "OK", {}, json.dumps({"gitVersion": "v" * 5000}).encode(), 1.0)])
    r = run(target)
    assert r["state"] == "up" and len(r["info"]["version"]) == ph.MAX_NAME


# --------------------------------------------------------------------------- one TLS context per run, sessions per context

class _Recorded(object):
    """tls_context wrapped: how many contexts were built, and whether each TLS connection resumed a session."""

    def __init__(self, monkeypatch):
        self.built = []
        self.resumed = []
        real = ph.tls_context
        resumed = self.resumed

        class Socket(ssl.SSLSocket):
            def close(self):  # called twice a GET (the connection's and the probe's own)
                if getattr(self, "_sslobj", None) is not None and not getattr(self, "recorded", False):
                    self.recorded = True
                    resumed.append(self.session_reused)
                super(Socket, self).close()

        def build(*args, **kwargs):
            ctx = real(*args, **kwargs)
            ctx.sslsocket_class = Socket
            self.built.append(args[0] if args else kwargs.get("ca_file"))
            return ctx

        monkeypatch.setattr(ph, "tls_context", build)


def test_a_run_builds_each_tls_context_once_and_resumes_sessions(monkeypatch, https_server, pki):
    rec = _Recorded(monkeypatch)
    results = pr.probe_all([dict(kube(https_server, pki), service="k%d" % i) for i in range(6)], concurrency=1,
                           connect_timeout=3.0, timeout=3.0)
    assert [r["state"] for r in results] == ["up"] * 6, results
    assert rec.built == [os.path.join(pki, "ca.crt")]  # bug caught: a context (a CA load) per target
    assert len(rec.resumed) == 18 and rec.resumed[0] is False and all(rec.resumed[1:]), rec.resumed


def test_a_wrong_ca_after_a_good_one_to_the_same_server_is_still_tls(monkeypatch, https_server, pki):
    """The good target's session is never offered on the wrong CA's context (it would skip verification)."""
    rec = _Recorded(monkeypatch)
    good = kube(https_server, pki)
    wrong = dict(good, service="wrong", ca_file=os.path.join(pki, "wrong-ca.crt"))
    results = pr.probe_all([good, wrong, dict(good, service="again"), dict(wrong, service="wrong2")], concurrency=1,
                           connect_timeout=3.0, timeout=3.0)
    assert [r["state"] for r in results] == ["up", "tls", "up", "tls"], results
    assert "certificate verification failed" in results[1]["detail"] and "certificate verification failed" in \
        results[3]["detail"]
    assert sorted(rec.built) == sorted([good["ca_file"], wrong["ca_file"]])


def test_a_wrong_token_after_a_good_one_is_still_auth(https_server, pki):
    good = kube(https_server, pki)
    results = pr.probe_all([good, dict(good, service="bad", token="wrong-token-xyz"), dict(good, service="again")],
                           concurrency=1, connect_timeout=3.0, timeout=3.0)
    assert [r["state"] for r in results] == ["up", "auth", "up"], results


def test_a_server_name_gets_its_own_session(monkeypatch, https_server, pki):
    """A session verified for one name is not offered for another: the other name is checked (and fails)."""
    _Recorded(monkeypatch)
    good = kube(https_server, pki)
    results = pr.probe_all([good, dict(good, service="other", tls_server_name="api.example.net")], concurrency=1,
                           connect_timeout=3.0, timeout=3.0)
    assert [r["state"] for r in results] == ["up", "tls"], results


def test_a_ca_file_changed_within_a_run_gets_a_new_context(monkeypatch, https_server, pki, tmp_path):
    rec = _Recorded(monkeypatch)
    cache = ph.TlsCache()
    ca = tmp_path / "ca.crt"
    with open(os.path.join(pki, "ca.crt"), "rb") as f:
        ca.write_bytes(f.read())
    first = cache.context(str(ca))
    assert cache.context(str(ca)) is first and len(rec.built) == 1
    with open(os.path.join(pki, "wrong-ca.crt"), "rb") as f:
        wrong = f.read()
    ca.write_bytes(wrong + b"\n")  # another size (and inode times): another key
    assert cache.context(str(ca)) is not first and len(rec.built) == 2
    ctx = pr.default_context()
    ctx["tls"] = cache
    r = pr.probe_one(kube(https_server, pki, ca_file=str(ca)), connect_timeout=3.0, timeout=3.0, ctx=ctx)
    assert r["state"] == "tls", r


def test_tls_cache_keys_client_certificate_data_and_ca_data(monkeypatch, pki):
    rec = _Recorded(monkeypatch)
    cache = ph.TlsCache()
    with open(os.path.join(pki, "ca.crt")) as f:
        ca_data = f.read()
    with open(os.path.join(pki, "wrong-ca.crt")) as f:
        wrong_data = f.read()
    a = cache.context(ca_data=ca_data)
    assert cache.context(ca_data=ca_data) is a
    assert cache.context(ca_data=wrong_data) is not a
    with open(os.path.join(pki, "srv.crt"), "rb") as f:
        crt = f.read()
    with open(os.path.join(pki, "srv.key"), "rb") as f:
        key = f.read()
    with_cert = cache.context(ca_data=ca_data, cert_data=crt, key_data=key)
    assert with_cert is not a and cache.context(ca_data=ca_data, cert_data=crt, key_data=key) is with_cert
    assert len(rec.built) == 3
