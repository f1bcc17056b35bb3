"""Execution environment: meta/execution-environment.yml, bindep.txt, ansible-builder create/introspect.

The image itself is not built here (its base image cannot be pulled on this machine); these checks
prove the build context and the dependency lists ansible-builder derives from our files.
"""
import hashlib
import os
import re
import shutil
import subprocess

import yaml

from common import ROOT, VENV_BIN, read, run

DEFINITION = os.path.join(ROOT, "meta", "execution-environment.yml")
BUILDER = os.path.join(VENV_BIN, "ansible-builder")
# Entries that must stay: the runner itself, the function runtime and sandbox, git for the rpm image.
MUST_PYTHON = ("ansible-runner==",)
MUST_SYSTEM = ("podman", "bubblewrap", "git-core [platform:rpm]", "openssh-clients [platform:rpm]", "skopeo")
# ansible-builder's introspection leaves these out of a collection's Python requirements.
INTROSPECT_EXCLUDED = ("ansible-core", "pyyaml")


def file_lines(path):
    """Non-empty, non-comment lines, as ansible-builder reads requirement files."""
    return [line.strip() for line in read(path).splitlines() if line.strip() and not line.strip().startswith("#")]


def pin(requirements, name):
    for line in requirements:
        if re.split(r"[=<>!~\[ ;]", line, maxsplit=1)[0].lower() == name:
            return line
    raise AssertionError("%s is not pinned in requirements.txt" % name)


def check_create(ctx):
    """`ansible-builder create` writes a Containerfile that installs our requirements, bindep and kpt."""
    context = os.path.join(ctx.tmp, "ee-context")
    res = run([BUILDER, "create", "-f", DEFINITION, "-c", context, "--output-filename", "Containerfile"])
    assert res.returncode == 0, "ansible-builder create failed: %s" % (res.stderr or res.stdout)[-1500:]
    containerfile = read(os.path.join(context, "Containerfile"))
    build = os.path.join(context, "_build")
    requirements = file_lines(os.path.join(ROOT, "requirements.txt"))
    assert file_lines(os.path.join(build, "requirements.txt")) == requirements, "the context's requirements.txt is not ours"
    assert file_lines(os.path.join(build, "bindep.txt")) == file_lines(os.path.join(ROOT, "bindep.txt")), \
        "the context's bindep.txt is not ours"
    assert ("RUN $PYCMD /output/scripts/introspect.py introspect --user-pip=requirements.txt "
            "--user-bindep=bindep.txt") in containerfile, "the Containerfile does not feed our files to introspection"
    refs = '%s %s' % (pin(requirements, "ansible-core"), pin(requirements, "ansible-runner"))
    assert 'ARG ANSIBLE_INSTALL_REFS="%s"' % refs in containerfile, \
        "ansible_core/ansible_runner in the definition differ from requirements.txt (%s)" % refs
    assert 'ARG PYCMD="/usr/bin/python3.11"' in containerfile, "the EE's Python is not 3.11"
    assert "RUN /output/scripts/install-from-bindep" in containerfile
    kpt = [line for line in containerfile.splitlines() if "releases/download" in line]
    assert len(kpt) == 1, "expected one kpt download step, got %d" % len(kpt)
    assert "sha256sum -c" in kpt[0] and "KPT_SHA256" in kpt[0], "the kpt download is not checked against a checksum"
    assert "ENV KPT_FN_RUNTIME=podman" in containerfile
    galaxy = yaml.safe_load(read(os.path.join(build, "requirements.yml")))
    assert galaxy == {"collections": [{"name": "/build/collections/o2edge/perf", "type": "dir"}]}, galaxy
    manifest = os.path.join(build, "collections", "o2edge", "perf", "MANIFEST.json")
    if os.path.isdir(os.path.join(ROOT, ".build", "collections", "ansible_collections", "o2edge", "perf")):
        assert os.path.exists(manifest), "the installed collection was not copied into the build context"
    ctx.kpt_step = kpt[0]


def _kpt_step(ctx, checksum, content):
    """Run the Containerfile's kpt step in a bwrap sandbox (its own /usr/local/bin) with a fake curl."""
    step = getattr(ctx, "kpt_step", None)
    assert step, "check_create did not run or found no kpt step"
    work = os.path.join(ctx.tmp, "kpt-step-%s" % (checksum[:8] or "empty"))
    fake_bin = os.path.join(work, "bin")
    os.makedirs(fake_bin)
    payload = os.path.join(work, "payload")
    with open(payload, "w") as f:
        f.write(content)
    with open(os.path.join(fake_bin, "curl"), "w") as f:
        f.write('#!/bin/sh\necho "$@" >> %s/curl.log\nwhile [ $# -gt 0 ]; do [ "$1" = -o ] && cp %s "$2"; shift; done\n'
                % (work, payload))
    os.chmod(os.path.join(fake_bin, "curl"), 0o755)
    script = step[len("RUN "):]
    argv = [shutil.which("bwrap"), "--ro-bind", "/", "/", "--tmpfs", "/usr/local/bin", "--bind", work, work,
            "--dev", "/dev", "--proc", "/proc", "--unshare-net", "--die-with-parent",
            "/usr/bin/env", "PATH=%s:/usr/bin:/bin" % fake_bin, "KPT_VERSION=1.0.0-beta.56", "KPT_SHA256=" + checksum,
            "/bin/sh", "-c", 'sh -c "$1"; echo "rc=$?"; ls /usr/local/bin', "sh", script]
    res = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    log = os.path.join(work, "curl.log")
    return res, (read(log) if os.path.exists(log) else "")


