#!/usr/bin/python3
"""demo-driver.py: the phases of scripts/demo, run inside the VM once its cluster is up.

    demo-driver.py run --dir DIR --director BIN --config LVS.CF   starts the directors, runs the phases (a table
                                                                  row a second), a summary; exit 0 or 1
    demo-driver.py client --log FILE --stop FILE                  the client (run in namespace `client`)

The cluster is scripts/lib/topology.sh's (client, directors lb1/lb2, webservers web1..3 with busybox httpd and
h2e-agent, direct routing, VIP 10.0.0.10), started by scripts/demo, the agents' RRD files in DIR/webN/agent. The
driver starts `h2e-director run` in lb1, then (once lb1 is active) in lb2, with control sockets DIR/lb1.sock and
DIR/lb2.sock.

The client sends `GET /cgi-bin/id` through the VIP four times a second (INTERVAL), each on a new connection (so IPVS
schedules each one), and logs one line per request: `START END SOURCE-PORT ok X-SERVER` or `START END SOURCE-PORT fail WHY`,
times from CLOCK_REALTIME. The driver reads that log, and each director's status over its control socket (the JSON of
`h2e-director status --json`) every half second, and prints a row a second: roles, requests per webserver (by
X-SERVER), loads and weights (the active director's). Each phase acts, then waits for what must follow with a
deadline; a phase that does not happen ends the demo with exit 1 and names it.
"""
import argparse
import errno
import json
import selectors
import os
import signal
import socket
import subprocess
import sys
import time

VIP = "10.0.0.10"
WEBS = ["web1", "web2", "web3"]
ADDRESS = {"web1": "10.0.0.21", "web2": "10.0.0.22", "web3": "10.0.0.23"}
DIRECTORS = ["lb1", "lb2"]
BASE_WEIGHT = 100  # scripts/demo's lvs.cf
WEB1_CGROUP = "/sys/fs/cgroup/demo-web1"  # scripts/demo's cgroup of web1's httpd and agent
WEB1_QUOTA = 25  # its cpu.max, percent of the CPU (scripts/demo's WEB1_QUOTA; web2's and web3's are 50)
FALLEN = 0.75  # phase 2 waits until web1's weight is at most this part of its weight before
# One request every INTERVAL seconds. Each costs its webserver about 57 ms of the guest's one emulated CPU (busybox
# httpd forks, the CGI forks and execs sh; 15 ms for a static file), measured in the VM. At ten a second the client
# alone took over half the CPU; with the directors, agents and phase 2's burner the guest ran at 95-100 %, requests
# timed out, and since a timed-out request's CGI runs on, the overload fed itself. At four a second it is a quarter.
INTERVAL = 0.25
TICK = 0.5  # status polls: each costs the directors a JSON encoding
DEBUG = os.environ.get("H2E_DEMO_DEBUG") == "1"


# --- the client -------------------------------------------------------------------------------------------------

