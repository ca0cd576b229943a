"""The serial sensors, end to end and per decoder:

- latency: four devices streaming at once (two Contec CMS50D+ of the older firmware, one of firmware
  4.6+, one Nonin OEM III) on real pseudo-terminals, read by one real agent (`[[sensors]]` tables);
  from the moment the bench writes a packet on the terminal to the moment the kiosk's WebSocket
  (`/ws/vitals`, aiohttp client in this process) receives its reading. Each packet is the
  simulator's real bytes with its plethysmogram replaced by a sequence number (mod 128), which
  the reading carries back as `pleth`; both times are this machine's clock (`time.time()`).
  Baseline: the device's own frame period (the issue's goal: p99 under one frame). Beside it, in
  the same window, the floor: four more devices written the same way, read by a bare reader in a
  process of its own (select, os.read), so that a stall of this shared machine shows in both.
- CPU: the agent's CPU time (every thread of it, and its children) over the same window, less that
  of an idle agent measured at the same time (one sensor configured on a port that does not
  exist, the same logged-in WebSocket open): per device, (busy - idle) / 4, against the bare
  reader's CPU per device.
- decoders: each protocol's decoder over realistic packets from the simulators' packet functions,
  chunked as the agent's serial thread reads them, against a bare framing loop over the same
  chunks (bytearray append, slice, delete).
"""

from __future__ import annotations

import asyncio
import bisect
import json
import os
import select
import statistics
import subprocess
import sys
import threading
import time
import tty
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from agent.access.roles import Role
from bench._common import figure, percentile, scratch_dir
from drivers.sensors import contec, nonin, suntech
from drivers.sensors.protocols import SERIAL_PROTOCOLS
from drivers.sensors.simulators import Simulator, Vitals, contec_old_packet, contec_v7_packet, nonin_frame
from tests.live import LiveAgent, running_agent

# serie-1 … serie-4, in this order (the agent numbers its [[sensors]] tables from 1).
DEVICES = (("Oxymètre A", "contec-cms50d"), ("Oxymètre B", "contec-cms50d"), ("Oxymètre C", "contec-cms50d-v7"),
           ("Oxymètre D", "nonin-oem3"))
WARMUP_S = 3.0  # after the writers start: ports read, the v7 asked to stream, queues settled
WINDOW_S = 10.0  # latency and CPU measured over this
DECODE_BYTES = 200_000  # per round; decoder and raw loop alternate
DECODE_ROUNDS = 5
# Where a packet's plethysmogram is, to read the sequence number back in the floor measurement.
PACKET = {"contec-cms50d": (5, 1, 0x7F), "contec-cms50d-v7": (9, 3, 0x7F), "nonin-oem3": (5, 2, 0xFF)}


def _progress(text: str) -> None:
    print(f"#   sensors: {text}", file=sys.stderr, flush=True)


# --- a device that says when it wrote what ---------------------------------------------------


@dataclass
class _Stamped(Vitals):
    """A resident whose pulse wave is the packet's sequence number: the reading brings it back."""

    seq: int = 0

    def pleth(self, t: float) -> int:
        return self.seq & 0x7F


class StampedDevice:
    """The real simulator's bytes on a pseudo-terminal behind `link` (as PtyPort writes them, at the
    device's rate, hearing what the host writes), each write's time and sequence number kept."""

    def __init__(self, link: Path, protocol: str) -> None:
        self.link, self.protocol = link, protocol
        self.vitals = _Stamped(spo2=96, pulse=68)
        self.simulator = Simulator(protocol, self.vitals)
        self.written: list[tuple[float, int]] = []  # (time.time() just before os.write, sequence mod 128)
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)  # no echo nor line discipline before the reader opens it
        link.unlink(missing_ok=True)
        link.symlink_to(os.ttyname(self.slave))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"bench {protocol}")

    def start(self) -> StampedDevice:
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        if self._thread.ident is not None:  # started
            self._thread.join(2)
        self.link.unlink(missing_ok=True)
        for fd in (self.master, self.slave):
            os.close(fd)

    def _run(self) -> None:
        started = time.monotonic()
        period = 1.0 / self.simulator.rate
        next_at = started
        count = 0
        while not self._stop.is_set():
            next_at += period
            try:
                while (wait := next_at - time.monotonic()) > 0 and select.select([self.master], [], [], wait)[0]:
                    self.simulator.heard(os.read(self.master, 1024))  # the v7's "start live data", its keep-alives
                self.vitals.seq = count & 0x7F
                data = self.simulator.chunk(time.monotonic() - started)
                if data:
                    at = time.time()
                    os.write(self.master, data)
                    self.written.append((at, count & 0x7F))
                    count += 1
            except OSError:
                return


