#!/usr/bin/python
# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: sshd_drop_in
short_description: Put sshd settings in a drop-in file or a managed block, validated with sshd -t first
version_added: 1.0.0
description:
  - Writes O(settings) as a drop-in file O(drop_in) when the main sshd configuration O(main_config) includes it
    (an C(Include) line outside C(Match) whose pattern names the file), else as a marked managed block at the top
    of O(main_config) (sshd keeps the first value it reads, so the top is where settings count).
  - The complete resulting configuration is validated with C(sshd -t) before it counts. A managed block is written
    to a candidate file beside the main config, validated with C(sshd -t -f <candidate>) and only then moved into
    place. A drop-in is moved into place, the main config is validated with it present, and when sshd refuses it
    the previous drop-in is put back (or the new one removed); the task then fails with sshd's message.
  - Before a change, a backup of the file it replaces is kept in O(backup_dir) (C(<name>.orig)), or a marker
    C(<name>.absent) when the file did not exist, for a later rollback.
  - Does not reload sshd; it returns what a reload needs (the service manager and unit, or sshd's pid file).
author:
  - o2edge.perf contributors (@o2edge)
attributes:
  check_mode:
    description: >-
      Reports the change and the diff without writing to the target; a managed block is still validated
      (as a temporary candidate outside the sshd directory); a drop-in cannot be validated without being placed.
  platform:
    support: full
    platforms: posix
    description: Runs on the target host; Python 3.9 or later, standard library only, OpenSSH sshd.
options:
  settings:
    description:
      - sshd keyword -> value, written in this order, one line each. Booleans become C(yes)/C(no), lists are
        joined by spaces. C(Match) and C(Include) are refused; a keyword may appear once (case-insensitive).
    type: dict
    required: true
  main_config:
    description: The main sshd configuration file.
    type: path
    default: /etc/ssh/sshd_config
  drop_in:
    description: The drop-in file used when O(main_config) includes it.
    type: path
    default: /etc/ssh/sshd_config.d/50-o2edge-tuning.conf
  mode:
    description:
      - V(auto) - a drop-in when O(main_config) includes O(drop_in), else a managed block.
      - V(drop_in) - a drop-in; fails when O(main_config) does not include it.
      - V(block) - a managed block in O(main_config).
    type: str
    choices: [auto, drop_in, block]
    default: auto
  marker:
    description: Names the managed block's C(# BEGIN)/C(# END) lines and the drop-in's first line.
    type: str
    default: o2edge.perf ssh_tuning
  backup_dir:
    description: Folder (created 0700) for the backup of the replaced file.
    type: path
    default: /run/o2edge-ssh-tuning
  sshd:
    description: The sshd binary; found on PATH, C(/usr/sbin) and C(/sbin) when not given.
    type: path
notes:
  - C(sshd -t) and C(sshd -T) read the host keys, so the module needs root (become) on most hosts.
extends_documentation_fragment:
  - o2edge.perf.attributes.writes
"""

EXAMPLES = r"""
- name: Tune sshd (drop-in when sshd_config includes sshd_config.d/*.conf, else a block at its top)
  o2edge.perf.sshd_drop_in:
    settings:
      ClientAliveInterval: 15
      ClientAliveCountMax: 3
      UseDNS: false
      MaxStartups: "20:30:100"
  register: tuned
"""

RETURN = r"""
kind:
  description: V(drop_in) or V(block), what was (or would be) written.
  returned: always
  type: str
dest:
  description: The file written (the drop-in, or the main config for a block).
  returned: always
  type: str
lines:
  description: The setting lines as written.
  returned: always
  type: list
  elements: str
backup:
  description: The backup of the replaced file (C(.orig)) or the marker that it did not exist (C(.absent)).
  returned: when changed and not in check mode
  type: str
backup_absent:
  description: True when the replaced file did not exist (a rollback removes it).
  returned: when changed and not in check mode
  type: bool
validated:
  description: Whether C(sshd -t) accepted the complete resulting configuration during this run.
  returned: always
  type: bool
effective:
  description: C(sshd -T) values of the written keywords (lower-case keys, lists of values) after the run.
  returned: when sshd -T succeeds
  type: dict
overridden:
  description: Settings that sshd does not use because another line is read first (keyword, wanted, effective).
  returned: always
  type: list
  elements: dict
pidfile:
  description: sshd's pid file (C(sshd -T) C(pidfile)), for a reload by SIGHUP.
  returned: when sshd -T succeeds
  type: str
service_manager:
  description: V(systemd) when systemd runs the host, else V(none).
  returned: always
  type: str
service:
  description: The sshd unit under systemd (V(ssh) or V(sshd)), else empty.
  returned: always
  type: str
"""

import os
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.o2edge.perf.plugins.module_utils.edge import _sshd

UNIT_DIRS = ("/etc/systemd/system", "/run/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system")


def service_manager():
    if not os.path.isdir("/run/systemd/system"):
        return "none", ""
    for unit in ("ssh", "sshd"):
        if any(os.path.exists(os.path.join(d, unit + ".service")) for d in UNIT_DIRS):
            return "systemd", unit
    return "systemd", "sshd"


def main():
    module = AnsibleModule(
        argument_spec=dict(
            settings=dict(type="dict", required=True),
            main_config=dict(type="path", default="/etc/ssh/sshd_config"),
            drop_in=dict(type="path", default="/etc/ssh/sshd_config.d/50-o2edge-tuning.conf"),
            mode=dict(type="str", default="auto", choices=["auto", "drop_in", "block"]),
            marker=dict(type="str", default="o2edge.perf ssh_tuning"),
            backup_dir=dict(type="path", default="/run/o2edge-ssh-tuning"),
            sshd=dict(type="path"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    sshd = p["sshd"] or module.get_bin_path("sshd", required=True, opt_dirs=["/usr/sbin", "/sbin"])

    def validate(path):
        rc, _out, err = module.run_command([sshd, "-t", "-f", path])
        return rc == 0, (err or _out).strip() or "exit code %d" % rc

    header = "# Written by the o2edge.perf.ssh_tuning role; see its README."
    try:
        lines = _sshd.render_settings(p["settings"])
        main_text = _sshd.read_text(p["main_config"], what="the main sshd config")
        if main_text is None:
            module.fail_json(msg="the main sshd config %s does not exist" % p["main_config"])
        sshdir = os.path.dirname(p["main_config"])
        mode = _sshd.choose_mode(p["mode"], main_text, p["drop_in"], sshdir)
        if mode == "block":
            target, old = p["main_config"], main_text
            new = _sshd.with_block(main_text, p["marker"], lines, header)
        else:
            target = p["drop_in"]
            old = _sshd.read_text(target, what="the drop-in")
            new = _sshd.drop_in_text(p["marker"], lines, header)
    except _sshd.SshdConfigError as exc:
        module.fail_json(msg=str(exc))

    warnings = []
    if mode == "drop_in" and _sshd.find_block(main_text, p["marker"]) is not None:
        warnings.append("%s still holds a managed block %r from an earlier run; it is read before the drop-in and wins"
                        % (p["main_config"], p["marker"]))
    changed = old != new
    result = dict(changed=changed, kind=mode, dest=target, lines=lines, validated=False, overridden=[])
    if changed and module._diff:
        result["diff"] = dict(before=old or "", after=new, before_header=target, after_header=target)
    if changed and module.check_mode:
        if mode == "block":
            fd, tmp = tempfile.mkstemp(prefix="o2edge-sshd-candidate-")
            try:
                with os.fdopen(fd, "w") as f:
                    f.write(new)
                ok, message = validate(tmp)
            finally:
                os.unlink(tmp)
            if not ok:
                module.fail_json(msg="sshd -t refuses the configuration with the new settings (check mode, nothing "
                                     "written): %s" % message, **result)
            result["validated"] = True
    elif changed:
        try:
            backup, absent = _sshd.write_validated(target, new, p["main_config"], validate, p["backup_dir"],
                                                   validate_candidate=(mode == "block"), move=module.atomic_move)
        except _sshd.SshdConfigError as exc:
            result["changed"] = False
            module.fail_json(msg=str(exc), **result)
        result.update(backup=backup, backup_absent=absent, validated=True)

    rc, out, _err = module.run_command([sshd, "-T", "-f", p["main_config"]])
    if rc == 0:
        eff = _sshd.parse_sshd_T(out)
        result["effective"] = dict((k.split()[0].lower(), eff.get(k.split()[0].lower(), [])) for k in lines)
        result["pidfile"] = (eff.get("pidfile") or [""])[0]
        if not (changed and module.check_mode):
            result["overridden"] = _sshd.overridden(lines, eff)
            for item in result["overridden"]:
                warnings.append("sshd uses %(keyword)s %(effective)s, not %(wanted)s: a line read earlier wins" % item)
    result["service_manager"], result["service"] = service_manager()
    for warning in warnings:
        module.warn(warning)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
