#!/usr/bin/python3
"""kpt exec function: set metadata.annotations from functionConfig.data on every item.

Reads a ResourceList (YAML) on stdin, writes it back on stdout. Used by the lab's packages.
"""
import sys

import yaml


def main():
    rl = yaml.safe_load(sys.stdin) or {}
    cfg = (rl.get("functionConfig") or {}).get("data") or {}
    for item in rl.get("items") or []:
        meta = item.setdefault("metadata", {})
        ann = meta.get("annotations") or {}
        ann.update({str(k): str(v) for k, v in cfg.items()})
        meta["annotations"] = ann
    yaml.safe_dump(rl, sys.stdout, default_flow_style=False, sort_keys=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