def _latencies(devices: dict[str, StampedDevice], received: list[tuple[str, int, float, float]], since: float, until: float
               ) -> tuple[dict[str, list[tuple[float, float]]], int, int]:
    """Per sensor: (write → client, write → agent's `at`) in seconds for each reading received in
    [since, until], matched to the last write of its sequence number before it arrived; also how
    many packets were written in the window (but its last second) and how many of them arrived."""
    by_seq: dict[tuple[str, int], list[float]] = defaultdict(list)
    for sensor, device in devices.items():
        for at, seq in device.written:
            by_seq[(sensor, seq)].append(at)
    out: dict[str, list[tuple[float, float]]] = defaultdict(list)
    matched: set[tuple[str, float]] = set()
    for sensor, seq, agent_at, got in received:
        if not since <= got <= until:
            continue
        times = by_seq.get((sensor, seq))
        i = bisect.bisect_right(times, got) if times else 0
        if i == 0:
            continue
        wrote = times[i - 1]
        matched.add((sensor, wrote))
        out[sensor].append((got - wrote, agent_at - wrote))
    expected = [(s, at) for s, d in devices.items() for at, _ in d.written if since <= at <= until - 1.0]
    return out, len(expected), sum(1 for e in expected if e in matched)


# --- the agents ---------------------------------------------------------------------------------


def _cpu_seconds(pid: int) -> float:
    """CPU time of every thread of the process (nanoseconds, from each thread's schedstat: the
    idle agent spends less than a clock tick in the window) and of its children (psutil)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            pass  # a thread gone meanwhile
    t = psutil.Process(pid).cpu_times()
    return total / 1e9 + t.children_user + t.children_system


def _cpu_ticks(pid: int) -> float:
    t = psutil.Process(pid).cpu_times()
    return t.user + t.system + t.children_user + t.children_system


async def _listen(agent: LiveAgent, cookies: dict[str, str], out: list[tuple[str, int, float, float]], ready: asyncio.Event) -> None:
    import aiohttp

    url = agent.url.replace("http://", "ws://") + "/ws/vitals"
    async with aiohttp.ClientSession(cookies=cookies) as session, session.ws_connect(url, headers={"Origin": agent.url}) as ws:
        ready.set()
        async for message in ws:
            got = time.time()
            data = json.loads(message.data)
            for event in data if isinstance(data, list) else [data]:  # the live picture, then lists of events
                if event.get("type") == "reading" and event.get("pleth") is not None:
                    out.append((event["sensor"], int(event["pleth"]), float(event["at"]), got))


async def _measure(busy: LiveAgent, busy_cookies: dict[str, str], idle: LiveAgent, idle_cookies: dict[str, str],
                   start_writers: Callable[[], None]) -> dict[str, Any]:
    received: list[tuple[str, int, float, float]] = []
    ready = [asyncio.Event(), asyncio.Event()]
    tasks = [asyncio.create_task(_listen(busy, busy_cookies, received, ready[0])),
             asyncio.create_task(_listen(idle, idle_cookies, [], ready[1]))]
    try:
        await asyncio.wait_for(asyncio.gather(*(r.wait() for r in ready)), 10)
        start_writers()
        await asyncio.sleep(WARMUP_S)
        for t in tasks:
            if t.done():
                t.result()  # a socket that closed early: its error
        assert busy.proc is not None and idle.proc is not None
        since, t0 = time.time(), time.monotonic()
        pids = {"busy": busy.proc.pid, "idle": idle.proc.pid}
        cpu0 = {k: _cpu_seconds(pid) for k, pid in pids.items()}
        ticks0 = {k: _cpu_ticks(pid) for k, pid in pids.items()}
        await asyncio.sleep(WINDOW_S)
        cpu1 = {k: _cpu_seconds(pid) for k, pid in pids.items()}
        ticks1 = {k: _cpu_ticks(pid) for k, pid in pids.items()}
        until, wall = time.time(), time.monotonic() - t0
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return {"received": received, "since": since, "until": until,
            "cpu_pct": {k: (cpu1[k] - cpu0[k]) / wall * 100 for k in cpu0},
            "cpu_ticks_pct": {k: (ticks1[k] - ticks0[k]) / wall * 100 for k in cpu0}}


# A bare reader in a process of its own, as the agent is: one thread, select() over four terminals,
# the sequence numbers taken out of whole packets, its own CPU time kept; it stops when its stdin closes.
_FLOOR_READER = r"""
import json, os, select, sys, time
packets = json.loads(sys.argv[1])  # [[path, size, offset, mask], ...]
fds = {os.open(path, os.O_RDWR | os.O_NOCTTY): (i, size, at, mask) for i, (path, size, at, mask) in enumerate(packets)}
buffers = {fd: bytearray() for fd in fds}
got, stdin = [], sys.stdin.fileno()
print("ready", flush=True)
cpu0, wall0 = time.process_time(), time.monotonic()
while True:
    ready = select.select([*fds, stdin], [], [])[0]
    now = time.time()
    if stdin in ready and not os.read(stdin, 1):
        break
    for fd in ready:
        if fd == stdin:
            continue
        i, size, at, mask = fds[fd]
        buffer = buffers[fd]
        buffer += os.read(fd, 4096)
        while len(buffer) >= size:
            got.append((i, buffer[at] & mask, now))
            del buffer[:size]
