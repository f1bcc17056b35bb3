"""Run one ansible-runner job through its Python API and print what it did as one JSON line:

    python tests/slices/job.py PRIVATE_DATA_DIR PLAYBOOK IDENT

``status``, ``rc``, ``seconds`` (wall), ``maxrss_kb`` of this process (ansible-runner itself: it
holds the job's events) and ``children_maxrss_kb`` (the largest process of the job:
ansible-playbook or one of its workers, from getrusage once they are reaped). One process per
job, as AWX runs each slice as its own job, so each job's memory is measured apart.
"""
import json
import resource
import sys
import time

import ansible_runner


def main(argv):
    private_data_dir, playbook, ident = argv
    start = time.monotonic()
    runner = ansible_runner.run(private_data_dir=private_data_dir, playbook=playbook, ident=ident, quiet=True)
    seconds = time.monotonic() - start
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps({"ident": ident, "status": runner.status, "rc": runner.rc, "seconds": round(seconds, 3),
                      "maxrss_kb": own, "children_maxrss_kb": children}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