class Probe:
    """One GET /cgi-bin/id through the VIP on its own connection, driven by the client's selector."""

    def __init__(self, selector, timeout):
        self.start = time.time()
        self.deadline = time.monotonic() + timeout
        self.port = 0
        self.data = b""
        self.sent = False
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setblocking(False)
        self.sock.connect_ex((VIP, 80))
        try:
            self.port = self.sock.getsockname()[1]
        except OSError:
            pass
        self.selector = selector
        selector.register(self.sock, selectors.EVENT_WRITE, self)

    def ready(self):
        """The socket is ready: send or read. Returns the result line's tail when done, else None."""
        try:
            if not self.sent:
                error = self.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if error:
                    raise OSError(error, os.strerror(error))
                self.sock.sendall(b"GET /cgi-bin/id HTTP/1.0\r\nHost: " + VIP.encode() + b"\r\n\r\n")
                self.sent = True
                self.selector.modify(self.sock, selectors.EVENT_READ, self)
                return None
            chunk = self.sock.recv(4096)
            if chunk:
                self.data += chunk
                return None
            return self.finish(self.answer())
        except Exception as e:  # every failure is a data point: refused, reset, wrong answer
            return self.finish("fail " + (errno_name(e) if isinstance(e, OSError) else type(e).__name__))

    def answer(self):
        head = self.data.partition(b"\r\n\r\n")[0].decode(errors="replace").split("\r\n")
        if not head[0].startswith(("HTTP/1.0 200", "HTTP/1.1 200")):
            return "fail answer:%s" % head[0][:20].replace(" ", "_")
        for line in head[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "x-server":
                return "ok " + value.strip()
        return "fail no-X-SERVER"

    def finish(self, result):
        self.selector.unregister(self.sock)
        self.sock.close()
        return "%.6f %.6f %d %s" % (self.start, time.time(), self.port, result)


def errno_name(e):
    return errno.errorcode.get(e.errno, type(e).__name__) if e.errno else type(e).__name__


def client(args):
    """A request every INTERVAL seconds, each on a new connection, all in one thread with a selector, so a request
    that hangs (a connection cut by the failover) does not hold the next ones back."""
    selector = selectors.DefaultSelector()
    probes = set()
    with open(args.log, "a", buffering=1) as out:
        next_start = time.monotonic()
        while not os.path.exists(args.stop) or probes:
            now = time.monotonic()
            if now >= next_start and not os.path.exists(args.stop):
                probes.add(Probe(selector, args.timeout))
                next_start += args.interval
                if next_start < now:  # late (a stall): go on from now, no burst
                    next_start = now + args.interval
            for key, _ in selector.select(timeout=max(0.001, min([next_start] + [p.deadline for p in probes]) - now)):
                line = key.data.ready()
                if line:
                    probes.discard(key.data)
                    out.write(line + "\n")
            now = time.monotonic()
            for p in [p for p in probes if p.deadline <= now]:
                probes.discard(p)
                out.write(p.finish("fail timeout") + "\n")


# --- observations -----------------------------------------------------------------------------------------------

def director_status(path, timeout=0.5):
    """The daemon's status (as `h2e-director status --json`), or None when it does not answer (killed)."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(path)
            s.sendall(b'{"command":"status"}\n')
            data = b""
            while not data.endswith(b"\n"):
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        answer = json.loads(data)
        return answer.get("status") if answer.get("ok") else None
    except (OSError, ValueError):
        return None


def run(*argv):
    """A command's output. No shell, and nsenter rather than `ip netns exec`: a spawn costs little in the VM then."""
    return subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True).stdout


def in_namespace(ns, *argv):
    return run("nsenter", "--net=/run/netns/" + ns, *argv)


def plural(n, word):
    return "%d %s%s" % (n, word, "" if n == 1 else "s")


class Request:
    __slots__ = ("start", "end", "port", "ok", "server")

    def __init__(self, line):
        start, end, port, result, what = line.split(" ", 4)
        self.start, self.end, self.port = float(start), float(end), int(port)
        self.ok = result == "ok"
        self.server = what.strip()


class Cluster:
    """What the driver knows: the client's requests so far and the directors' last status."""

    def __init__(self, directory):
        self.dir = directory
        self.requests = []
        self._log = None
        self._partial = ""
        self.status = {d: None for d in DIRECTORS}

    def observe(self):
        if self._log is None and os.path.exists(self.dir + "/client.log"):
            self._log = open(self.dir + "/client.log")
        if self._log is not None:
            text = self._partial + self._log.read()
            lines = text.split("\n")
            self._partial = lines.pop()
            self.requests += [Request(line) for line in lines if line]
        for d in DIRECTORS:
            self.status[d] = director_status("%s/%s.sock" % (self.dir, d))

    def role(self, director):
        st = self.status[director]
        return st["director"]["role"] if st else "down"

    def active(self):
        """The director whose status says active (lb1 first), else None."""
        for d in DIRECTORS:
            if self.role(d) == "active":
                return d
        return None

    def servers(self, director):
        st = self.status[director]
        if not st:
            return {}
        return {s["name"]: s for v in st["virtuals"] for s in v["servers"]}

    def served_since(self, since, server=None):
        return [r for r in self.requests if r.end > since and r.ok and (server is None or r.server == server)]

    def failed_since(self, since):
        return [r for r in self.requests if r.end > since and not r.ok]


