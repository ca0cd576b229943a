"""A ward: one side of a test put behind a strict firewall or a poor link, the rest of the test
run untouched.

The run's namespace (tests/netns.py) is shared by every xdist worker, so nothing filters or shapes
it. A ward is two namespaces of its own, made for one test and removed after it:

    the run's namespace            gate: the firewall and the link            the ward
    10.77.0.1, 10.77.0.2  wdNt ──veth── 10.78.N.2  FORWARD chain  10.79.N.1 ──veth── `address` 10.79.N.2
    (route to 10.79.N.0/24)             tbf on both egresses                  (default route: the gate)
                                        NFQUEUE on arrival (raw PREROUTING) to the delay line

What runs in the ward (`run`, `popen`, `socket`, Playwright's Chromium through `chromium()`)
reaches the run's namespace only through the gate, which routes like a hospital's router:
`block_udp` makes it a strict firewall, `shape` a poor link, both ways. Everything is done in
the gate, so the ward's own sockets see what a machine behind such a network sees: packets that
vanish without an error (a DROP on a machine's own OUTPUT chain would fail its `sendto()` with
EPERM, ../shared/notes/webrtc-scale-here.md §4). The run's namespace gets the end of the veth
pair, without an address, and two routes to the ward's network, all gone with the ward: the ICE
stacks of the other tests running meanwhile gather nothing new (tests/test_netns.py).

Services a ward's process must reach listen on one of the run's own addresses, `outside` for
instance, not on 127.0.0.1 (the ward has a loopback of its own;
a page served over plain HTTP there is no secure context, so Chromium gives it no camera: serve it
over HTTPS, or pass --unsafely-treat-insecure-origin-as-secure=ORIGIN). The ward speaks IPv4 only
(nothing passes around the gate's rules) and, as in the run's namespace, the machine's name servers
are unreachable from it: a lookup fails at once.

The delay: this kernel has no netem (nor fq, cake or any qdisc that holds a packet for a time),
so the gate queues every arriving packet to user space (iptables' NFQUEUE, the kernel's
nfnetlink_queue) and a process of the gate, the delay line (`DelayLine`, raw netlink, real-time
priority), gives each back to the kernel its delay after it arrived, in order; nothing in the
packets changes (ICE, DTLS and TCP see the same addresses), only their metadata crosses to user
space. Measured through the gate at 150 ms each way: 150.0 ms at least, 150.1 median, 150.5 at
most, at 3.3 Mbit/s with no packet lost or overtaken; late by 0.3 ms at most under three busy
processes on two cores (tests/test_ward.py). Issue 16's link, "500 kbit/s, 5 % loss, 300 ms delay",
is taken as 300 ms of round trip, 150 ms each way: the delay a call's two ends measure and report
(RTCP's round-trip time, ICE's currentRoundTripTime), and ITU-T G.114's 150 ms one way, beyond which
a conversation suffers. The token bucket's queue adds up to `queue_ms` more when the link is full.

    with ward(tmp_path / "ward") as w:
        w.shape(500, loss=0.05, delay_ms=150)   # 500 kbit/s, 5 % of the packets lost, 150 ms, each way
        browser = playwright.chromium.launch(executable_path=w.chromium(), args=[...])
        ...                                     # its pages open https://{w.outside}:PORT/...
        w.dropped()                             # {"loss-up": 41, "loss-down": 260, "queue-down": 12, ...}

N is claimed by creating the veth `wdNt` in the run's namespace (refused if another worker holds
it); the namespaces are named after this process, so two workers, or two runs, never clash.
Needs root and the run's own namespace (TELECART_TEST_NETNS=inside): `Ward.unavailable()` says why
not, for a test to skip.
"""

from __future__ import annotations

import contextlib
import ctypes
import itertools
import json
import os
import random
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tests.netns import ADDRESSES, OFF, _name_servers

CLONE_NEWNET = 0x40000000
PREFIX = "telecart-"  # the namespaces' names: telecart-ward-PID-K, telecart-gate-PID-K
IP, IPTABLES, TC = "/usr/sbin/ip", "/usr/sbin/iptables", "/usr/sbin/tc"
MTU_FRAME = 1514  # the largest frame on a veth: a token bucket's burst must hold one
DELAY_QUEUES = {"up": 0, "down": 1}  # the gate's NFQUEUE numbers, one per direction
ROOT = Path(__file__).resolve().parent.parent  # where `python -m tests.ward` runs from
_made = itertools.count(1)


