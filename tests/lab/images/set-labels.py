"""kpt function (image kpt-fn/set-labels, Python on the host distribution's interpreter): adds the
labels of functionConfig.data (a ConfigMap, from configMap: or configPath: in the Kptfile) to
metadata.labels of every item except the Kptfile. Reads a ResourceList on stdin, writes it back."""
import sys

import yaml


def main():
    rl = yaml.safe_load(sys.stdin) or {}
    config = rl.get("functionConfig") or {}
    labels = config.get("data") or {}
    if config.get("kind") != "ConfigMap" or not labels:
        sys.stderr.write("set-labels: functionConfig must be a ConfigMap with labels in data\n")
        return 1
    for item in rl.get("items") or []:
        if item.get("kind") == "Kptfile":
            continue
        meta = item.setdefault("metadata", {})
        merged = dict(meta.get("labels") or {})
        merged.update((str(k), str(v)) for k, v in labels.items())
        meta["labels"] = merged
    yaml.safe_dump(rl, sys.stdout, default_flow_style=False, sort_keys=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