def check_kpt_step_checksum(ctx):
    """The kpt step refuses to run without a checksum and keeps no binary whose checksum differs."""
    fake = "#!/bin/sh\necho kpt fake $*\n"
    res, curl = _kpt_step(ctx, "", fake)
    assert "rc=1" in res.stdout and "KPT_SHA256" in res.stderr and curl == "", \
        "no checksum given: %r, stderr %r, curl called with %r" % (res.stdout, res.stderr[-300:], curl)
    res, curl = _kpt_step(ctx, "0" * 64, fake)
    assert "releases/download/v1.0.0-beta.56/kpt_linux_amd64" in curl, "curl not called as expected: %r" % curl
    assert "rc=1" in res.stdout and "kpt" not in res.stdout.split("rc=1")[-1], \
        "a wrong checksum must fail and leave no kpt: %r %r" % (res.stdout, res.stderr[-300:])
    good = hashlib.sha256(fake.encode()).hexdigest()
    res, curl = _kpt_step(ctx, good, fake)
    assert "kpt fake version" in res.stdout and "rc=0" in res.stdout, \
        "the right checksum must install kpt: %r %r" % (res.stdout, res.stderr[-300:])


def introspected(output):
    """The YAML document ansible-builder introspect prints (after its comment line)."""
    doc = yaml.safe_load(output.split("\n---\n", 1)[1] if "\n---\n" in output else output)
    assert isinstance(doc, dict), "introspect printed no dependency data: %r" % output[-500:]
    return doc


def check_introspect(ctx):
    """`ansible-builder introspect` on the installed collection lists exactly our requirements and bindep."""
    res = run(["tar", "-tzf", ctx.tarball])
    assert "meta/execution-environment.yml" not in res.stdout.split(), (
        "the collection tarball ships meta/execution-environment.yml, a build definition whose paths are relative to "
        "meta/; introspection would read it as the collection's metadata and fail: add it to build_ignore in galaxy.yml")
    res = run([BUILDER, "introspect", ctx.collections])
    assert res.returncode == 0 and "Traceback" not in res.stderr, "introspect failed: %s" % res.stderr[-1500:]
    doc = introspected(res.stdout)
    tag = "  # from collection o2edge.perf"
    want_python = [line + tag for line in file_lines(os.path.join(ROOT, "requirements.txt"))
                   if re.split(r"[=<>!~\[ ;]", line, maxsplit=1)[0].lower() not in INTROSPECT_EXCLUDED]
    want_system = [line + tag for line in file_lines(os.path.join(ROOT, "bindep.txt"))]
    assert doc.get("python") == want_python, "python: %r, want %r" % (doc.get("python"), want_python)
    assert doc.get("system") == want_system, "system: %r, want %r" % (doc.get("system"), want_system)
    for must in MUST_PYTHON:
        assert any(line.startswith(must) for line in doc["python"]), "%s missing from the introspected Python" % must
    for must in MUST_SYSTEM:
        assert must + tag in doc["system"], "%s missing from the introspected system packages" % must


def check_bindep_platforms(ctx):
    """bindep.txt parses, and names the right packages on Debian controllers and in the rpm image."""
    from bindep.depends import Depends  # pylint: disable=import-outside-toplevel
    deps = Depends(read(os.path.join(ROOT, "bindep.txt")))
    dpkg = [rule[0] for rule in deps.active_rules(["platform:dpkg", "platform:debian"])]
    rpm = [rule[0] for rule in deps.active_rules(["platform:rpm", "platform:centos", "platform:redhat"])]
    assert dpkg == ["git", "openssh-client", "podman", "bubblewrap", "skopeo", "umoci"], dpkg
    assert rpm == ["git-core", "openssh-clients", "podman", "bubblewrap", "skopeo"], rpm
    res = run([os.path.join(VENV_BIN, "bindep"), "-f", os.path.join(ROOT, "bindep.txt"), "-b"])
    missing = res.stdout.split()
    assert res.returncode in (0, 1) and set(missing) <= set(dpkg), "bindep -b: rc %s %r" % (res.returncode, res.stdout)
    ctx.bindep_missing = missing


CHECKS = [
    ("ee: ansible-builder create writes our build context", check_create),
    ("ee: the kpt step enforces its checksum", check_kpt_step_checksum),
    ("ee: ansible-builder introspect lists our entries", check_introspect),
    ("ee: bindep.txt per platform", check_bindep_platforms),
]