print(json.dumps({"got": got, "cpu_pct": (time.process_time() - cpu0) / (time.monotonic() - wall0) * 100}), flush=True)
"""


def _devices(work: Path, prefix: str) -> dict[str, StampedDevice]:
    return {f"serie-{i}": StampedDevice(work / f"{prefix}-{protocol}-{i}", protocol) for i, (_, protocol) in enumerate(DEVICES, start=1)}


def _machine() -> tuple[float, float, float]:
    """The whole machine's CPU times so far: busy (all processes), steal (the hypervisor), total."""
    t = psutil.cpu_times()
    total = sum(t)
    return total - t.idle - getattr(t, "iowait", 0.0) - getattr(t, "steal", 0.0), getattr(t, "steal", 0.0), total


def _run_everything(work: Path) -> dict[str, Any]:
    """The busy agent with its four devices, the idle agent, and the bare reader of four more devices
    written the same way, all in the same window so that the machine's noise hits them alike."""
    devices, floor_devices = _devices(work, "usb"), _devices(work, "floor")
    everything = [*devices.values(), *floor_devices.values()]
    reader: subprocess.Popen[str] | None = None
    try:
        for d in floor_devices.values():
            if d.protocol == "contec-cms50d-v7":
                d.simulator.heard(contec.START_LIVE)  # what the agent says to it on connection
        tables = [{"name": name, "protocol": protocol, "port": str(devices[f"serie-{i}"].link)}
                  for i, (name, protocol) in enumerate(DEVICES, start=1)]
        nowhere = [{"name": "Absent", "protocol": "contec-cms50d", "port": str(work / "no-such-port")}]
        with running_agent(work / "busy", sensors=tables) as busy, running_agent(work / "idle", sensors=nowhere) as idle:
            busy_cookies = busy.login(busy.add_account(Role.NURSE)).cookies.get_dict()
            idle_cookies = idle.login(idle.add_account(Role.NURSE)).cookies.get_dict()
            spec = [[os.ttyname(d.slave), *PACKET[d.protocol]] for d in floor_devices.values()]
            reader = subprocess.Popen([sys.executable, "-c", _FLOOR_READER, json.dumps(spec)], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, text=True)
            assert reader.stdout is not None
            if reader.stdout.readline().strip() != "ready":
                raise RuntimeError("the bare reader did not start")
            _progress(f"two agents and the bare reader up; eight devices streaming for {WARMUP_S:.0f} + {WINDOW_S:.0f} s")

            def start_writers() -> None:
                for d in everything:
                    d.start()

            machine0 = _machine()
            measured = asyncio.run(_measure(busy, busy_cookies, idle, idle_cookies, start_writers))
            machine1 = _machine()
            out, _ = reader.communicate("", timeout=10)
    finally:
        if reader is not None and reader.poll() is None:
            reader.kill()
            reader.wait()
        for d in everything:
            d.close()
    floor = json.loads(out)
    names = list(floor_devices)
    received = [(names[i], seq, got, got) for i, seq, got in floor["got"]]
    per_sensor, _, _ = _latencies(floor_devices, received, measured["since"], measured["until"])
    busy_s, steal_s, total_s = (z - a for a, z in zip(machine0, machine1))
    return measured | {"devices": devices, "floor": [lat for samples in per_sensor.values() for lat, _ in samples],
                       "floor_cpu_pct": floor["cpu_pct"],
                       "machine": {"cores": psutil.cpu_count(), "busy_pct": round(busy_s / total_s * 100, 1),
                                   "steal_pct": round(steal_s / total_s * 100, 1),
                                   "load_average_1min": round(os.getloadavg()[0], 2)}}


