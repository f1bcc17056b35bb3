"""Cut an inventory into N slices the way AWX job slicing does, one ansible-runner private data
directory per slice.

AWX (awx/main/models/inventory.py, ``Inventory.get_script_data``) takes the inventory's enabled
hosts ordered by name and gives slice ``k`` (1-based) ``hosts[k - 1::N]``: with hosts numbered from
0 in name order, host ``i`` goes to slice ``i mod N`` (index from 0, as ``O2EDGE_PERF_SLICE``
counts). ``order="inventory"`` keeps the inventory's own order instead (what ``ansible-playbook
--limit`` patterns or a hand-made split would do).

Two inputs:

* an edge-sites config (``plugin: o2edge.perf.edge_sites``): each slice gets an edge-sites config
  of its own with the same defaults and its share of ``sites`` (relative paths made absolute), so
  the slice reads its hosts through the same inventory plugin, values kept as data;
* any inventory: the output of ``ansible-inventory --list`` is cut into one YAML inventory per slice
  (hosts with their variables, every group that still has a host of the slice).
"""
import json
import os
import shutil
import subprocess

import yaml

EDGE_SITES_PLUGINS = ("o2edge.perf.edge_sites", "edge_sites")
# Fields of an edge-sites config that hold file paths (relative ones are relative to the config).
PATH_KEYS = ("key_file", "known_hosts", "ca_file", "token_file", "kubeconfig", "python_interpreter", "known_hosts_dir")
MAX_CONFIG_BYTES = 32 * 1024 * 1024
ORDERS = ("name", "inventory")


class SliceError(ValueError):
    """Bad input to the slicer (the message names the file and field)."""


class Vaulted(str):
    """A ``!vault`` scalar kept as it is (the slicer never decrypts)."""


class _Loader(yaml.SafeLoader):
    pass


class _Dumper(yaml.SafeDumper):
    pass


_Loader.add_constructor("!vault", lambda loader, node: Vaulted(loader.construct_scalar(node)))
_Dumper.add_representer(Vaulted, lambda dumper, value: dumper.represent_scalar("!vault", str(value), style="|"))


def assign(names, count, order="name"):
    """``count`` lists of host names: host ``i`` (in ``order``) to list ``i mod count``."""
    if not isinstance(count, int) or count < 1:
        raise SliceError("slice count must be an integer >= 1, got %r" % (count,))
    if order not in ORDERS:
        raise SliceError("order must be one of %s, got %r" % (", ".join(ORDERS), order))
    names = list(names)
    if len(set(names)) != len(names):
        raise SliceError("host names must be unique")
    seq = sorted(names) if order == "name" else names
    return [seq[i::count] for i in range(count)]


# --- edge-sites configs -----------------------------------------------------------------------

def read_edge_sites(path):
    try:
        if os.path.getsize(path) > MAX_CONFIG_BYTES:
            raise SliceError("%s: larger than %d bytes" % (path, MAX_CONFIG_BYTES))
        with open(path, encoding="utf-8") as handle:
            doc = yaml.load(handle, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except OSError as exc:
        raise SliceError("%s: cannot read: %s" % (path, exc.strerror or exc))
    except yaml.YAMLError as exc:
        raise SliceError("%s: not valid YAML: %s" % (path, exc))
    if not isinstance(doc, dict) or doc.get("plugin") not in EDGE_SITES_PLUGINS:
        raise SliceError("%s: plugin: not an edge-sites config (plugin: o2edge.perf.edge_sites)" % path)
    sites = doc.get("sites")
    if not isinstance(sites, list) or not all(isinstance(s, dict) and isinstance(s.get("name"), str) for s in sites):
        raise SliceError("%s: sites: must be a list of mappings with a name" % path)
    return doc


def _absolute_paths(value, base):
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key in PATH_KEYS and isinstance(item, str) and not isinstance(item, Vaulted):
                item = os.path.expanduser(item)
                out[key] = item if os.path.isabs(item) else os.path.normpath(os.path.join(base, item))
            else:
                out[key] = _absolute_paths(item, base)
        return out
    if isinstance(value, list):
        return [_absolute_paths(item, base) for item in value]
    return value


def slice_edge_sites(path, count, order="name"):
    """``[(names, config)]``: each slice's site names and its edge-sites config (a mapping)."""
    doc = read_edge_sites(path)
    doc = _absolute_paths(doc, os.path.dirname(os.path.abspath(path)))
    by_name = dict((s["name"], s) for s in doc["sites"])
    names = [s["name"] for s in doc["sites"]]
    out = []
    for share in assign(names, count, order):
        part = dict(doc)
        part["sites"] = [by_name[n] for n in share]
        out.append((share, part))
    return out


def dump_edge_sites(config, dest, comment):
    text = "# %s\n" % comment + yaml.dump(config, Dumper=_Dumper, sort_keys=False)
    write_atomic(dest, text)


# --- any inventory (ansible-inventory --list) ---------------------------------------------------

def inventory_list(inventory, env=None, ansible_inventory="ansible-inventory"):
    """The JSON of ``ansible-inventory -i <inventory> --list``."""
    proc = subprocess.run([ansible_inventory, "-i", inventory, "--list"], capture_output=True, text=True,
                          env=env, check=False, timeout=600)
    if proc.returncode != 0:
        raise SliceError("ansible-inventory -i %s --list failed (rc %d): %s"
                         % (inventory, proc.returncode, proc.stderr.strip()[-2000:]))
    try:
        return json.loads(proc.stdout)
    except ValueError as exc:
        raise SliceError("ansible-inventory -i %s --list: not JSON: %s" % (inventory, exc))


def inventory_order(listing):
    """Host names in inventory order: depth first from ``all``, a host where first met."""
    seen = []
    done = set()

    def walk(group, stack):
        if group in stack:
            return
        entry = listing.get(group) or {}
        for host in entry.get("hosts") or []:
            if host not in done:
                done.add(host)
                seen.append(host)
        for child in entry.get("children") or []:
            walk(child, stack + (group,))
    walk("all", ())
    for host in (listing.get("_meta") or {}).get("hostvars") or {}:
        if host not in done:
            done.add(host)
            seen.append(host)
    return seen


def slice_listing(listing, count, order="name"):
    """``[(names, inventory)]``: each slice's hosts and a YAML inventory (mapping) holding them."""
    hostvars = (listing.get("_meta") or {}).get("hostvars") or {}
    out = []
    for share in assign(inventory_order(listing), count, order):
        mine = set(share)

        def group(name, stack=()):
            entry = listing.get(name) or {}
            body = {}
            hosts = [h for h in entry.get("hosts") or [] if h in mine]
            if hosts:
                body["hosts"] = dict((h, None) for h in hosts)
            children = {}
            for child in entry.get("children") or []:
                if child in stack or child == name:
                    continue
                sub = group(child, stack + (name,))
                if sub is not None:
                    children[child] = sub
            if children:
                body["children"] = children
            if not body:
                return None
            if entry.get("vars"):
                body["vars"] = entry["vars"]
            return body

        top = group("all") or {}
        top.setdefault("hosts", {})
        for host in share:
            top["hosts"][host] = dict(hostvars.get(host) or {}) or None
        out.append((share, {"all": top}))
    return out


# --- private data directories -------------------------------------------------------------------

def write_atomic(dest, text):
    tmp = "%s.tmp.%d" % (dest, os.getpid())
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, dest)


