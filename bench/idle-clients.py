#!/usr/bin/env python3
"""Memory per idle client connection of a PostgreSQL proxy.

Opens N client connections to 127.0.0.1:PORT, logs each in (trust auth: StartupMessage, wait for
ReadyForQuery), keeps them all open and idle, and reports the proxy's resident memory (VmRSS of
PID) before and with the clients connected. For a JVM target, a full GC is requested through
jcmd before each reading, so the figure is live memory rather than garbage not yet collected.
Bounded: connects in batches, every wait has a timeout, everything is closed at the end.

usage: idle-clients.py PORT PID [N=10000] [USER=bench] [DB=bench]
"""
import asyncio, os, resource, shutil, struct, subprocess, sys, time

port, pid = int(sys.argv[1]), int(sys.argv[2])
n = int(sys.argv[3]) if len(sys.argv) > 3 else 10000
user = sys.argv[4] if len(sys.argv) > 4 else "bench"
db = sys.argv[5] if len(sys.argv) > 5 else "bench"

soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, n + 1000)), hard))


def rss_kib():
    exe = os.readlink(f"/proc/{pid}/exe")
    if exe.endswith("/java"):
        jcmd = os.path.join(os.path.dirname(exe), "jcmd")
        if os.path.exists(jcmd):
            subprocess.run([jcmd, str(pid), "GC.run"], capture_output=True, timeout=60)
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
    conns, errors = [], []
    sem = asyncio.Semaphore(200)
    t0 = time.time()
    await asyncio.gather(*(connect(sem, conns, errors) for _ in range(n)))
    took = time.time() - t0
    with_clients = rss_kib()
    ok = len(conns)
    for _, w in conns:
        w.close()
    per = (with_clients - before) / ok if ok else float("nan")
    print(f"clients_requested\t{n}\nclients_connected\t{ok}\nerrors\t{len(errors)}\nconnect_seconds\t{took:.1f}")
    print(f"rss_before_kib\t{before}\nrss_with_clients_kib\t{with_clients}\nkib_per_idle_client\t{per:.2f}")
    if errors:
        print("first_error\t" + errors[0])


asyncio.run(main())
