"""The edge sites: host keys and the lab PKI, sshd in its own mount namespace, Prometheus,
node-exporter and the stand-ins."""
import os
import shutil

import yaml

from .common import (CTL, FULL_SERVICES, HERE, MGMT_IP, SITES, edge_ip, edge_ns, path, run, write)
from .procs import start


def keygen(p, comment):
    if not os.path.exists(p):
        os.makedirs(os.path.dirname(p), exist_ok=True)
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", p])
    with open(p + ".pub") as f:
        return f.read().strip()


def make_pki():
    d = path("pki")
    os.makedirs(d, exist_ok=True)
    os.chmod(d, 0o700)

    def ca(name, cn):
        if not os.path.exists(os.path.join(d, name + ".crt")):
            run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                 "-nodes", "-days", "3650", "-subj", "/CN=" + cn,
                 "-keyout", os.path.join(d, name + ".key"), "-out", os.path.join(d, name + ".crt")])

    ca("ca", "o2lab CA")
    ca("wrong-ca", "o2lab wrong CA")
    if not os.path.exists(os.path.join(d, "token")):
        write(os.path.join(d, "token"), os.urandom(24).hex() + "\n", 0o600)
    for site, v in SITES.items():
        if not v["full"]:
            continue
        crt = os.path.join(d, site + ".crt")
        if os.path.exists(crt):
            continue
        key, csr = os.path.join(d, site + ".key"), os.path.join(d, site + ".csr")
        ext = os.path.join(d, site + ".ext")
        write(ext, "subjectAltName=IP:%s,DNS:%s,DNS:kubernetes,DNS:kubernetes.default.svc\n"
                   "extendedKeyUsage=serverAuth\n" % (edge_ip(v["idx"]), site))
        run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-nodes", "-subj", "/CN=kube-apiserver-standin-" + site, "-keyout", key, "-out", csr])
        run(["openssl", "x509", "-req", "-in", csr, "-CA", os.path.join(d, "ca.crt"),
             "-CAkey", os.path.join(d, "ca.key"), "-CAcreateserial", "-days", "825",
             "-extfile", ext, "-out", crt])


SSHD_CONFIG = """# o2edge lab sshd for {site} (this edge's own /etc/ssh, bind-mounted in its mount namespace)
{listen}
Port 22
HostKey /etc/ssh/ssh_host_ed25519_key
PidFile /run/sshd.pid
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
AuthorizedKeysFile /etc/ssh/authorized_keys/%u
UsePAM no
UseDNS no
X11Forwarding no
Subsystem sftp /usr/lib/openssh/sftp-server
"""


def make_edge_files(site, idx, client_pub, ips=None):
    base = path("edges", site)
    etc = os.path.join(base, "etc-ssh")
    os.makedirs(os.path.join(etc, "authorized_keys"), exist_ok=True)
    for d in (base, etc, os.path.join(etc, "authorized_keys")):
        os.chmod(d, 0o755)
    host_pub = keygen(os.path.join(etc, "ssh_host_ed25519_key"), "root@" + site)
    if not os.path.exists(os.path.join(etc, "sshd_config")):
        listen = "\n".join("ListenAddress %s" % ip for ip in (ips or [edge_ip(idx)]))
        write(os.path.join(etc, "sshd_config"), SSHD_CONFIG.format(site=site, listen=listen))
    if os.path.exists("/etc/ssh/moduli") and not os.path.exists(os.path.join(etc, "moduli")):
        shutil.copy("/etc/ssh/moduli", os.path.join(etc, "moduli"))
    write(os.path.join(etc, "authorized_keys", "root"), client_pub + "\n", 0o600)
    for sub in ("run/sshd", "containers"):
        os.makedirs(os.path.join(base, sub), exist_ok=True)
    os.chmod(os.path.join(base, "run"), 0o755)
    os.chmod(os.path.join(base, "run", "sshd"), 0o755)
    return host_pub


