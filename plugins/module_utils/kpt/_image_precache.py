# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The image_precache run: options checked, the store and tools set up, each image brought up to date
(with retries and backoff) in parallel, optionally unpacked (``_image_unpack``), and the result and
records built. The stores are in ``_image_stores``, the CLIs in ``_image_tools``."""

from __future__ import annotations

import base64
import concurrent.futures
import os
import time

from ansible_collections.o2edge.perf.plugins.module_utils.kpt import _image_unpack, _unpacked_layout
from ansible_collections.o2edge.perf.plugins.module_utils._params import range_error
from ansible_collections.o2edge.perf.plugins.module_utils._record import base_context, make_record, tail, utc_now
from ansible_collections.o2edge.perf.plugins.module_utils._secrets import redact
from ansible_collections.o2edge.perf.plugins.module_utils.kpt._image_errors import StoreError, _last_line, classify, error_text
from ansible_collections.o2edge.perf.plugins.module_utils.kpt._image_input import POLICIES, STORES, check_registry_auth, parse_images, remote_digests
from ansible_collections.o2edge.perf.plugins.module_utils.kpt._image_stores import CliStore, OciStore
from ansible_collections.o2edge.perf.plugins.module_utils.kpt._image_tools import Tools


class Retrier(object):
    def __init__(self, retries, delay, sleep=time.sleep):
        self.retries = retries
        self.delay = delay
        self.sleep = sleep

    def __call__(self, fn):
        """Call ``fn()`` (returns a dict with ok, error) up to 1 + retries times, with exponential backoff.

        Returns (last result, attempts, cause, retryable).
        """
        attempts = 0
        while True:
            attempts += 1
            res = fn()
            if res["ok"]:
                return res, attempts, None
            cause, retry = classify(res.get("stderr") or res.get("error"))
            if not retry or attempts > self.retries:
                return res, attempts, cause
            self.sleep(self.delay * (2 ** (attempts - 1)))


def _new_result(image):
    return {"image": image["image"], "reference": image["reference"], "action": None, "local_digest_before": None,
            "remote_digest": None, "digest": None, "attempts": 0, "seconds": None, "reason": None, "unpacked": None,
            "would_unpack": False}


def _fail(result, what, cause, text):
    detail = _last_line(text)
    result["action"] = "failed"
    result["reason"] = "%s: %s: %s%s" % (result["reference"], what, cause, (" (%s)" % detail) if detail else "")


def precache_one(image, store, tools, policy, check_mode, retrier, unpacker=None):
    """Decide, pull (with retries) and optionally unpack one image; returns its result dict."""
    t0 = time.monotonic()
    result = _new_result(image)
    try:
        _precache_one(image, store, tools, policy, check_mode, retrier, unpacker, result)
    finally:
        result["seconds"] = round(time.monotonic() - t0, 6)
    return result


def _remote(image, tools, retrier, result):
    """The registry's digests for the image (with retries): dict(digest, instance) or None (result failed)."""
    res, attempts, cause = retrier(lambda: tools.skopeo_inspect(image))
    result["attempts"] += attempts
    if not res["ok"]:
        _fail(result, "cannot read the registry's manifest", cause, error_text(res))
        return None
    try:
        top, instance, media = remote_digests(res["raw"])
    except StoreError as exc:
        _fail(result, "the registry's manifest is unusable", str(exc), "")
        return None
    return {"digest": top, "instance": instance, "media_type": media}


