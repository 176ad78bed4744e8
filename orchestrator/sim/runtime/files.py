"""Files every container has without mounting anything: what the runtime and the kubelet put there.

/etc/hostname, /etc/hosts and /etc/resolv.conf come from the pod sandbox; the cgroup v2 files show
the container's limits; the service account files exist unless automounting is turned off.
"""

from __future__ import annotations

from ..controllers.quota import container_amount

CFS_PERIOD_US = 100_000
CLUSTER_DOMAIN = "cluster.local"
CLUSTER_DNS_IP = "10.96.0.10"
OS_RELEASE = {
    "busybox": 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.20.3\nPRETTY_NAME="Alpine Linux v3.20"',
    "gnu": 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian',
}
SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount/"


def standard_file(pod: dict, container: dict, pod_ip: str, flavour: str, path: str) -> str | None:
    meta, spec = pod["metadata"], pod.get("spec") or {}
    ns = meta.get("namespace", "default")
    name = spec.get("hostname") or meta.get("name", "")
    if path in ("/dev/null", "/dev/stdin"):
        return ""
    if path == "/etc/hostname":
        return name
    if path == "/etc/hosts":
        return f"127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n{pod_ip}\t{name}"
    if path == "/etc/resolv.conf":
        search = f"{ns}.svc.{CLUSTER_DOMAIN} svc.{CLUSTER_DOMAIN} {CLUSTER_DOMAIN}"
        return f"search {search}\nnameserver {CLUSTER_DNS_IP}\noptions ndots:5"
    if path in ("/etc/os-release", "/usr/lib/os-release"):
        return OS_RELEASE.get(flavour, OS_RELEASE["gnu"])
    if path == "/sys/fs/cgroup/memory.max":
        limit = container_amount(container, "limits", "memory")
        return str(int(limit)) if limit else "max"
    if path == "/sys/fs/cgroup/cpu.max":
        cpu = container_amount(container, "limits", "cpu")
        return f"{int(cpu * CFS_PERIOD_US)} {CFS_PERIOD_US}" if cpu else f"max {CFS_PERIOD_US}"
    if path.startswith(SA_DIR) and spec.get("automountServiceAccountToken", True) is not False:
        return {
            "namespace": ns,
            "token": "eyJhbGciOiJSUzI1NiJ9.sim.token",
            "ca.crt": "-----BEGIN CERTIFICATE-----",
        }.get(path[len(SA_DIR) :])
    return None