def make_job_dir(template, dest, index, count, inventory_name, inventory, envvars=None, project_files=()):
    """Copy ``template`` (an ansible-runner private data directory) to ``dest`` and make it slice
    ``index`` of ``count``: ``inventory/`` holds only ``inventory_name`` (``inventory`` a mapping, or a
    path to copy), ``env/envvars`` gets ``envvars``, ``O2EDGE_PERF_SLICE`` and a results folder of
    its own (``O2EDGE_PERF_RESULTS_DIR=<dest>/results``). Returns ``dest``."""
    if os.path.exists(dest):
        raise SliceError("%s: already exists" % dest)
    shutil.copytree(template, dest, ignore=shutil.ignore_patterns("artifacts", "results", "collections", "__pycache__"))
    inv_dir = os.path.join(dest, "inventory")
    shutil.rmtree(inv_dir, ignore_errors=True)
    os.makedirs(inv_dir)
    target = os.path.join(inv_dir, inventory_name)
    if isinstance(inventory, str):
        shutil.copyfile(inventory, target)
    elif inventory_name.endswith((".yml", ".yaml")) and isinstance(inventory, dict) and inventory.get("plugin"):
        dump_edge_sites(inventory, target, "slice %d of %d (written by tests/slices/slicer.py)" % (index, count))
    else:
        write_atomic(target, "# slice %d of %d (written by tests/slices/slicer.py)\n" % (index, count)
                     + yaml.safe_dump(inventory, sort_keys=False))
    for name, text in project_files:
        write_atomic(os.path.join(dest, "project", name), text)
    env_path = os.path.join(dest, "env", "envvars")
    env = {}
    if os.path.isfile(env_path):
        with open(env_path, encoding="utf-8") as handle:
            env = yaml.safe_load(handle) or {}
    env.update(envvars or {})
    results = os.path.join(os.path.abspath(dest), "results")
    os.makedirs(results)
    env.update({"ANSIBLE_CALLBACKS_ENABLED": "o2edge.perf.perf_recap", "O2EDGE_PERF_RESULTS_DIR": results,
                "O2EDGE_PERF_SLICE": "%d/%d" % (index, count)})
    os.makedirs(os.path.dirname(env_path), exist_ok=True)
    write_atomic(env_path, "---\n# slice %d of %d\n" % (index, count)
                 + yaml.safe_dump(dict((k, str(v)) for k, v in env.items()), sort_keys=False))
    return dest


def results_of(job_dir, ident):
    """The slice's results file: the artifact dir's results.json, else the newest run folder's
    results.json or results.jsonl under ``<job_dir>/results``; None when the job left nothing."""
    art = os.path.join(job_dir, "artifacts", ident, "results.json")
    if os.path.isfile(art):
        return art
    base = os.path.join(job_dir, "results")
    runs = sorted(d for d in os.listdir(base) if os.path.isdir(os.path.join(base, d)) and d != "latest") \
        if os.path.isdir(base) else []
    for run in reversed(runs):
        for name in ("results.json", "results.jsonl"):
            path = os.path.join(base, run, name)
            if os.path.isfile(path):
                return path
    return None