def _precache_one(image, store, tools, policy, check_mode, retrier, unpacker, result):
    state = store.local(image, verify=(policy == "digest"))
    if state.get("error"):
        result["action"] = "failed"
        result["reason"] = "%s: %s" % (image["reference"], state["error"])
        return
    result["local_digest_before"] = state["digest"] if state["present"] else None
    remote = None
    if policy == "always":
        need, why = True, "policy always"
    elif not state["present"]:
        need, why = True, "absent"
    elif state.get("problem"):
        need, why = True, "local copy corrupted, detected: %s" % state["problem"]
    elif policy == "missing":
        need, why = False, "present (policy missing: registry not asked)"
    elif image["digest"] and image["digest"] in state["digests"]:
        need, why = False, "present (pinned digest)"
    else:
        remote = _remote(image, tools, retrier, result)
        if remote is None:
            return
        result["remote_digest"] = remote["digest"]
        if remote["digest"] in state["digests"] or remote["instance"] in state["digests"]:
            need, why = False, "present, same digest as the registry"
        else:
            need, why = True, "digest changed upstream (local %s, registry %s)" % (state["digest"], remote["digest"])
    # the oci store copies by digest, so it needs the registry's digest; check mode with policy
    # digest asks too, so that its prediction (a tag that does not exist fails) matches a run
    if need and remote is None and ((store.name == "oci" and not check_mode) or (check_mode and policy == "digest")):
        remote = _remote(image, tools, retrier, result)
        if remote is None:
            return
        result["remote_digest"] = remote["digest"]
    result["reason"] = why
    if need and check_mode:
        result["action"] = "would_pull"
    elif need:
        res, attempts, cause = retrier(lambda: store.pull(image, remote, state))
        result["attempts"] += attempts
        if not res["ok"]:
            _fail(result, "pull failed", cause, res.get("error"))
            return
        result["action"] = "pulled"
        after = store.local(image, verify=False)
        if not after["present"]:
            _fail(result, "pull reported success", "but the image is not in the store afterwards", "")
            return
        result["digest"] = (remote or {}).get("digest") if remote and remote["digest"] in after["digests"] else after["digest"]
    else:
        result["action"] = "present"
        result["digest"] = remote["digest"] if remote else state["digest"]
    if unpacker is not None:
        unpacker(image, result, state, remote, check_mode)