# --- decoders -------------------------------------------------------------------------------------


def _packets(protocol: str, count: int) -> list[bytes]:
    """`count` packets as the device sends them: a resident whose pulse wave, pulse and SpO2 move;
    for the blood-pressure module, what the agent hears from it (the pressure polled 4 times a
    second, a measurement's O, its rising and falling pressure, its K and result)."""
    v = Vitals(spo2=96, pulse=68)
    out = []
    if protocol == "suntech-nibp":
        while len(out) < count:
            out += [suntech.reply(0, 0)] * 8  # idle, 2 s of polls
            out.append(suntech.reply(ord("O")))
            out += [suntech.reply(p & 0xFF, p >> 8) for p in (*range(0, 172, 6), *range(170, 40, -5))]
            out.append(suntech.reply(ord("K")))
            out.append(suntech.reply(142, 0, 86, 0, 30, 0, *[0] * 8, 70, 0, 105, 0, 0, 0, 0))
        return out[:count]
    rate = 1.0 / _frame_period(protocol)
    for n in range(count):
        t = n / rate
        v.pulse = 68 + (n // 600) % 5
        v.spo2 = 95 + (n // 900) % 3
        if protocol == "contec-cms50d":
            out.append(contec_old_packet(v, t, n % 53 == 0))
        elif protocol == "contec-cms50d-v7":
            out.append(contec_v7_packet(v, t, n % 53 == 0))
        else:
            out.append(nonin_frame(v, n % nonin.FRAMES_PER_PACKET + 1, t))
    return out


def _raw(chunks: list[bytes], sized: Callable[[bytearray], int]) -> int:
    """The bare minimum over the same chunks: buffer them and cut whole packets out."""
    buffer = bytearray()
    n = 0
    for chunk in chunks:
        buffer += chunk
        while len(buffer) >= 2 and len(buffer) >= (size := sized(buffer)):
            bytes(buffer[:size])
            del buffer[:size]
            n += 1
    return n


def _decode_figures() -> Iterator[dict[str, Any]]:
    for protocol in ("contec-cms50d", "contec-cms50d-v7", "nonin-oem3", "suntech-nibp"):
        p = SERIAL_PROTOCOLS[protocol]
        packets: list[bytes] = []
        size_total = 0
        while size_total < DECODE_BYTES:
            more = _packets(protocol, 2000)
            packets += more
            size_total += sum(map(len, more))
        # As SerialSensor reads a line at the devices' pace: read(1) wakes on the first byte, then
        # read(in_waiting) takes the rest of the packet.
        chunks = [c for packet in packets for c in (packet[:1], packet[1:])]
        fixed = PACKET.get(protocol, (0,))[0]
        sized: Callable[[bytearray], int] = (lambda b: fixed) if fixed else (lambda b: b[1])
        decoded, raw = [], []
        for _ in range(DECODE_ROUNDS):
            t0 = time.perf_counter()
            decoder = p.decoder()
            found = 0
            for chunk in chunks:
                found += len(decoder.feed(chunk))
            decoded.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            framed = _raw(chunks, sized)
            raw.append(time.perf_counter() - t0)
        if found != len(packets) or framed != len(packets):
            raise RuntimeError(f"{protocol}: {len(packets)} packets, {found} decoded, {framed} framed")
        dec_s, raw_s = statistics.median(decoded), statistics.median(raw)
        per_packet_us = dec_s / len(packets) * 1e6
        device_rate = 4.0 if protocol == "suntech-nibp" else 1.0 / _frame_period(protocol)
        detail = {"packets": len(packets), "bytes": size_total, "us_per_packet": round(per_packet_us, 2),
                  "raw_us_per_packet": round(raw_s / len(packets) * 1e6, 3),
                  "core_pct_at_device_rate": round(per_packet_us * device_rate / 1e4, 4)}
        yield figure(f"sensors.decode.{protocol}.mb_per_s", size_total / dec_s / 1e6, "MB/s",
                     baseline=size_total / raw_s / 1e6) | {"detail": detail}


# --- the figures ------------------------------------------------------------------------------------


def _frame_period(protocol: str) -> float:
    return 1.0 / (75.0 if protocol == "nonin-oem3" else 60.0)


def _split(samples: list[tuple[float, float]]) -> dict[str, Any]:
    to_agent = [a for _, a in samples]
    after = [c - a for c, a in samples]
    return {"samples": len(samples),
            "write_to_agent_p50_ms": round(percentile(to_agent, 50) * 1000, 3), "write_to_agent_p99_ms": round(percentile(to_agent, 99) * 1000, 3),
            "agent_to_client_p50_ms": round(percentile(after, 50) * 1000, 3), "agent_to_client_p99_ms": round(percentile(after, 99) * 1000, 3)}


def figures() -> Iterator[dict[str, Any]]:
    with scratch_dir("sensors") as work:
        measured = _run_everything(work)
        devices: dict[str, StampedDevice] = measured["devices"]
        per_sensor, expected, arrived = _latencies(devices, measured["received"], measured["since"], measured["until"])
        if not per_sensor:
            raise RuntimeError("no reading matched a packet written: the agent read nothing from the terminals?")
        by_protocol: dict[str, list[tuple[float, float]]] = defaultdict(list)
        for sensor, samples in per_sensor.items():
            by_protocol[devices[sensor].protocol] += samples
        everything = [s for samples in by_protocol.values() for s in samples]
        strictest = min(_frame_period(p) for _, p in DEVICES) * 1000
        for protocol, samples in [*by_protocol.items(), ("all", everything)]:
            frame = strictest if protocol == "all" else _frame_period(protocol) * 1000
            lat = [c for c, _ in samples]
            detail = _split(samples) | {"over_frame": sum(c * 1000 > frame for c in lat), "max_ms": round(max(lat) * 1000, 1)}
            if protocol == "all":
                detail |= {"written": expected, "arrived": arrived, "machine": measured["machine"]}
            for p in (50, 99):
                yield figure(f"sensors.latency.{protocol}.p{p}_ms", percentile(lat, p) * 1000, "ms", baseline=frame) | {"detail": detail}

        floor, floor_cpu = measured["floor"], measured["floor_cpu_pct"]
        for p in (50, 99):
            yield figure(f"sensors.latency.raw_pty.p{p}_ms", percentile(floor, p) * 1000, "ms") | {
                "detail": {"samples": len(floor), "max_ms": round(max(floor) * 1000, 1)}}

        cpu = measured["cpu_pct"]
        ticks = measured["cpu_ticks_pct"]
        yield figure("sensors.cpu.idle_agent_pct", cpu["idle"], "% of a core") | {"detail": {"psutil_ticks_pct": round(ticks["idle"], 3)}}
        yield figure("sensors.cpu.four_devices_pct", cpu["busy"], "% of a core", baseline=floor_cpu) | {
            "detail": {"psutil_ticks_pct": round(ticks["busy"], 3), "idle_agent_pct": round(cpu["idle"], 3)}}
        yield figure("sensors.cpu.per_device_pct", (cpu["busy"] - cpu["idle"]) / len(DEVICES), "% of a core",
                     baseline=floor_cpu / len(DEVICES))

    _progress("decoders")
    yield from _decode_figures()


def run() -> list[dict[str, Any]]:
    return list(figures())
