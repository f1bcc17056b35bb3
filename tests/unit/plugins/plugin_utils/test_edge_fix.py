# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""plugin_utils/_edge_fix.py: the conclusions fix_edge_connectivity, optimize and site drew in Jinja
(issue 17 item 4: 37 untested Jinja statements, an SSH-outcome loop copied into two playbooks)."""
from __future__ import annotations

import pytest

from ansible_collections.o2edge.perf.plugins.plugin_utils import _edge_fix as ef
from ansible_collections.o2edge.perf.plugins.filter import edge_fix as flt
from ansible.errors import AnsibleFilterError


def probe(matrix, table=None):
    status = dict((s, "up" if all(v == "up" for v in svc.values()) else "down") for s, svc in matrix.items())
    up = sum(1 for v in status.values() if v == "up")
    return {"matrix": matrix, "summary": {"site_status": status, "sites_up": up, "sites_total": len(matrix)},
            "table": table or ["site  ssh", "edge1 up"], "results": []}


BEFORE = probe({"edge1": {"ssh": "up", "o2ims": "up"},
                "edge2": {"ssh": "host_key_mismatch", "o2ims": "refused"}})
AFTER = probe({"edge1": {"ssh": "up", "o2ims": "up"},
               "edge2": {"ssh": "up", "o2ims": "up"}})
FIX = {"sites": [{"site": "edge2", "status": "fixed", "old_address": "198.18.102.10", "new_address": "198.18.2.10",
                  "fingerprint": "ssh-ed25519 SHA256:abc", "msg": "edge2: fixed"},
                 {"site": "edge1", "status": "ok", "msg": "edge1: ok"}],
       "fixed": ["edge2"], "impostors": [], "summary": {}, "changes": [], "backup_files": {"/c.yml": "/c.yml.bak"}}


def test_compare_names_only_services_that_moved():
    # Bug caught: a site counted as changed when nothing moved, or a moved service missing.
    sites = ef.compare_sites(BEFORE, AFTER, FIX)
    by = dict((s["site"], s) for s in sites)
    assert by["edge1"]["changed"] == []
    assert by["edge2"]["changed"] == [{"service": "ssh", "before": "host_key_mismatch", "after": "up"},
                                      {"service": "o2ims", "before": "refused", "after": "up"}]
    assert (by["edge2"]["before"], by["edge2"]["after"]) == ("down", "up")
    assert by["edge2"]["address_check"] == "fixed" and by["edge2"]["new_address"] == "198.18.2.10"


def test_compare_site_only_in_one_probe_and_unchecked_site():
    # Bug caught: a site that appears only after the fix (or a service only on one side) dropped,
    # or a site edge_ip_fix did not check shown with another site's outcome.
    after = probe(dict(AFTER["matrix"], edge3={"ssh": "up"}))
    by = dict((s["site"], s) for s in ef.compare_sites(BEFORE, after, FIX))
    assert list(by) == ["edge1", "edge2", "edge3"]
    assert by["edge3"]["changed"] == [{"service": "ssh", "before": "-", "after": "up"}]
    assert by["edge3"]["before"] == "-"
    assert by["edge3"]["address_check"] == "not checked" and by["edge3"]["old_address"] is None


def test_lines_give_the_fix_as_reason_and_still_down_sites():
    # Bug caught: the reason for a change not naming the proof, or a still-down site not listed.
    sites = ef.compare_sites(BEFORE, AFTER, FIX)
    assert ef.change_lines(sites, AFTER) == [
        "edge2: down -> up (ssh host_key_mismatch -> up, o2ims refused -> up): "
        "address 198.18.102.10 -> 198.18.2.10, proven by ssh-ed25519 SHA256:abc"]
    nofix = {"sites": [{"site": "edge2", "status": "no_match", "msg": "edge2: no address offers its key"}]}
    sites = ef.compare_sites(BEFORE, BEFORE, nofix)
    assert ef.change_lines(sites, BEFORE) == [
        "edge2: still down (ssh host_key_mismatch, o2ims refused); address check: edge2: no address offers its key"]


def test_lines_change_without_fix_is_not_credited_to_the_run():
    # Bug caught: a site that came up by itself reported as fixed by this run.
    sites = ef.compare_sites(BEFORE, AFTER, {"sites": [{"site": "edge2", "status": "ok"}]})
    line = ef.change_lines(sites, AFTER)[0]
    assert line.endswith("no change made by this run (address check: ok); the site changed between the two probes")
    assert ef.change_lines(ef.compare_sites(AFTER, AFTER, {}), AFTER) == ["no site changed state"]


def test_side_by_side_pads_the_left_table():
    # Bug caught: columns not aligned when the tables differ in width or length.
    assert ef.side_by_side(["ab", "abcdefghijklmnopq"], ["x"]) == [
        "before the fix    | after the fix", "ab                | x", "abcdefghijklmnopq | "]


def test_summary_and_report():
    # Bug caught: the summary computed from the wrong probe, or the config's backup not reported.
    report = ef.fix_report(BEFORE, AFTER, FIX, config="/c.yml", known_hosts=None)
    assert report["summary"] == "1/2 -> 2/2 sites fully up"
    assert report["message"][-1] == report["summary"]
    assert "config: /c.yml fixed, backup /c.yml.bak" in report["message"]
    assert "ssh tuning, controller: skipped (set o2edge_ssh_client_config)" in report["message"]
    assert report["ssh_tuning"]["edges"] == "skipped (set o2edge_tune_edges=true)"
    assert "config: /other.yml unchanged" in ef.fix_report(BEFORE, AFTER, FIX, config="/other.yml")["message"]


def test_controller_outcome_reads_declared_outputs_only():
    # Bug caught: a controller that did not run the role reported as tuned; 'changed' of a loop lost.
    assert ef.controller_tuning({"inventory_hostname": "localhost"}) is None
    facts = {"ssh_tuning_client_config_abs": "/h/.ssh/config", "ssh_tuning_control_dir_abs": "/h/cm",
             "ssh_tuning_client_blocks": {"changed": True, "results": [{"item": "edge_sites"}, {"item": "ran"}]},
             "ssh_tuning_ansible_cfg_file": {"skipped": True, "changed": False}}
    out = ef.controller_tuning(facts)
    assert out == {"client_config": "/h/.ssh/config", "control_dir": "/h/cm", "groups": ["edge_sites", "ran"],
                   "changed": True, "ansible_cfg": None, "ansible_cfg_changed": False}
    assert ef.tuning_words(out, None, "a", "b") == ("client config /h/.ssh/config (changed)", "skipped (set b=true)")


def test_edge_outcomes_from_declared_outputs():
    # Bug caught: the loop copied into fix_edge_connectivity and optimize: a site without the role
    # listed, an unchanged site given a stale 'kept', check mode reported as written.
    hosts = [
        {"inventory_hostname": "edge1", "ssh_tuning_sshd": {"changed": True, "kind": "drop_in", "dest": "/d.conf"},
         "ssh_tuning_kept": True, "ssh_tuning_outcome": "edge1: sshd reloaded with the new settings and a fresh login works.",
         "ssh_tuning_sshd_settings": {"UseDNS": "no"}},
        {"inventory_hostname": "edge2", "ssh_tuning_sshd": {"changed": False, "kind": "block", "dest": "/etc/ssh/sshd_config"},
         "ssh_tuning_kept": True},
        {"inventory_hostname": "edge3", "ssh_tuning_sshd": {"changed": True, "dest": "/x"}},
        {"inventory_hostname": "edge4"},
    ]
    out = ef.edge_tuning(hosts)
    assert [o["site"] for o in out] == ["edge1", "edge2", "edge3"]
    assert out[0]["kept"] is True and out[0]["settings"] == {"UseDNS": "no"}
    assert out[1]["kept"] is None and out[1]["outcome"] == "edge2: /etc/ssh/sshd_config unchanged (already tuned)"
    assert out[2]["outcome"] == "edge3: /x would change (check mode, nothing written)"
    assert ef.tuning_words(None, out, "c", "e")[1] == (
        "edge1: sshd reloaded with the new settings and a fresh login works; edge2: /etc/ssh/sshd_config unchanged "
        "(already tuned); edge3: /x would change (check mode, nothing written)")


def test_optimize_lines():
    # Bug caught: the kpt line miscounting pulled/failed images or dropping the first render's time.
    applied = {"ssh_controller": {"client_config": "/c", "groups": ["edge_sites"], "changed": False, "ansible_cfg": "/a.cfg"},
               "ssh_edges": "skipped (set o2edge_tune_edges=true)",
               "kpt": {"images": {"images": ["a", "b"], "store": "podman", "pulled": ["a"], "failed": []},
                       "packages": 3, "image_pull_policy": "never", "render_cache": True, "function_sandbox": "bwrap",
                       "function_path_counts": {"oci": 2}, "total_median_s": 1.5, "cold_total_s": 2.5}}
    assert ef.optimize_lines(applied) == [
        "ssh, controller: /c (groups edge_sites; unchanged), ansible.cfg /a.cfg",
        "ssh, edges: skipped (set o2edge_tune_edges=true)",
        'kpt: 2 function image(s) in podman (1 pulled, 0 failed); render of 3 package(s) with --image-pull-policy never, '
        'cache on, sandbox bwrap {"oci": 2}, total 1.5 s (first render 2.5 s)']


def test_ansible_ssh_states():
    # Bug caught: a host-key mismatch reported as plain unreachable (site.yml's loop).
    hosts = [{"inventory_hostname": "a", "ansible_host": "198.18.1.10", "_o2edge_site_ping": {"ping": "pong"}},
             {"inventory_hostname": "b", "_o2edge_site_ping": {"unreachable": True, "msg": "Host key verification failed."}},
             {"inventory_hostname": "c", "_o2edge_site_ping": {"unreachable": True, "msg": "timed out"}}]
    assert ef.ansible_ssh_states(hosts, "_o2edge_site_ping") == {
        "a": {"address": "198.18.1.10", "ansible_ssh": "up"}, "b": {"address": "b", "ansible_ssh": "host_key_mismatch"},
        "c": {"address": "c", "ansible_ssh": "unreachable"}}


@pytest.mark.parametrize("call, field", [
    (lambda: ef.compare_sites({"matrix": []}, AFTER), "before.matrix"),
    (lambda: ef.compare_sites(BEFORE, AFTER, {"sites": [{"status": "fixed"}]}), "fix.sites[0]"),
    (lambda: ef.sites_up_summary({"matrix": {}, "summary": {}}, AFTER), "before.summary has no sites_up"),
    (lambda: ef.edge_tuning("edge1"), "edge sites' variables"),
])
def test_bad_input_names_the_field(call, field):
    # Bug caught: a wrong shape ending in a traceback (AttributeError) instead of a message naming it.
    with pytest.raises(ef.EdgeFixError, match=field.replace("[", r"\[").replace("]", r"\]")):
        call()


def test_filter_wraps_errors():
    # Bug caught: the filter letting the plain ValueError through (a traceback in the play).
    with pytest.raises(AnsibleFilterError, match="o2edge.perf.edge_fix_report: before.matrix"):
        flt.FilterModule().filters()["edge_fix_report"]({"matrix": 1}, AFTER, {})


def test_facts_per_site_skips_hosts_without_the_fact():
    # Bug caught: optimize's fn_images_edges listing a site the pre-cache did not run on, or losing the site name.
    hosts = [{"inventory_hostname": "edge1", "s": {"store": "podman"}}, {"inventory_hostname": "edge2"}]
    assert ef.facts_per_site(hosts, "s") == [{"store": "podman", "site": "edge1"}]