def run_precache(params, check_mode=False, sleep=time.sleep, prefix=None):
    """The whole run; ``params`` are the module's options. Returns the result dict (see the module's RETURN)."""
    store_name = params.get("store") or "podman"
    if store_name not in STORES:
        raise StoreError("store must be one of %s, not %r" % (", ".join(STORES), store_name))
    policy = params.get("policy") or "digest"
    if policy not in POLICIES:
        raise StoreError("policy must be one of %s, not %r" % (", ".join(POLICIES), policy))
    concurrency = params.get("concurrency", 4)
    retries = params.get("retries", 2)
    delay = params.get("retry_delay", 1.0)
    for key, value, kind in (("concurrency", concurrency, int), ("retries", retries, int), ("retry_delay", delay, (int, float))):
        if not isinstance(value, kind) or isinstance(value, bool):
            raise StoreError("%s must be a number, got %s" % (key, type(value).__name__))
    error = range_error({"concurrency": concurrency, "retries": retries, "retry_delay": delay}, minimums=(),
                        bounds=(("concurrency", 1, 64), ("retries", 0, 20), ("retry_delay", 0, 600)))
    if error:
        raise StoreError(error)
    delay = float(delay)
    timeout = float(params.get("timeout", 300.0))
    if not 0 < timeout <= 86400:
        raise StoreError("timeout must be above 0 and at most 86400 seconds, not %r" % (timeout,))
    environment = params.get("environment") or {}
    if not isinstance(environment, dict):
        raise StoreError("environment must be a mapping of names to values")
    images = parse_images(params.get("images"), prefix)
    auth = check_registry_auth(params.get("registry_auth"))
    insecure = params.get("insecure_registries") or []
    for index, name in enumerate(insecure):
        if not isinstance(name, str) or not name or "/" in name:
            raise StoreError("insecure_registries[%d] must be a host or host:port" % index)
    if store_name in ("docker", "crictl") and insecure:
        raise StoreError("insecure_registries cannot be applied to store %s: its daemon's configuration decides "
                         "which registries are insecure" % store_name)
    if store_name == "crictl" and auth:
        raise StoreError("registry_auth cannot be used with store crictl: crictl takes credentials only on its "
                         "command line, where they would be visible to every user")
    secrets = [p for _u, p in auth.values()] + [base64.b64encode(("%s:%s" % up).encode()).decode() for up in auth.values()]
    tools = Tools(environment, timeout, insecure, auth, params.get("executable"), secrets)
    if store_name == "oci":
        if not params.get("oci_dir"):
            raise StoreError("oci_dir is required with store oci")
        store = OciStore(os.path.abspath(params["oci_dir"]), tools)
        store.check_dir()
    else:
        store = CliStore(store_name, tools)
        if not (tools.executable or tools.which(store_name)):
            raise StoreError("store %s: the %s command was not found on PATH" % (store_name, store_name))
    needs_skopeo = store_name == "oci" or policy == "digest" or params.get("unpack")
    if needs_skopeo and not tools.which("skopeo"):
        raise StoreError("skopeo was not found on PATH (Debian package skopeo); store %s with policy %s%s needs it"
                         % (store_name, policy, " and unpack" if params.get("unpack") else ""))
    unpacker = None
    if params.get("unpack"):
        if not tools.which("umoci"):
            raise StoreError("unpack needs umoci, which was not found on PATH (Debian package umoci)")
        unpacker = _image_unpack.Unpacker(params.get("unpack_dir") or _unpacked_layout.default_unpack_dir(), store, tools,
                                          Retrier(retries, delay, sleep))
        unpacker.check()

    started_at = utc_now()
    t0 = time.monotonic()
    retrier = Retrier(retries, delay, sleep)
    try:
        tools.setup_auth(docker_config=store_name in ("docker", "nerdctl"))
        if store_name == "oci" and not check_mode:
            store.prepare()
        with concurrent.futures.ThreadPoolExecutor(max_workers=min(concurrency, len(images))) as pool:
            futures = [pool.submit(precache_one, image, store, tools, policy, check_mode, retrier, unpacker)
                       for image in images]
            results = [f.result() for f in futures]
        if unpacker is not None and not check_mode:
            unpacker.finish()
    finally:
        tools.cleanup()
        if store_name == "oci" and not check_mode:
            store.cleanup()
    seconds = time.monotonic() - t0

    failed = [r for r in results if r["action"] == "failed"]
    pulled = [r["reference"] for r in results if r["action"] == "pulled"]
    present = [r["reference"] for r in results if r["action"] == "present"]
    would = [r["reference"] for r in results if r["action"] == "would_pull"]
    unpack_changed = bool(unpacker is not None and unpacker.changed)
    would_unpack = any(r["would_unpack"] for r in results)
    changed = bool(pulled) or unpack_changed or (check_mode and (bool(would) or would_unpack))
    versions = {"skopeo": tools.version(["skopeo", "--version"]) if needs_skopeo else None}
    if store_name != "oci":
        versions[store_name] = tools.version([store.cli, "--version"])
    if unpacker is not None:
        versions["umoci"] = tools.version(["umoci", "--version"])
    context = base_context(started_at=started_at, versions=versions, store=store_name, policy=policy,
                           concurrency=concurrency, images=len(images), pulled=len(pulled), present=len(present),
                           failed=len(failed), check_mode=bool(check_mode))
    if store_name == "oci":
        context["oci_dir"] = store.dir
    if failed:
        errors = [{"phase": "run", "run": 0, "rc": None, "seconds": round(seconds, 6),
                   "error": "%d of %d image(s) failed" % (len(failed), len(images)),
                   "stderr": tail("\n".join(r["reason"] for r in failed))}]
        record = make_record("image_precache/" + store_name, "image_precache", "s", [], failures=1, errors=errors,
                             context=context)
    else:
        record = make_record("image_precache/" + store_name, "image_precache", "s", [seconds], context=context)
    before = dict((r["reference"], r["local_digest_before"]) for r in results)
    after = dict((r["reference"], r["digest"] if r["action"] in ("pulled", "present") else
                  (r["remote_digest"] if r["action"] == "would_pull" else r["local_digest_before"])) for r in results)
    if failed:
        msg = "%d of %d image(s) failed: %s" % (len(failed), len(images), "; ".join(r["reason"] for r in failed))
    elif check_mode:
        msg = "%d image(s) would be pulled, %d present" % (len(would), len(present))
    else:
        msg = "%d image(s) pulled, %d present" % (len(pulled), len(present))
    return {"changed": changed, "failed": bool(failed), "msg": redact(msg, secrets), "images": results,
            "pulled": pulled, "present": present, "would_pull": would,
            "failed_images": [r["reference"] for r in failed], "records": [record],
            "diff": {"before": before, "after": after}, "store": store_name, "policy": policy,
            "oci_dir": store.dir if store_name == "oci" else None,
            "unpack_dir": unpacker.dir if unpacker is not None else None}
