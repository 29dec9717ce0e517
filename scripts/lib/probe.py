#!/usr/bin/python3
"""probe.py: HTTP probes at a steady rate, for failover measurements (scripts/bench-failover).

    probe.py HOST [PORT] [--interval 0.02] [--timeout 0.05] [--stop FILE] [--limit SECONDS]

Every INTERVAL seconds it opens a TCP connection to HOST:PORT, sends `GET / HTTP/1.0`, and reads the answer, all
within TIMEOUT seconds. Each probe prints one line, flushed at once:

    START END ok|fail BODY-OR-REASON

START and END are the wall clock (CLOCK_REALTIME, the clock of bash's $EPOCHREALTIME) in seconds, so probes line up
with events a script timestamps. One process, no fork per probe: curl costs ~0.4 s a spawn under user-mode-linux.
Stops when FILE exists or after LIMIT seconds (default 60).
"""
import argparse
import os
import socket
import time


def probe(host, port, timeout):
    deadline = time.monotonic() + timeout
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(b"GET / HTTP/1.0\r\nHost: %s\r\n\r\n" % host.encode())
        data = b""
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("timed out reading")
            s.settimeout(left)
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    if not head.startswith((b"HTTP/1.0 200", b"HTTP/1.1 200")):
        raise ValueError("answer: %r" % head[:40])
    return body.decode(errors="replace").strip().replace(" ", "_") or "-"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("host")
    p.add_argument("port", nargs="?", type=int, default=80)
    p.add_argument("--interval", type=float, default=0.02)
    p.add_argument("--timeout", type=float, default=0.05)
    p.add_argument("--stop")
    p.add_argument("--limit", type=float, default=60)
    a = p.parse_args()
    end = time.monotonic() + a.limit
    while time.monotonic() < end and not (a.stop and os.path.exists(a.stop)):
        started_mono = time.monotonic()
        start = time.time()
        try:
            result = "ok " + probe(a.host, a.port, a.timeout)
        except Exception as e:  # every failure is a data point: refused, timed out, reset, wrong answer
            result = "fail " + type(e).__name__
        print("%.6f %.6f %s" % (start, time.time(), result), flush=True)
        rest = a.interval - (time.monotonic() - started_mono)
        if rest > 0:
            time.sleep(rest)


if __name__ == "__main__":
    main()