class WardError(RuntimeError):
    pass


def _run(*command: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(list(command), capture_output=True, text=True, timeout=30)
    if check and done.returncode != 0:
        raise WardError(f"{' '.join(command)}: {done.stderr.strip() or done.stdout.strip()}")
    return done


@dataclass
class Ward:
    number: int
    name: str  # the ward's namespace
    gate: str  # the gate's namespace
    directory: Path
    _processes: list[subprocess.Popen] = field(default_factory=list)
    _delay_line: subprocess.Popen | None = None
    _delay_ms: int = 0
    delay_reports: list[dict] = field(default_factory=list)  # what each delay line said when it stopped

    # --- addresses ------------------------------------------------------------------------------

    @property
    def address(self) -> str:
        """The ward's own address, as the run's namespace sees it."""
        return f"10.79.{self.number}.2"

    @property
    def outside(self) -> str:
        """An address of the run's namespace (tests/netns.py's tn0), where services the ward uses
        may listen; the run's other address (tn1) is as reachable."""
        return ADDRESSES["tn0"].split("/")[0]

    @property
    def _up(self) -> str:  # the gate's interface towards the run's namespace: its egress is the ward's uplink
        return f"wd{self.number}g"

    @property
    def _down(self) -> str:  # the gate's interface towards the ward: its egress is the ward's downlink
        return f"wd{self.number}i"

    @staticmethod
    def unavailable() -> str | None:
        """Why no ward can be made here (None: it can)."""
        if os.geteuid() != 0:
            return "a ward needs root"
        if os.environ.get(OFF) != "inside":
            return "a ward is made from the test run's own network namespace (tests/netns.py), not the machine's"
        missing = [tool for tool in (IP, IPTABLES, TC) if not shutil.which(tool)]
        return f"missing {', '.join(missing)} (scripts/bootstrap test)" if missing else None

    # --- processes inside -------------------------------------------------------------------------

    def command(self, argv: Sequence[str]) -> list[str]:
        """`argv` run inside the ward."""
        return [IP, "netns", "exec", self.name, *argv]

    def run(self, argv: Sequence[str], **options: object) -> subprocess.CompletedProcess:
        return subprocess.run(self.command(argv), **options)  # type: ignore[call-overload]

    def popen(self, argv: Sequence[str], **options: object) -> subprocess.Popen:
        """A process inside the ward, ended with the ward if still running."""
        process = subprocess.Popen(self.command(argv), **options)  # type: ignore[call-overload]
        self._processes.append(process)
        return process

    def socket(self, family: int = socket.AF_INET, kind: int = socket.SOCK_DGRAM) -> socket.socket:
        """A socket of the ward, for this process to use: made by a short-lived thread that moves
        into the ward's namespace (a socket keeps the namespace it was made in)."""
        made: dict[str, object] = {}

        def inside() -> None:
            try:
                fd = os.open(f"/run/netns/{self.name}", os.O_RDONLY)
                try:
                    if _libc().setns(fd, CLONE_NEWNET) != 0:
                        raise OSError(ctypes.get_errno(), f"setns: {os.strerror(ctypes.get_errno())}")
                finally:
                    os.close(fd)
                made["socket"] = socket.socket(family, kind)
            except BaseException as exc:  # noqa: BLE001 (raised in the caller's thread)
                made["error"] = exc

        thread = threading.Thread(target=inside, name=f"{self.name}-socket")
        thread.start()
        thread.join()
        if "error" in made:
            raise made["error"]  # type: ignore[misc]
        return made["socket"]  # type: ignore[return-value]

    def chromium(self, executable: str = "/usr/bin/chromium", env: dict[str, str] | None = None) -> str:
        """An executable for Playwright's `launch(executable_path=...)` that starts Chromium inside
        the ward (with `env` added, e.g. HOME holding an NSS database of trusted authorities).
        `ip netns exec` and `env` exec in place, so Playwright's pipes and its process are Chromium's."""
        wrapper = self.directory / f"chromium-in-{self.name}"
        settings = " ".join(f"{key}={_shell_quote(value)}" for key, value in (env or {}).items())
        wrapper.write_text(f'#!/bin/sh\nexec {IP} netns exec {self.name} /usr/bin/env {settings} {executable} "$@"\n', encoding="utf-8")
        wrapper.chmod(0o755)
        return str(wrapper)

    # --- the firewall ------------------------------------------------------------------------------

    def block_udp(self, allow_tcp: Sequence[tuple[str, int]] = ()) -> None:
        """A strict hospital firewall between the ward and the rest: every UDP packet dropped, both
        ways; the ward may open TCP connections to `allow_tcp` (host, port) only, whose packets pass
        both ways; anything else is dropped too (whatever was allowed before). Silent drops: the
        ward's `sendto()` succeeds and nothing arrives. `dropped()` counts what each rule dropped."""
        rules = [["-p", "udp", "-m", "comment", "--comment", "ward:udp", "-j", "DROP"]]
        for host, port in allow_tcp:
            rules += [["-i", self._down, "-o", self._up, "-p", "tcp", "-d", host, "--dport", str(port), "-j", "ACCEPT"],
                      ["-i", self._up, "-o", self._down, "-p", "tcp", "-s", host, "--sport", str(port),
                       "-m", "conntrack", "--ctstate", "ESTABLISHED", "-j", "ACCEPT"]]
        rules.append(["-m", "comment", "--comment", "ward:other", "-j", "DROP"])
        self._fill("WARD_FIREWALL", rules)

    def unblock(self) -> None:
        """No firewall any more (what `block_udp` set is removed)."""
        self._fill("WARD_FIREWALL", [])

    # --- the link ----------------------------------------------------------------------------------

    def shape(self, rate_kbit: int | None, loss: float = 0.0, queue_ms: int = 100, delay_ms: int = 0) -> None:
        """A poor link, the same both ways: at most `rate_kbit` kbit/s (a token bucket, tc tbf, on
        each of the gate's egresses; it counts whole frames, so 1200 bytes of UDP payload cost 1242;
        what waits longer than `queue_ms` in its queue is dropped, as a router's full buffer does),
        `loss` of the packets dropped at random (iptables' statistic match in the gate's FORWARD
        chain, each packet on its own: no bursts) and `delay_ms` added to every packet's way
        through the gate, each way (a round trip takes twice as long more; `DelayLine`). None: no
        rate limit. Called again, it replaces the previous shaping; shape(None) removes it."""
        if not 0.0 <= loss < 1.0:
            raise ValueError(f"loss is a share of the packets, 0 <= loss < 1: {loss}")
        if delay_ms < 0:
            raise ValueError(f"a delay is not negative: {delay_ms} ms")
        for device in (self._up, self._down):
            if rate_kbit is None:
                _run(IP, "netns", "exec", self.gate, TC, "qdisc", "del", "dev", device, "root", check=False)
                continue
            burst = max(2 * MTU_FRAME, rate_kbit * 1000 // 8 // 100)  # 10 ms at the rate, two frames at least
            _run(IP, "netns", "exec", self.gate, TC, "qdisc", "replace", "dev", device, "root", "tbf",
                 "rate", f"{rate_kbit}kbit", "burst", str(burst), "latency", f"{queue_ms}ms")
        rules = []
        if loss > 0:
            for arriving, leaving, direction in ((self._down, self._up, "up"), (self._up, self._down, "down")):
                rules.append(["-i", arriving, "-o", leaving, "-m", "statistic", "--mode", "random", "--probability", f"{loss:.6f}",
                              "-m", "comment", "--comment", f"ward:loss-{direction}", "-j", "DROP"])
        self._fill("WARD_LINK", rules)
        self._delay(delay_ms)

    def _delay(self, delay_ms: int) -> None:
        """The gate's delay line set to `delay_ms` each way (0: none). The packets it holds when
        the delay changes leave at their time; the new delay holds the packets after them."""
        if delay_ms == self._delay_ms:
            return
        self._fill("WARD_DELAY", [], table="raw")  # from now on nothing more is held by the old line
        self._stop_delay_line()
        self._delay_ms = 0
        if delay_ms == 0:
            return
        line = subprocess.Popen(
            [IP, "netns", "exec", self.gate, sys.executable, "-m", "tests.ward", "delay-line",
             *(f"{queue}={delay_ms}" for queue in DELAY_QUEUES.values())],
            cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self._delay_line = line
        ready, _, _ = select.select([line.stdout], [], [], 30)
        said = line.stdout.readline().strip() if ready else ""  # type: ignore[union-attr]
        if said != "ready":
            self._delay_line = None
            line.kill()
            _, err = line.communicate()
            raise WardError(f"the gate's delay line did not start: {said or 'nothing said in 30 s'} {err.strip()}")
        self._fill("WARD_DELAY", [["-i", device, "-j", "NFQUEUE", "--queue-num", str(DELAY_QUEUES[direction])]
                                  for device, direction in ((self._down, "up"), (self._up, "down"))], table="raw")
        self._delay_ms = delay_ms

    def _stop_delay_line(self) -> None:
        line, self._delay_line = self._delay_line, None
        if line is None:
            return
        if line.poll() is None:
            line.send_signal(signal.SIGTERM)  # it lets what it holds go at its time, then ends
        try:
            out, err = line.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            line.kill()
            out, err = line.communicate()
        for said in out.splitlines():
            if said.startswith("{"):
                self.delay_reports.append(json.loads(said))
        if line.returncode not in (0, -signal.SIGTERM) and not out.strip():
            raise WardError(f"the gate's delay line failed ({line.returncode}): {err.strip()}")

    def dropped(self) -> dict[str, int]:
        """Packets dropped so far by each rule: `udp` and `other` (the firewall), `loss-up` (from the
        ward) and `loss-down` (to the ward); the token buckets' own drops (a full queue) under
        `queue-up` and `queue-down`."""
        counts = {"udp": 0, "other": 0, "loss-up": 0, "loss-down": 0}
        for chain in ("WARD_FIREWALL", "WARD_LINK"):
            listing = _run(IP, "netns", "exec", self.gate, IPTABLES, "-w", "-L", chain, "-v", "-x", "-n").stdout
            for line in listing.splitlines():
                found = re.search(r"/\* ward:(\S+) \*/", line)
                if found:
                    counts[found.group(1)] = int(line.split()[0])
        for device, key in ((self._up, "queue-up"), (self._down, "queue-down")):
            stats = _run(IP, "netns", "exec", self.gate, TC, "-s", "qdisc", "show", "dev", device, "root").stdout
            found = re.search(r"dropped (\d+)", stats)
            counts[key] = int(found.group(1)) if found else 0
        return counts

    def _fill(self, chain: str, rules: list[list[str]], table: str = "filter") -> None:
        _run(IP, "netns", "exec", self.gate, IPTABLES, "-w", "-t", table, "-F", chain)
        for rule in rules:
            _run(IP, "netns", "exec", self.gate, IPTABLES, "-w", "-t", table, "-A", chain, *rule)

    # --- making and removing ---------------------------------------------------------------------

    def _build(self) -> None:
        n, gate, name = self.number, self.gate, self.name
        steps = [
            # IPv4 only, so that nothing passes around the firewall's rules.
            *(_set_sysctl(ns, "net/ipv6/conf/all/disable_ipv6", "net/ipv6/conf/default/disable_ipv6") for ns in (gate, name)),
            [IP, "-n", gate, "link", "add", f"wd{n}i", "type", "veth", "peer", "name", f"wd{n}w", "netns", name],
            # The run's end has no address: nothing the other tests' ICE would gather (not even IPv6's
            # link-local one), nothing that vanishes under their calls when the ward goes.
            ["/bin/sh", "-c", f"echo 1 > /proc/sys/net/ipv6/conf/wd{n}t/disable_ipv6"],
            [IP, "link", "set", f"wd{n}t", "up"],
            [IP, "-n", gate, "addr", "add", f"10.78.{n}.2/32", "dev", f"wd{n}g"],
            [IP, "-n", gate, "addr", "add", f"10.79.{n}.1/24", "dev", f"wd{n}i"],
            [IP, "-n", name, "addr", "add", f"10.79.{n}.2/24", "dev", f"wd{n}w"],
            *([IP, "-n", ns, "link", "set", device, "up"] for ns, device in
              ((gate, "lo"), (gate, f"wd{n}g"), (gate, f"wd{n}i"), (name, "lo"), (name, f"wd{n}w"))),
            [IP, "route", "add", f"10.78.{n}.2/32", "dev", f"wd{n}t"],
            [IP, "route", "add", f"10.79.{n}.0/24", "via", f"10.78.{n}.2", "dev", f"wd{n}t"],
            [IP, "-n", gate, "route", "add", "default", "dev", f"wd{n}g"],  # the run's addresses answer ARP on wdNt
            [IP, "-n", name, "route", "add", "default", "via", f"10.79.{n}.1"],  # Chromium gathers nothing without one
            # As in the run's namespace: a name lookup fails at once, it does not wait on a name
            # server that cannot answer (nor fill the firewall's UDP counter).
            *([IP, "-n", name, "route", "add", "unreachable", server] for server in _name_servers() if ":" not in server),
            _set_sysctl(gate, "net/ipv4/ip_forward"),
            # Two chains the gate's forwarding goes through, empty (all passes) until shape() and block_udp().
            [IP, "netns", "exec", gate, IPTABLES, "-w", "-N", "WARD_LINK"],
            [IP, "netns", "exec", gate, IPTABLES, "-w", "-N", "WARD_FIREWALL"],
            [IP, "netns", "exec", gate, IPTABLES, "-w", "-A", "FORWARD", "-j", "WARD_LINK"],
            [IP, "netns", "exec", gate, IPTABLES, "-w", "-A", "FORWARD", "-j", "WARD_FIREWALL"],
            # The delay, empty until shape(delay_ms=...): held as the packets arrive, before
            # conntrack sees them (raw table), so a flow's packets held together are not each taken
            # for a new connection.
            [IP, "netns", "exec", gate, IPTABLES, "-w", "-t", "raw", "-N", "WARD_DELAY"],
            [IP, "netns", "exec", gate, IPTABLES, "-w", "-t", "raw", "-A", "PREROUTING", "-j", "WARD_DELAY"],
        ]
        for step in steps:
            _run(*step)

    def _remove(self) -> None:
        if self._delay_line is not None:  # what it holds leaves (or is dropped if the line will not end)
            with contextlib.suppress(WardError, subprocess.SubprocessError, OSError):
                self._fill("WARD_DELAY", [], table="raw")
            with contextlib.suppress(WardError, subprocess.SubprocessError, OSError):
                self._stop_delay_line()
        for process in self._processes:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(5)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        # Deleting the namespaces deletes their veth ends, hence the pairs (wdNt with its route).
        for ns in (self.name, self.gate):
            _run(IP, "netns", "delete", ns, check=False)


@contextlib.contextmanager
def ward(directory: Path | None = None) -> Iterator[Ward]:
    """A new ward, open (no firewall, no shaping) until told otherwise; removed on exit with the
    processes started in it. `directory` holds its files (the Chromium wrapper): a temporary one
    by default."""
    why_not = Ward.unavailable()
    if why_not:
        raise WardError(why_not)
    _sweep()
    with contextlib.ExitStack() as stack:
        if directory is None:
            directory = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ward-")))
        directory.mkdir(parents=True, exist_ok=True)
        k = next(_made)
        made = Ward(0, f"{PREFIX}ward-{os.getpid()}-{k}", f"{PREFIX}gate-{os.getpid()}-{k}", directory)
        stack.callback(made._remove)
        _run(IP, "netns", "add", made.gate)
        _run(IP, "netns", "add", made.name)
        made.number = _claim_number(made.gate)
        made._build()
        yield made


def _claim_number(gate: str) -> int:
    """A number no other ward of this run uses: the one whose veth pair could be made (the
    pair's name in the run's namespace is the claim), its other end put in `gate`."""
    numbers = list(range(1, 255))
    random.shuffle(numbers)
    for n in numbers:
        made = _run(IP, "link", "add", f"wd{n}t", "type", "veth", "peer", "name", f"wd{n}g", "netns", gate, check=False)
        if made.returncode == 0:
            return n
        if "exists" not in made.stderr:
            raise WardError(f"ip link add wd{n}t: {made.stderr.strip()}")
    raise WardError("every ward number is in use")


def _sweep() -> None:
    """The namespaces of wards whose process is gone (a run killed before it removed them)."""
    listing = _run(IP, "netns", "list", check=False).stdout
    for line in listing.splitlines():
        found = re.match(rf"({re.escape(PREFIX)}(?:ward|gate)-(\d+)-\d+)\b", line)
        if found and not Path(f"/proc/{found.group(2)}").exists():
            _run(IP, "netns", "delete", found.group(1), check=False)


def _set_sysctl(ns: str, *keys: str) -> list[str]:
    """The command that sets these /proc/sys keys to 1 inside `ns` (no procps needed)."""
    return [IP, "netns", "exec", ns, "/bin/sh", "-c", " && ".join(f"echo 1 > /proc/sys/{key}" for key in keys)]


def _shell_quote(value: str) -> str:
    return "'" + value.replace("'", "'\\''") + "'"


_LIBC: ctypes.CDLL | None = None


def _libc() -> ctypes.CDLL:
    global _LIBC
    if _LIBC is None:
        _LIBC = ctypes.CDLL(None, use_errno=True)
    return _LIBC


# --- the delay line: a process of the gate that holds each packet its time ---------------------

NETLINK_NETFILTER, NFNL_SUBSYS_QUEUE = 12, 3
NFQNL_MSG_PACKET, NFQNL_MSG_CONFIG, NFQNL_MSG_VERDICT_BATCH = 0, 2, 3
NFQA_PACKET_HDR, NFQA_VERDICT_HDR = 1, 2
NFQA_CFG_CMD, NFQA_CFG_PARAMS, NFQA_CFG_QUEUE_MAXLEN = 1, 2, 3
NFQNL_CFG_CMD_BIND, NFQNL_COPY_META, NF_ACCEPT = 1, 1, 1
NLMSG_ERROR, NLM_F_REQUEST, NLM_F_ACK = 2, 1, 4
SO_RCVBUFFORCE = getattr(socket, "SO_RCVBUFFORCE", 33)


class DelayLine:
    """Every packet the gate's NFQUEUE rules queue, given back to the kernel `delays[queue]`
    seconds after it arrived, in the order it came (the kernel numbers a queue's packets, and one
    verdict lets all of a queue's packets up to a number go on). Raw nfnetlink_queue: the kernel
    has no netem, and a library for it would need a C build (NetfilterQueue, libnetfilter-queue-dev).
    Only the packets' metadata is copied here, never their bytes, and nothing in them changes."""

    def __init__(self, delays: dict[int, float]) -> None:
        self.delays = delays
        self.held: dict[int, deque[tuple[float, int]]] = {queue: deque() for queue in delays}
        self.counts = dict.fromkeys(delays, 0)
        self.late: list[float] = []  # how long after its time each packet left, in seconds
        self.stopping = False
        self._seq = itertools.count(1)
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
        self.sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 8 << 20)
        self.sock.bind((0, 0))
        for queue in delays:
            self._configure(queue, NFQA_CFG_CMD, struct.pack("!BxH", NFQNL_CFG_CMD_BIND, 0))
            self._configure(queue, NFQA_CFG_PARAMS, struct.pack("!IB", 0, NFQNL_COPY_META))
            self._configure(queue, NFQA_CFG_QUEUE_MAXLEN, struct.pack("!I", 100_000))
        self.sock.setblocking(False)

    def _message(self, kind: int, queue: int, attributes: list[tuple[int, bytes]], flags: int) -> bytes:
        body = struct.pack("!BBH", socket.AF_UNSPEC, 0, queue)
        for number, payload in attributes:
            attribute = struct.pack("=HH", 4 + len(payload), number) + payload
            body += attribute + b"\0" * (-len(attribute) % 4)
        return struct.pack("=IHHII", 16 + len(body), NFNL_SUBSYS_QUEUE << 8 | kind, flags, next(self._seq), 0) + body

    def _configure(self, queue: int, attribute: int, payload: bytes) -> None:
        self.sock.send(self._message(NFQNL_MSG_CONFIG, queue, [(attribute, payload)], NLM_F_REQUEST | NLM_F_ACK))
        answer = self.sock.recv(4096)
        kind, = struct.unpack_from("=H", answer, 4)
        error, = struct.unpack_from("=i", answer, 16) if kind == NLMSG_ERROR else (0,)
        if error:
            raise OSError(-error, f"nfnetlink_queue {queue}, setting {attribute}: {os.strerror(-error)}")

    def _arrived(self, data: bytes, now: float) -> None:
        offset = 0
        while offset + 20 <= len(data):
            length, kind = struct.unpack_from("=IH", data, offset)
            if kind == NFNL_SUBSYS_QUEUE << 8 | NFQNL_MSG_PACKET:
                queue, = struct.unpack_from("!H", data, offset + 18)
                at = offset + 20
                while at + 4 <= offset + length:
                    size, number = struct.unpack_from("=HH", data, at)
                    if number & 0x7FFF == NFQA_PACKET_HDR:
                        self.held[queue].append((now + self.delays[queue], struct.unpack_from("!I", data, at + 4)[0]))
                        self.counts[queue] += 1
                        break
                    at += (size + 3) & ~3
            offset += (length + 3) & ~3

    def _release(self, now: float) -> None:
        for queue, held in self.held.items():
            last = None
            while held and held[0][0] <= now:
                due, last = held.popleft()
                self.late.append(now - due)
            if last is not None:
                self.sock.send(self._message(NFQNL_MSG_VERDICT_BATCH, queue,
                                             [(NFQA_VERDICT_HDR, struct.pack("!II", NF_ACCEPT, last))], NLM_F_REQUEST))

    def run(self) -> None:
        """Until told to stop (SIGTERM) and nothing is held any more."""
        while True:
            now = time.monotonic()
            self._release(now)
            dues = [held[0][0] for held in self.held.values() if held]
            if self.stopping and not dues:
                return
            timeout = min(dues) - now if dues else 0.1  # the flag read at least ten times a second
            if select.select([self.sock], [], [], max(timeout, 0))[0]:
                now = time.monotonic()
                with contextlib.suppress(BlockingIOError):
                    while True:
                        self._arrived(self.sock.recv(1 << 16), now)

    def report(self) -> dict:
        late = sorted(self.late) or [0.0]
        return {"packets": {str(queue): count for queue, count in self.counts.items()},
                "late_ms": {"median": round(1000 * late[len(late) // 2], 2), "p99": round(1000 * late[int(len(late) * 0.99)], 2),
                            "max": round(1000 * late[-1], 2)}}


def _delay_line_main(arguments: list[str]) -> None:
    """`python -m tests.ward delay-line QUEUE=MS ...`, in the gate: says "ready" once bound, ends
    on SIGTERM once what it holds has left, with one line of JSON (DelayLine.report)."""
    line = DelayLine({int(queue): int(ms) / 1000 for queue, ms in (argument.split("=") for argument in arguments)})

    def stop(*_: object) -> None:
        line.stopping = True

    signal.signal(signal.SIGTERM, stop)
    priority = _prioritise()
    print("ready", flush=True)
    line.run()
    print(json.dumps({**line.report(), "priority": priority}), flush=True)


def _prioritise() -> str:
    """The delay line ahead of the machine's other work (a call's Chromium, its agent, the other
    tests): a packet held late is jitter the link did not have. Real-time round robin at the lowest
    priority (under three busy processes on two cores: late by 0.3 ms at most, against 31 ms at
    nice -10 and 280 ms without either); it sleeps but for a few microseconds a packet."""
    try:
        os.sched_setscheduler(0, os.SCHED_RR, os.sched_param(1))
        return "SCHED_RR 1"
    except OSError:
        pass
    try:
        os.nice(-10)
        return "nice -10"
    except OSError:
        return "ordinary"


if __name__ == "__main__" and sys.argv[1:2] == ["delay-line"]:
    _delay_line_main(sys.argv[2:])
