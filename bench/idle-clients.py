#!/usr/bin/env python3
"""Memory per idle client connection of a PostgreSQL proxy.

Opens N client connections to 127.0.0.1:PORT, logs each in (trust auth: StartupMessage, wait for
ReadyForQuery), keeps them all open and idle, and reports the proxy's resident memory (VmRSS of
PID) before and with the clients connected. For a JVM target, a full GC is requested through
jcmd before each reading, and the used heap after it (the live objects) is reported as well:
the RSS also grows by heap pages that the connection burst's garbage touched for the first time.
Bounded: connects in batches, every wait has a timeout, everything is closed at the end.

usage: idle-clients.py PORT PID [N=10000] [USER=bench] [DB=bench]
"""
import asyncio, os, re, resource, shutil, struct, subprocess, sys, time

port, pid = int(sys.argv[1]), int(sys.argv[2])
n = int(sys.argv[3]) if len(sys.argv) > 3 else 10000
user = sys.argv[4] if len(sys.argv) > 4 else "bench"
db = sys.argv[5] if len(sys.argv) > 5 else "bench"

soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, n + 1000)), hard))


def jcmd():
    exe = os.readlink(f"/proc/{pid}/exe")
    tool = os.path.join(os.path.dirname(exe), "jcmd")
    return tool if exe.endswith("/java") and os.path.exists(tool) else None


def heap_used_kib():
    """Used Java heap after a full GC (the live objects), or None for a target that is not a JVM."""
    tool = jcmd()
    if not tool:
        return None
    out = subprocess.run([tool, str(pid), "GC.heap_info"], capture_output=True, text=True, timeout=60).stdout
    # one line per generation ("DefNew     total 116160K, used 72567K [...", "Tenured ...") or
    # one for a region-based heap ("garbage-first heap   total ..."); their spaces are broken
    # down on lines of their own, which are not counted again
    used = [int(m.group(1)) for line in out.splitlines() if " space " not in line
            for m in [re.search(r"\btotal \d+K, used (\d+)K", line)] if m]
    return sum(used) if used else None


def rss_kib():
    tool = jcmd()
    if tool:
        subprocess.run([tool, str(pid), "GC.run"], capture_output=True, timeout=60)
        time.sleep(1)
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def startup():
    body = struct.pack("!i", 196608) + b"user\0" + user.encode() + b"\0database\0" + db.encode() + b"\0\0"
    return struct.pack("!i", len(body) + 4) + body


async def connect(sem, conns, errors):
    async with sem:
        try:
            r, w = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 30)
            w.write(startup())
            await w.drain()
            while True:
                t = await asyncio.wait_for(r.readexactly(1), 30)
                ln = struct.unpack("!i", await asyncio.wait_for(r.readexactly(4), 30))[0]
                payload = await asyncio.wait_for(r.readexactly(ln - 4), 30)
                if t == b"E":
                    raise RuntimeError(payload.decode(errors="replace")[:200])
                if t == b"Z":
                    break
            conns.append((r, w))
        except Exception as e:  # noqa: BLE001 - counted and reported
            errors.append(str(e))


async def main():
    before = rss_kib()
    heap_before = heap_used_kib()
    conns, errors = [], []
    sem = asyncio.Semaphore(200)
    t0 = time.time()
    await asyncio.gather(*(connect(sem, conns, errors) for _ in range(n)))
    took = time.time() - t0
    with_clients = rss_kib()
    heap_with = heap_used_kib()
    ok = len(conns)
    for _, w in conns:
        w.close()
    per = (with_clients - before) / ok if ok else float("nan")
    print(f"clients_requested\t{n}\nclients_connected\t{ok}\nerrors\t{len(errors)}\nconnect_seconds\t{took:.1f}")
    print(f"rss_before_kib\t{before}\nrss_with_clients_kib\t{with_clients}\nkib_per_idle_client\t{per:.2f}")
    if heap_before is not None and heap_with is not None and ok:
        # the RSS of a JVM also grows by the heap pages the connection burst's garbage touched for
        # the first time; the live heap is what the clients themselves hold
        print(f"heap_used_before_kib\t{heap_before}\nheap_used_with_clients_kib\t{heap_with}")
        print(f"live_heap_kib_per_idle_client\t{(heap_with - heap_before) / ok:.2f}")
    if errors:
        print("first_error\t" + errors[0])


asyncio.run(main())