# --- output -------------------------------------------------------------------------------------------------------

T0 = time.time()  # the start of lb1


def stamp(t=None):
    return "%5.1f" % ((t or time.time()) - T0)


def out(text=""):
    print(text, flush=True)


def header():
    names = " ".join("%5s" % w for w in WEBS)
    out("  %5s  %-7s %-7s | answered   %s fail | load/cpu %s | weight %s" % ("time", "lb1", "lb2", names, names, names))


def row(cluster, since, now):
    """The last second: roles, requests answered per webserver (by X-SERVER) and failed, and the loads and weights
    the active director has (its table: `out` when a server is not in it)."""
    active = cluster.active() or next((d for d in DIRECTORS if cluster.status[d]), None)
    servers = cluster.servers(active) if active else {}
    recent = [r for r in cluster.requests if since < r.end <= now]
    counts = " ".join("%5d" % sum(1 for r in recent if r.ok and r.server == w) for w in WEBS)
    fails = sum(1 for r in recent if not r.ok)
    loads, weights = [], []
    for w in WEBS:
        s = servers.get(w)
        loads.append("%5s" % ("%.2f" % s["load"] if s and s.get("load") is not None else "-"))
        weights.append("%5s" % ((s["weight"] if s.get("weight") is not None else "out") if s else "-"))
    if DEBUG and fails:
        out("   (debug: failed: %s)" % " ".join(r.server for r in recent if not r.ok))
    out("  %5s  %-7s %-7s | %10s %s %4d | %8s %s | %6s %s%s" % (
        stamp(now), cluster.role("lb1"), cluster.role("lb2"), "", counts, fails, "", " ".join(loads), "",
        " ".join(weights), "" if active is None else "  (%s)" % active))


class PhaseFailed(Exception):
    pass


