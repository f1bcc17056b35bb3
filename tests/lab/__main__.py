"""python -m tests.lab up | down | status [--json] | leftovers | fault SITE SERVICE ACTION | exec -- CMD
                    | fault SITE cpu-hog start [--seconds N] [--workers K] | fault SITE cpu-hog restore
                    | sim up N [--blackhole-every K] | sim down"""
import argparse
import json
import sys

from . import faults, lab, sim


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m tests.lab", description=lab.__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("up", help="bring the lab up (idempotent; cleans leftovers of an earlier lab)")
    sub.add_parser("down", help="stop and remove everything the lab started")
    st = sub.add_parser("status", help="what runs")
    st.add_argument("--json", action="store_true")
    sub.add_parser("leftovers", help="list lab processes, namespaces, routes, mounts (exit 1 if any)")
    f = sub.add_parser("fault", help="break or restore a service or a whole site")
    f.add_argument("site", help="edge1..edge4 or mgmt")
    f.add_argument("service", help="ssh, prometheus, node_exporter, kubernetes, o2ims, registry, site, or cpu-hog")
    f.add_argument("action", choices=["down", "blackhole", "restore", "start"], help="start: cpu-hog only")
    f.add_argument("--seconds", type=float, default=None, help="cpu-hog: the busy processes end after N s (default 60)")
    f.add_argument("--workers", type=int, default=None, help="cpu-hog: K busy processes (default: one per CPU)")
    sm = sub.add_parser("sim", help="simulated edge sites at scale (198.19.0.0/16, one namespace)")
    sm.add_argument("action", choices=["up", "down"])
    sm.add_argument("count", nargs="?", type=int, default=1000)
    sm.add_argument("--blackhole-every", type=int, default=10, help="drop every K-th site's packets (0: none)")
    e = sub.add_parser("exec", help="run a command in the controller namespace with the lab env")
    e.add_argument("argv", nargs=argparse.REMAINDER)
    a = p.parse_args(argv)
    try:
        if a.cmd == "up":
            lab.up()
        elif a.cmd == "down":
            lab.down()
        elif a.cmd == "status":
            st = lab.status()
            if a.json:
                print(json.dumps(st, indent=2))
            else:
                lines = ["lab %s (%s)" % ("UP" if st["up"] else "NOT UP", st["lab_dir"])]
                lines += ["  %-24s %s" % (name, "running pid %s" % c["pid"] if c["running"] else "stopped")
                          for name, c in st["components"].items()]
                print("\n".join(lines))
            return 0 if st["up"] else 3
        elif a.cmd == "leftovers":
            left = lab.leftovers()
            print(json.dumps(left, indent=2))
            return 1 if any(left.values()) else 0
        elif a.cmd == "fault":
            faults.fault(a.site, a.service, a.action, seconds=a.seconds, workers=a.workers)
        elif a.cmd == "sim":
            if a.action == "up":
                print(sim.sim_up(a.count, a.blackhole_every))
            else:
                sim.sim_down()
        elif a.cmd == "exec":
            argv = a.argv[1:] if a.argv[:1] == ["--"] else a.argv
            return lab.exec_in_controller(argv)
    except lab.LabError as exc:
        sys.stderr.write("lab: error: %s\n" % exc)
        return 2
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # `status | head`: the reader left, nothing is wrong
        sys.exit(0)
