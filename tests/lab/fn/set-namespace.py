#!/usr/bin/python3
"""kpt exec function: set metadata.namespace on every namespaced item.

functionConfig.data.namespace names the namespace. Namespace objects themselves are renamed.
"""
import sys

import yaml

CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition"}


def main():
    rl = yaml.safe_load(sys.stdin) or {}
    ns = ((rl.get("functionConfig") or {}).get("data") or {}).get("namespace")
    if not ns:
        sys.stderr.write("set-namespace: functionConfig.data.namespace is required\n")
        return 1
    for item in rl.get("items") or []:
        meta = item.setdefault("metadata", {})
        if item.get("kind") == "Namespace":
            meta["name"] = ns
        elif item.get("kind") not in CLUSTER_SCOPED and item.get("kind") != "Kptfile":
            meta["namespace"] = ns
    yaml.safe_dump(rl, sys.stdout, default_flow_style=False, sort_keys=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