def start_sshd(site, idx):
    base = path("edges", site)
    os.makedirs("/var/lib/containers", exist_ok=True)
    script = ("mount --bind {b}/etc-ssh /etc/ssh && mount --bind {b}/run /run && "
              "mount --bind {b}/containers /var/lib/containers && "
              "exec /usr/sbin/sshd -D -e -f /etc/ssh/sshd_config").format(b=base)
    start(site + "-ssh", ["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
          ns=edge_ns(site), marker="sshd")  # sshd rewrites its command line; the netns tells it apart


def prom_config(jobs, rule_files=None):
    """``jobs``: (job, targets, labels[, job options such as honor_labels]); ``rule_files``: globs to load."""
    scrape = {}
    for job, targets, labels, *opts in jobs:  # one job, one static_config per site
        scrape.setdefault(job, dict({"job_name": job}, **(opts[0] if opts else {}), static_configs=[]))
        scrape[job]["static_configs"].append({"targets": targets, "labels": labels})
    cfg = {"global": {"scrape_interval": "5s", "evaluation_interval": "5s"}}
    if rule_files:
        cfg["rule_files"] = list(rule_files)
    cfg["scrape_configs"] = list(scrape.values())
    return yaml.safe_dump(cfg, sort_keys=False)


def prom_rules_dir(name):
    """Where a lab Prometheus loads alerting and recording rules from (``*.rules.yml``; the
    ``*.rules.test.yml`` promtool cases beside them are not rule files)."""
    return path("prom", name, "rules")


def start_prometheus(name, ns, ip, jobs, rule_files=None):
    """``rule_files`` None: the ``*.rules.yml`` of prom_rules_dir(name), so a Prometheus restarted
    after a fault (faults.py) loads the same rules; POST /-/reload (lifecycle API) re-reads them."""
    base = path("prom", name)
    os.makedirs(os.path.join(base, "data"), exist_ok=True)
    os.makedirs(prom_rules_dir(name), exist_ok=True)
    if rule_files is None:
        rule_files = [os.path.join(prom_rules_dir(name), "*.rules.yml")]
    write(os.path.join(base, "prometheus.yml"), prom_config(jobs, rule_files))
    start(name + "-prometheus", ["/usr/bin/prometheus", "--config.file=" + base + "/prometheus.yml",
                                 "--storage.tsdb.path=" + base + "/data",
                                 "--web.listen-address=%s:9090" % ip, "--web.enable-lifecycle",
                                 "--storage.tsdb.retention.time=1d"], ns=ns, marker=base)


def textfile_dir():
    """node-exporter's textfile directory on the management side (perf_monitoring installs metrics there)."""
    return path("textfile")


def start_mgmt_node_exporter():
    """node-exporter in the controller namespace with the textfile collector only: what the
    perf_monitoring role's metrics.prom reaches the management Prometheus through."""
    os.makedirs(textfile_dir(), exist_ok=True)
    start("mgmt-node_exporter", ["/usr/bin/prometheus-node-exporter", "--collector.disable-defaults",
                                 "--collector.textfile", "--collector.textfile.directory=" + textfile_dir(),
                                 "--web.listen-address=%s:9100" % MGMT_IP],
          ns=CTL, marker="%s:9100" % MGMT_IP)


def mgmt_jobs():
    """The management Prometheus scrapes itself, its own node-exporter (the textfile metrics of
    o2edge.perf runs: honor_labels keeps their own site label) and every healthy edge."""
    jobs = [("prometheus", ["%s:9090" % MGMT_IP], {"site": "mgmt"}),
            ("mgmt_node", ["%s:9100" % MGMT_IP], {"site": "mgmt"}, {"honor_labels": True})]
    for job, port in (("edge_node", 9100), ("edge_prometheus", 9090)):
        jobs += [(job, ["%s:%d" % (edge_ip(v["idx"]), port)], {"site": s}) for s, v in SITES.items() if v["full"]]
    return jobs


def start_edge_services(site, idx, only=None):
    ip, ns = edge_ip(idx), edge_ns(site)
    want = only or FULL_SERVICES
    if "ssh" in want:
        start_sshd(site, idx)
    if not SITES.get(site, {}).get("full"):
        return
    if "node_exporter" in want:
        start(site + "-node_exporter", ["/usr/bin/prometheus-node-exporter",
                                        "--web.listen-address=%s:9100" % ip,
                                        "--collector.disable-defaults", "--collector.cpu",
                                        "--collector.meminfo", "--collector.loadavg",
                                        "--collector.filesystem", "--collector.netdev",
                                        "--collector.uname", "--collector.time"],
              ns=ns, marker="%s:9100" % ip)
    if "prometheus" in want:
        start_prometheus(site, ns, ip, [("prometheus", ["%s:9090" % ip], {"site": site}),
                                        ("node", ["%s:9100" % ip], {"site": site})])
    pki = path("pki")
    if "kubernetes" in want:
        start(site + "-kubernetes", ["/usr/bin/python3", os.path.join(HERE, "standin.py"), "kube",
                                     "--listen", ip, "--port", "6443", "--site", site,
                                     "--cert", os.path.join(pki, site + ".crt"),
                                     "--key", os.path.join(pki, site + ".key"),
                                     "--token-file", os.path.join(pki, "token")],
              ns=ns, marker="standin.py kube --listen " + ip)
    if "o2ims" in want:
        start(site + "-o2ims", ["/usr/bin/python3", os.path.join(HERE, "standin.py"), "o2ims",
                                "--listen", ip, "--port", "8080", "--site", site],
              ns=ns, marker="standin.py o2ims --listen " + ip)
