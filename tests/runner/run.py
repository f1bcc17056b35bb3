"""Execution environment and ansible-runner checks, standalone (no lab needed).

    .venv/bin/python tests/runner/run.py            # every check, 30-60 s
    .venv/bin/python tests/runner/run.py worker     # the checks whose name holds "worker"
    .venv/bin/python tests/runner/run.py --lab      # also o2edge.perf.connectivity through
                                                    # ansible-runner in the lab (under flock)

Builds the collection from the working tree into a temporary folder, installs it there, and runs
each check on its own copy of the example private data directory runner/. Prints one line per
check and `N passed, N failed`; exits non-zero when any check fails.
"""
import argparse
import os
import shutil
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402  pylint: disable=wrong-import-position
import ee_checks  # noqa: E402  pylint: disable=wrong-import-position
import lab_checks  # noqa: E402  pylint: disable=wrong-import-position
import runner_checks  # noqa: E402  pylint: disable=wrong-import-position
import worker_checks  # noqa: E402  pylint: disable=wrong-import-position


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("select", nargs="*", help="run only checks whose name contains one of these words")
    parser.add_argument("--lab", action="store_true", help="also run the lab check (takes /tmp/o2lab.lock)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder and print its path")
    args = parser.parse_args(argv)
    checks = ee_checks.CHECKS + runner_checks.CHECKS + worker_checks.CHECKS + (lab_checks.CHECKS if args.lab else [])
    if args.select:
        checks = [c for c in checks if any(word in c[0] for word in args.select)]
    tmp = tempfile.mkdtemp(prefix="o2edge-runner-")
    passed = failed = 0
    start = time.monotonic()
    try:
        try:
            ctx = common.Context(tmp)
        except Exception as exc:  # without the collection no check can run
            print("FAIL building and installing the collection: %s" % exc, flush=True)
            print("0 passed, %d failed" % len(checks))
            return 1
        for name, fn in checks:
            t0 = time.monotonic()
            try:
                fn(ctx)
            except Exception as exc:  # a failing check is reported, the others still run
                failed += 1
                frame = traceback.extract_tb(exc.__traceback__)[-1]
                detail = str(exc) or "%s:%d: %s" % (os.path.basename(frame.filename), frame.lineno, frame.line)
                if not isinstance(exc, AssertionError):
                    detail = "%s: %s" % (type(exc).__name__, detail)
                print("FAIL %-72s %5.1fs  %s" % (name, time.monotonic() - t0, detail), flush=True)
            else:
                passed += 1
                print("PASS %-72s %5.1fs" % (name, time.monotonic() - t0), flush=True)
    finally:
        if args.keep:
            print("kept %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print("took %.1fs" % (time.monotonic() - start))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