class Demo:
    def __init__(self, args):
        self.args = args
        self.dir = args.dir
        self.cluster = Cluster(args.dir)
        self.number = 0
        self.results = []  # (label, line) for the summary
        self.phases = []  # for --result: each phase's number, title, outcome and duration
        self.failover_time = None
        self.client = None

    # One phase: act, then tick until `done` returns a message, printing a row a second; then `after` more rows.
    def phase(self, title, act, done, deadline, after=2, every=None):
        self.number += 1
        out()
        out("== %d. %s" % (self.number, title))
        header()
        start = time.time()
        act()
        last_row = start
        message = None
        rows_left = None
        while True:
            now = time.time()
            self.cluster.observe()
            if every:
                every(now)
            if message is None:
                message = done(start, now)
                if message is not None:
                    rows_left = after
            if DEBUG and time.time() - now > 0.5:
                out("   (debug: this tick took %.2f s)" % (time.time() - now))
            if now - last_row >= 1:
                if DEBUG and message is None:
                    out("   (debug: waiting: %s)" % self.why())
                row(self.cluster, last_row, now)
                last_row = now
                if rows_left is not None:
                    if rows_left == 0:
                        break
                    rows_left -= 1
            if message is None and now - start > deadline:
                row(self.cluster, last_row, now)
                failure = "did not happen within %d s: %s" % (deadline, self.why())
                self.phases.append({"number": self.number, "title": title, "passed": False, "message": failure,
                                    "seconds": now - start})
                raise PhaseFailed("phase %d (%s) %s" % (self.number, title, failure))
            time.sleep(max(0, TICK - (time.time() - now)))
        self.phases.append({"number": self.number, "title": title, "passed": True, "message": message,
                            "seconds": time.time() - start})
        out("   -> " + message)

    def why(self):
        return getattr(self, "_why", "")

    def expect(self, condition, why):
        """For `done` functions: remember what is missing, for the failure message."""
        if not condition:
            self._why = why
        return condition

    # --- phase 1 ---
    def start_director(self, ns):
        """`h2e-director run` in namespace `ns`, its log in DIR/NS.log; it runs until scripts/demo's topology_down."""
        os.makedirs("%s/%s.state" % (self.dir, ns), exist_ok=True)
        log = open("%s/%s.log" % (self.dir, ns), "ab")
        subprocess.Popen(
            ["ip", "netns", "exec", ns, self.args.director, "run", "--config", self.args.config,
             "--socket", "%s/%s.sock" % (self.dir, ns), "--state-dir", "%s/%s.state" % (self.dir, ns)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
        log.close()

    def steady(self):
        self.phase_start = time.time()
        started = {}

        def act():
            # The primary first: a director that finds no peer within deadtime goes active, and an active director
            # is not preempted, so the order of the starts decides which one is active.
            started["lb1"] = time.time()
            self.start_director("lb1")

        def done(start, now):
            c = self.cluster
            if "lb2" not in started:
                if not self.expect(c.role("lb1") == "active", "lb1 is %s, lb2 not started" % c.role("lb1")):
                    return None
                started["lb2"] = now
                out("   .. lb1 active %.1f s after its start; starting lb2" % (now - started["lb1"]))
                self.start_director("lb2")
            servers = c.servers("lb1")
            if not (self.expect(c.role("lb1") == "active" and c.role("lb2") == "backup",
                                "roles lb1 %s, lb2 %s (want active, backup)" % (c.role("lb1"), c.role("lb2")))
                    and self.expect(all(servers.get(w, {}).get("inTable") for w in WEBS),
                                    "lb1's table has %s" % [w for w in WEBS if servers.get(w, {}).get("inTable")])
                    and self.expect(all(servers[w].get("load") is not None for w in WEBS),
                                    "loads: %s" % {w: servers[w].get("load") or servers[w].get("loadError") for w in WEBS})
                    # Not in a slow start after a flap: phase 2 measures the fall from these weights.
                    and self.expect(not any("slow start" in servers[w].get("reason", "") for w in WEBS),
                                    "weights: %s" % {w: servers[w].get("reason") for w in WEBS})
                    # Started from the capacities the agents state: web1 has half of the others' quota.
                    and self.expect(servers["web1"].get("weight", BASE_WEIGHT) < min(servers[w].get("weight", 0) for w in WEBS[1:]),
                                    "web1 not started below the others: %s" % {w: servers[w].get("weight") for w in WEBS})
                    and self.expect(all(c.served_since(start, w) for w in WEBS),
                                    "requests served since the start: %s" % {w: len(c.served_since(start, w)) for w in WEBS})
                    and self.expect(now - started["lb2"] >= 2, "")):
                return None
            holders = vip_holders()
            if not self.expect(holders == ["lb1"], "VIP on %s" % holders):
                return None
            weights = "/".join(str(servers[w]["weight"]) for w in WEBS)
            loads = "/".join("%.2f" % servers[w]["load"] for w in WEBS)
            self.results.append(("steady", "lb1 active, lb2 backup; weights %s, loads %s" % (weights, loads)))
            return "lb1 active (VIP on %s), lb2 backup; web1..3 in the table with weight %s; loads %s; %d requests served" % (
                " ".join(holders), weights, loads, len(c.served_since(start)))

        self.phase("Steady state: lb1 starts and goes active, lb2 starts as its backup, three webservers share the "
                   "requests (scheduler wrr)", act, done, deadline=45, after=2)

    # --- phase 2 ---
    def load(self):
        before = {}
        burner = {}

        def act():
            before.update({w: s.get("weight") for w, s in self.cluster.servers("lb1").items()})
            before["share"] = share(self.cluster.served_since(self.phase_start), "web1")
            self.load_start = time.time()
            # Real CPU work in web1's cgroup (scripts/demo made it, with web1's httpd and agent in it and a quota):
            # a shell loop that never sleeps. In web1's namespace, so topology_down ends it whatever happens.
            burner["process"] = subprocess.Popen(
                ["nsenter", "--net=/run/netns/web1", "/bin/sh", "-c",
                 'echo $$ > "$0/cgroup.procs" && exec busybox sh -c "while :; do :; done"', WEB1_CGROUP],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def done(start, now):
            c = self.cluster
            d = c.active()
            servers = c.servers(d) if d else {}
            weight = {w: servers.get(w, {}).get("weight") for w in WEBS}
            if not self.expect(None not in weight.values(), "weights %s" % weight):
                return None
            reasons = {w: servers.get(w, {}).get("reason", "") for w in WEBS}
            # web1 must end below its peers, but a peer readmitted after a flap (a starved guest can time its checks
            # out) is in a slow start: its weight says nothing about load, so it is left out of the comparison.
            others = [weight[w] for w in WEBS if w != "web1" and "slow start" not in reasons[w]]
            if "drop" not in before and before.get("web1") is not None and weight["web1"] < before["web1"]:
                before["drop"] = now
            reason = reasons["web1"]
            if not self.expect(weight["web1"] <= FALLEN * (before.get("web1") or BASE_WEIGHT) and others
                               and weight["web1"] < min(others) and "load" in reason and "slow start" not in reason,
                               "weights on %s: %s (%s)" % (d, weight, "; ".join("%s: %s" % (w, reasons[w]) for w in WEBS))):
                return None
            self.load_done = now
            self.fell = (before.get("web1"), weight["web1"], now - start, servers["web1"].get("load"))
            return "web1's weight fell %s -> %s in %.1f s (%s: %s); web2/web3 at %s" % (
                before.get("web1"), weight["web1"], now - start, d, servers["web1"]["reason"],
                "/".join("%s%s" % (weight[w], " (slow start)" if "slow start" in reasons[w] else "")
                         for w in WEBS if w != "web1"))

        try:
            self.phase("web1 gets busy: a CPU burner saturates its cgroup's quota (cpu.max %d %%)" % WEB1_QUOTA,
                       act, done, deadline=50, after=3)
        finally:
            if "process" in burner:  # web1 idle again: the later phases measure health checks and failover
                burner["process"].kill()
                burner["process"].wait()
        during = share(self.cluster.served_since(before.get("drop", self.load_done)), "web1")
        out("   -> web1's share of the requests: %s before, %s since its weight began to fall; the burner stopped" % (
            pct(before["share"]), pct(during)))
        load = self.fell[3]
        self.results.append(("load", "web1's cgroup saturated: load %s, weight %s -> %s in %.1f s; its share of the requests %s -> %s" % (
            "-" if load is None else "%.2f" % load, self.fell[0], self.fell[1], self.fell[2], pct(before["share"]), pct(during))))

    # --- phase 3 ---
    def stop_httpd(self):
        def act():
            pids = [p for p in run("ip", "netns", "pids", "web3").split() if "httpd" in cmdline(p)]
            if not pids:
                raise PhaseFailed("phase %d: no busybox httpd runs in web3" % self.number)
            self.stopped = time.time()
            for p in pids:
                try:
                    os.kill(int(p), signal.SIGTERM)
                except ProcessLookupError:
                    pass  # a child busybox forked for one request, gone since the listing

        checked = [0.0]

        def done(start, now):
            c = self.cluster
            d = c.active()
            servers = c.servers(d) if d else {}
            web3 = servers.get("web3", {})
            if not self.expect(d and web3 and not web3.get("inTable"), "web3 on %s: %s" % (
                    d, {k: web3.get(k) for k in ("health", "healthDetail", "inTable", "weight")})):
                return None
            if now - checked[0] < 0.5:
                return None
            checked[0] = now
            table = in_namespace(d, "ipvsadm", "-Ln")
            if not self.expect(VIP + ":80" in table and ADDRESS["web3"] + ":80" not in table,
                               "%s's kernel table (ipvsadm -Ln):\n%s" % (d, table)):
                return None
            self.removed = now
            failed = self.cluster.failed_since(self.stopped)
            failed = plural(len(failed), "request") + " failed"
            self.results.append(("health", "web3's httpd stopped: out of %s's table in %.1f s; %s meanwhile" % (
                d, now - self.stopped, failed)))
            return "web3 left %s's table (ipvsadm -Ln) %.1f s after its httpd stopped (%s); %s meanwhile" % (
                d, now - self.stopped, web3.get("healthDetail") or web3.get("reason"), failed)

        self.phase("web3's httpd stops: health checks fail, web3 leaves the table", act, done, deadline=15, after=3)
        late = self.cluster.served_since(self.removed + 1, "web3")
        if late:
            raise PhaseFailed("phase 3: web3 still served %d requests after it left the table" % len(late))

    # --- phase 4 ---
    def failover(self):
        state = {}

        def act():
            pids = run("ip", "netns", "pids", "lb1").split()
            if not pids:
                raise PhaseFailed("phase %d: no process runs in lb1" % self.number)
            state["kill"] = time.time()
            for p in pids:
                os.kill(int(p), signal.SIGKILL)
            state["ports"] = set()
            state["checked"] = 0.0

        def done(start, now):
            c = self.cluster
            kill = state["kill"]
            if not self.expect(c.role("lb2") == "active", "lb2 is %s" % c.role("lb2")):
                return None
            if "active" not in state:
                state["active"] = now - c.status["lb2"]["director"]["roleAgeSeconds"]
            after = [r for r in c.requests if r.start >= kill and r.ok]
            if not self.expect(after, "no request succeeded since the kill"):
                return None
            if now - state["checked"] >= 0.5:
                state["checked"] = now
                # Which requests went through lb2: their client ports are in lb2's IPVS connection table.
                for line in in_namespace("lb2", "ipvsadm", "-Lnc").splitlines():
                    f = line.split()
                    if len(f) >= 4 and f[3].startswith("10.0.0.100:"):
                        state["ports"].add(int(f[3].rsplit(":", 1)[1]))
            via = [r for r in after if r.port in state["ports"]]
            if not self.expect(via, "no request since the kill went through lb2 (%d succeeded)" % len(after)):
                return None
            holders = vip_holders()
            mac, lb2 = neighbour_mac(), interface_mac("lb2")
            if not self.expect("lb2" in holders and mac == lb2, "VIP on %s, the client's neighbour entry for it %s (lb2: %s)" % (
                    holders, mac, lb2)):
                return None
            first = min(via, key=lambda r: r.end)
            self.failover_time = first.end - kill
            failed = [r for r in c.requests if r.end > kill and not r.ok]
            # kill -9 leaves lb1's VIP and IPVS table in its kernel: they go on forwarding until lb2's gratuitous ARP
            # moves the client's neighbour entry.
            orphaned = [r for r in after if r.end < first.start and r.port not in state["ports"]]
            failed = plural(len(failed), "request") + " failed"
            self.results.append(("failover", "lb2 active %.2f s after kill -9 of lb1; %s" % (state["active"] - kill, failed)))
            return ("lb2 active %.2f s after kill -9 of lb1; first request through lb2 (served by %s) %.2f s after the "
                    "kill; before it %s went through lb1's kernel (a killed daemon leaves its VIP and IPVS table "
                    "there); %s; the client's neighbour entry for the VIP is lb2's MAC %s" % (
                        state["active"] - kill, first.server, self.failover_time, plural(len(orphaned), "request"),
                        failed, mac))

        self.phase("kill -9 of lb1, the active director: lb2 takes over", act, done, deadline=15, after=3)

    def summary(self):
        c = self.cluster
        ok = [r for r in c.requests if r.ok]
        out()
        out("== Summary")
        out("   %-9s %d sent, %d answered (%s), %d failed" % (
            "requests", len(c.requests), len(ok), ", ".join("%s %d" % (w, sum(1 for r in ok if r.server == w)) for w in WEBS),
            len(c.requests) - len(ok)))
        for label, line in self.results:
            out("   %-9s %s" % (label, line))
        out("   FAILOVER TIME %.2f s: from kill -9 of the active director to the first request served through the backup"
            " (a request every %.2f s)" % (self.failover_time, INTERVAL))
        out()
        out("   lb2, `h2e-director status`:")
        text = run(self.args.director, "status", "--socket", self.dir + "/lb2.sock")
        for line in text.splitlines():
            out("     " + line)

    def write_result(self, passed):
        """--result: what happened, as JSON: the phases, the figures, and each director's last status (the JSON
        of `h2e-director status --json`, which DemoKernelTests decodes with the director's own StatusReport)."""
        if not self.args.result:
            return
        c = self.cluster
        c.observe()
        ok = sum(1 for r in c.requests if r.ok)
        result = {"passed": passed, "phases": self.phases, "failoverSeconds": self.failover_time,
                  "requests": {"sent": len(c.requests), "answered": ok, "failed": len(c.requests) - ok},
                  "status": {d: c.status[d] for d in DIRECTORS}}
        with open(self.args.result, "w") as f:
            json.dump(result, f)

    def main(self):
        stop = self.dir + "/client.stop"
        self.client = subprocess.Popen(
            ["ip", "netns", "exec", "client", sys.executable, os.path.abspath(__file__), "client",
             "--log", self.dir + "/client.log", "--stop", stop],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=open(self.dir + "/client.err", "w"))
        out("   A row a second: seconds since lb1 started; each director's role (down: not answering); the")
        out("   requests answered by each webserver (its X-SERVER header) and failed since the previous row; each")
        out("   webserver's load per CPU and weight as the active director's status has them (out: not in the table).")
        try:
            self.steady()
            self.load()
            self.stop_httpd()
            self.failover()
            self.summary()
            out()
            out("demo: PASS, every phase happened (%.0f s since the cluster was up)" % (time.time() - T0))
            self.write_result(True)
            return 0
        except PhaseFailed as e:
            out()
            out("demo: FAILED: %s" % e)
            self.write_result(False)
            return 1
        finally:
            open(stop, "w").close()
            try:
                self.client.wait(timeout=3)
            except subprocess.TimeoutExpired:
                self.client.kill()


def share(requests, server):
    return (sum(1 for r in requests if r.server == server) / len(requests)) if requests else None


def pct(value):
    return "-" if value is None else "%.0f%%" % (100 * value)


def cmdline(pid):
    try:
        with open("/proc/%s/cmdline" % pid, "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def vip_holders():
    return [d for d in DIRECTORS if " %s/" % VIP in run("ip", "-n", d, "-4", "-o", "addr", "show")]


def interface_mac(ns):
    f = run("ip", "-n", ns, "-br", "link", "show", "eth0").split()
    return f[2] if len(f) > 2 else ""


def neighbour_mac():
    f = run("ip", "-n", "client", "neigh", "show", VIP, "dev", "eth0").split()
    return f[f.index("lladdr") + 1] if "lladdr" in f else ""


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="mode", required=True)
    r = sub.add_parser("run")
    r.add_argument("--dir", required=True)
    r.add_argument("--director", required=True)
    r.add_argument("--config", required=True)
    r.add_argument("--result", help="write what happened here, as JSON (DemoKernelTests reads it)")
    c = sub.add_parser("client")
    c.add_argument("--log", required=True)
    c.add_argument("--stop", required=True)
    c.add_argument("--interval", type=float, default=INTERVAL)
    c.add_argument("--timeout", type=float, default=1.0)
    a = p.parse_args()
    if a.mode == "client":
        client(a)
        return 0
    return Demo(a).main()


if __name__ == "__main__":
    sys.exit(main())
