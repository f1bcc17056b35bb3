"""What a merged report of a sliced run must hold (used by run.py and bench/bench_slices.py)."""
import collections


def probe_counts(doc):
    """{(site, service): number of probe entries} of a results document."""
    counts = collections.Counter()
    for entry in doc.get("probes") or []:
        res = entry["result"]
        counts[(res["site"], res["service"])] += 1
    return counts


def matrix_complete(merged, expected_sites):
    """Every expected site in the merged probes, each (site, service) exactly once, no other site."""
    counts = probe_counts(merged)
    sites = set(site for site, _unused in counts)
    missing = sorted(set(expected_sites) - sites)
    extra = sorted(sites - set(expected_sites))
    twice = sorted("%s/%s x%d" % (k[0], k[1], n) for k, n in counts.items() if n != 1)
    assert not missing, "%d sites missing from the merged probes: %s" % (len(missing), ", ".join(missing[:10]))
    assert not extra, "sites in the merged probes that no given slice holds: %s" % ", ".join(extra[:10])
    assert not twice, "(site, service) probed more than once in the merge: %s" % ", ".join(twice[:10])
    return counts


def success_ratio(doc):
    probes = [e["result"] for e in doc.get("probes") or []]
    return (sum(1 for p in probes if p.get("ok")) / len(probes)) if probes else None, len(probes)


def objective(result, name):
    for obj in result.get("slo") or []:
        if obj["name"] == name:
            return obj
    raise AssertionError("objective %s not in the report (%s)" % (name, [o["name"] for o in result.get("slo") or []]))


def slo_on_merged(result, merged, slice_docs):
    """The probes objective was evaluated on the union of the slices' probes."""
    obj = objective(result, "slices-edge-connectivity")
    ratio, total = success_ratio(merged)
    per_slice = sum(success_ratio(d)[1] for d in slice_docs)
    assert total == per_slice, "merged document holds %d probes, the slices %d" % (total, per_slice)
    assert obj["selected"] == total, "objective selected %s probes, the merge holds %d" % (obj["selected"], total)
    assert obj["value"] is not None and abs(obj["value"] - ratio) < 1e-9, \
        "objective value %s, the merged probes' success ratio %s" % (obj["value"], ratio)
    assert obj["status"] == ("pass" if ratio >= 0.99 else "fail"), "objective status %s at ratio %s" % (obj["status"], ratio)
    return obj


def controller_records_once(merged, controller_hosts=("localhost",)):
    """Each controller-side record name appears once in the merge (not once per slice)."""
    counts = collections.Counter((e["host"], e["record"]["name"]) for e in merged.get("records") or []
                                 if e["host"] in controller_hosts)
    assert counts, "no controller-side record in the merge"
    many = sorted("%s on %s x%d" % (name, host, n) for (host, name), n in counts.items() if n > 1)
    assert not many, "controller-side records counted once per slice: %s" % ", ".join(many)
    return counts


def names_slice(missing, index, count):
    """A ``missing`` entry of the report names slice ``index`` of ``count``."""
    label = "slice %d of %d" % (index, count)
    hits = [m for m in missing if label in (m.get("what") or "") or label in (m.get("why") or "")]
    assert hits, "the report does not name %s as missing: %s" % (label, [m.get("what") for m in missing])
    return hits
