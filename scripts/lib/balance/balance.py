#!/usr/bin/python3
"""balance.py: samples and figures of scripts/bench-balance (inside the VM; analysis only, not on the request path).

    balance.py sample --out FILE --stop FILE [--interval 1]
        a JSON line per interval until FILE --stop exists: time, per webserver its cgroup's usage_usec, cpu.max quota,
        nr_throttled, throttled_usec, and lb1's IPVS weight, active and inactive connections (`ipvsadm -Ln`)
    balance.py report --arm NAME --samples FILE --client SUMMARY --log CLIENTLOG [--step EPOCH] [--json OUT]
        the arm's figures: per-server utilisation of its quota over the run (usage / (quota x time), from cpu.stat),
        max/mean, the client's p50/p99/p99.9, failed, timed out, locality, weights over time, and after the step the
        time until utilisation is even again (max/mean of 10 s windows back under 1.2) and how web1's weight settled
        after it (the time until it stays within 10 % of its final value, and its reversals on the way)
    balance.py line --level PCT --scheduler S STATIC.json H2E.json
        the one line per load level, e.g. `balance lblc 80%: static max/mean 1.62 p99 410 ms fail 0 | h2e ...`
"""
import argparse
import json
import os
import subprocess
import sys
import time

CGROUP = "/sys/fs/cgroup"
WEBS = ["web1", "web2", "web3"]
ADDRESS = {"10.0.0.21": "web1", "10.0.0.22": "web2", "10.0.0.23": "web3"}
WINDOW = 10.0  # s: the utilisation window for the time-to-even after the step
EVEN = 1.2  # max/mean under this is "even"
SETTLE_TAIL = 15.0  # s: web1's settled weight after the step is its median over the run's last SETTLE_TAIL s


def read_kv(path):
    try:
        with open(path) as f:
            return {k: int(v) for k, v in (line.split() for line in f if line.strip())}
    except OSError:
        return {}


def quota(web):
    try:
        with open("%s/%s/cpu.max" % (CGROUP, web)) as f:
            q, period = f.read().split()
        return None if q == "max" else int(q) / int(period)
    except OSError:
        return None


def ipvs():
    out = subprocess.run(["nsenter", "--net=/run/netns/lb1", "ipvsadm", "-Ln"], capture_output=True, text=True).stdout
    table = {}
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 6 and f[0] == "->" and f[1].split(":")[0] in ADDRESS:
            table[ADDRESS[f[1].split(":")[0]]] = {"weight": int(f[3]), "active": int(f[4]), "inactive": int(f[5])}
    return table


def sample(args):
    with open(args.out, "a", buffering=1) as out:
        next_at = time.time()
        while not os.path.exists(args.stop):
            t = time.time()
            row = {"t": t, "ipvs": ipvs()}
            for w in WEBS:
                stat = read_kv("%s/%s/cpu.stat" % (CGROUP, w))
                row[w] = {"usage": stat.get("usage_usec"), "quota": quota(w), "throttled": stat.get("nr_throttled"),
                          "throttled_usec": stat.get("throttled_usec"), "periods": stat.get("nr_periods")}
            out.write(json.dumps(row) + "\n")
            next_at += args.interval
            time.sleep(max(0.0, next_at - time.time()))


def utilisation(samples, start, end):
    """Per server: CPU used between the samples nearest start and end, over the quota integrated over that time."""
    rows = [s for s in samples if start - 0.5 <= s["t"] <= end + 0.5]
    result = {}
    for w in WEBS:
        used = capacity = 0.0
        for a, b in zip(rows, rows[1:]):
            if a[w]["usage"] is None or b[w]["usage"] is None or not a[w]["quota"]:
                continue
            used += (b[w]["usage"] - a[w]["usage"]) / 1e6
            capacity += (b["t"] - a["t"]) * a[w]["quota"]
        result[w] = used / capacity if capacity else None
    return result


def max_mean(util):
    values = [v for v in util.values() if v is not None]
    if not values or sum(values) == 0:
        return None
    return max(values) / (sum(values) / len(values))


def client_summary(path):
    summary = {}
    with open(path) as f:
        for line in f:
            key, _, rest = line.partition(":")
            words = rest.split()
            if key == "locality":  # "locality: SHARE sites N"
                words = ["locality"] + words
            summary[key] = dict(zip(words[::2], words[1::2]))
    return summary


def report(args):
    samples = [json.loads(line) for line in open(args.samples) if line.strip()]
    client = client_summary(args.client)
    c, lat = client["client"], client["latency_ms"]
    start = float(c["start_epoch"])
    duration = float(c["duration"])
    end = start + duration
    util = utilisation(samples, start, end)
    result = {
        "arm": args.arm, "util": util, "max_mean": max_mean(util),
        "p50": float(lat["p50"]), "p99": float(lat["p99"]), "p999": float(lat["p999"]),
        "sent": int(c["sent"]), "answered": int(c["answered"]), "failed": int(c["failed"]),
        "timed_out": int(c["timed_out"]), "late_max_ms": float(c["late_max_ms"]),
        "locality": float(client["locality"]["locality"]), "servers": client.get("servers", {}),
        "failures": client.get("failures", {}),
    }
    result["p99_by_server"] = p99_by_server(args.log) if args.log else {}
    rows = [x for x in samples if start - 0.5 <= x["t"] <= end + 0.5]
    result["cpu_ms_per_answer"] = {
        w: (rows[-1][w]["usage"] - rows[0][w]["usage"]) / 1000 / int(result["servers"][w])
        for w in WEBS if rows and int(result["servers"].get(w, 0)) > 0}
    # Weights: at the start, just before the step, at the end; and removals (a server out of the table).
    def weights_at(t):
        row = min(samples, key=lambda s: abs(s["t"] - t))
        return {w: row["ipvs"].get(w, {}).get("weight") for w in WEBS}
    result["weights_end"] = weights_at(end)
    removed = {w: sum(1 for a, b in zip(samples, samples[1:]) if w in a["ipvs"] and w not in b["ipvs"]) for w in WEBS}
    result["removals"] = removed
    if args.step:
        step = float(args.step)
        result["step_at"] = step - start
        result["weights_before_step"] = weights_at(step)
        before = utilisation(samples, max(start, step - 2 * WINDOW), step)
        result["max_mean_before_step"] = max_mean(before)
        after = utilisation(samples, step + WINDOW, end)
        result["max_mean_after_step"] = max_mean(after)
        result["util_after_step"] = after
        even_at = None
        t = step + WINDOW
        while t <= end:
            if (max_mean(utilisation(samples, t - WINDOW, t)) or 99) < EVEN:
                even_at = t - step
                break
            t += 1
        result["even_after_step"] = even_at
        result["web1_weight_settle"] = settle(samples, step, end)
    # Timeline of weights every 10 s, for the log.
    timeline = []
    t = start
    while t <= end:
        timeline.append("%3d:%s" % (t - start, "/".join(str(v if v is not None else "-") for v in weights_at(t).values())))
        t += 10
    result["weights_timeline"] = timeline
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f)
    print_arm(result)


def p99_by_server(path):
    """The p99 latency (ms) of the answered requests of each server, from the client's log (a line per request:
    `SCHEDULED_S SITE SERVER LATENCY_MS RESULT`): which server the tail comes from."""
    latencies = {}
    try:
        with open(path) as f:
            for line in f:
                fields = line.split()
                if len(fields) >= 5 and fields[2] in WEBS and fields[4] == "ok":
                    latencies.setdefault(fields[2], []).append(float(fields[3]))
    except (OSError, ValueError):
        return {}
    return {w: sorted(v)[min(len(v) - 1, int(0.99 * len(v)))] for w, v in latencies.items() if v}


def settle(samples, step, end):
    """How web1's weight answered the step (its quota halved): where it settled (the median of the last SETTLE_TAIL s),
    the time after the step from which it stayed within 10 % of that, and its reversals on the way (direction changes
    of moves of at least 5 % of the settled weight; smaller ones are rounding and noise). None without weights."""
    series = [(s["t"] - step, s["ipvs"]["web1"]["weight"]) for s in samples
              if step <= s["t"] <= end + 0.5 and "web1" in s["ipvs"]]
    tail = sorted(w for t, w in series if t >= end - step - SETTLE_TAIL)
    if len(series) < 2 or not tail:
        return None
    settled = tail[len(tail) // 2]
    band = max(1.0, 0.1 * settled)
    within_from = None
    for t, w in series:
        if abs(w - settled) > band:
            within_from = None
        elif within_from is None:
            within_from = t
    noise = max(1.0, 0.05 * settled)
    reversals, direction, anchor = 0, 0, series[0][1]
    for _, w in series[1:]:
        if abs(w - anchor) < noise:
            continue
        d = 1 if w > anchor else -1
        if direction and d != direction:
            reversals += 1
        direction, anchor = d, w
    return {"before": series[0][1], "settled": settled, "within_10pct_after": within_from, "reversals": reversals,
            "tail_seconds": SETTLE_TAIL}


def fmt(v, spec="%.2f"):
    return "-" if v is None else spec % v


def print_arm(r):
    print("  %s: utilisation of quota %s, max/mean %s" % (
        r["arm"], " ".join("%s %s" % (w, fmt(r["util"][w])) for w in WEBS), fmt(r["max_mean"])))
    print("  %s: latency p50 %.0f ms p99 %.0f ms p99.9 %.0f ms; sent %d answered %d failed %d timed out %d%s; "
          "client late by up to %.0f ms" % (
              r["arm"], r["p50"], r["p99"], r["p999"], r["sent"], r["answered"], r["failed"], r["timed_out"],
              (" (%s)" % " ".join("%s %s" % kv for kv in r["failures"].items())) if r["failures"] else "",
              r["late_max_ms"]))
    if r.get("p99_by_server"):
        print("  %s: p99 by server: %s" % (
            r["arm"], " ".join("%s %.0f ms" % (w, r["p99_by_server"][w]) for w in WEBS if w in r["p99_by_server"])))
    print("  %s: locality %.3f; answered by %s (cgroup CPU per answer %s ms); removals from the table %s" % (
        r["arm"], r["locality"], " ".join("%s %s" % kv for kv in sorted(r["servers"].items())),
        " ".join("%.1f" % r["cpu_ms_per_answer"][w] for w in WEBS if w in r["cpu_ms_per_answer"]),
        " ".join("%s %d" % kv for kv in r["removals"].items())))
    if "step_at" in r:
        print("  %s: step at %.0f s (web1's quota halved): max/mean %s before (last %d s), %s after (from %d s after "
              "it); even again (10 s window max/mean < %.1f) %s" % (
                  r["arm"], r["step_at"], fmt(r["max_mean_before_step"]), 2 * WINDOW, fmt(r["max_mean_after_step"]),
                  WINDOW, EVEN, "after %.0f s" % r["even_after_step"] if r["even_after_step"] is not None else "never"))
        w = r.get("web1_weight_settle")
        if w:
            print("  %s: web1's weight after the step: %d -> %d (median of the last %.0f s); within 10 %% of it from "
                  "%s after the step, %d reversal(s)" % (
                      r["arm"], w["before"], w["settled"], w["tail_seconds"],
                      "%.0f s" % w["within_10pct_after"] if w["within_10pct_after"] is not None else "never",
                      w["reversals"]))
    print("  %s: weights web1/web2/web3 every 10 s: %s" % (r["arm"], " ".join(r["weights_timeline"])))


def line(args):
    parts = []
    for path in args.arms:
        r = json.load(open(path))
        text = "%s max/mean %s p99 %.0f ms fail %d timeout %d locality %.2f" % (
            r["arm"], fmt(r["max_mean"]), r["p99"], r["failed"], r["timed_out"], r["locality"])
        if r.get("even_after_step") is not None:
            text += " even %.0f s after step" % r["even_after_step"]
        elif "step_at" in r:
            text += " never even after step"
        w = r.get("web1_weight_settle")
        if w and r["arm"] != "static":
            text += " web1 weight %d->%d settled %s rev %d" % (
                w["before"], w["settled"],
                "%.0f s" % w["within_10pct_after"] if w["within_10pct_after"] is not None else "never", w["reversals"])
        parts.append(text)
    print("balance %s %s%%: %s" % (args.scheduler, args.level, " | ".join(parts)))


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="mode", required=True)
    s = sub.add_parser("sample")
    s.add_argument("--out", required=True)
    s.add_argument("--stop", required=True)
    s.add_argument("--interval", type=float, default=1.0)
    r = sub.add_parser("report")
    r.add_argument("--arm", required=True)
    r.add_argument("--samples", required=True)
    r.add_argument("--client", required=True)
    r.add_argument("--log")
    r.add_argument("--step")
    r.add_argument("--json")
    ln = sub.add_parser("line")
    ln.add_argument("--level", required=True)
    ln.add_argument("--scheduler", required=True)
    ln.add_argument("arms", nargs="+")
    a = p.parse_args()
    {"sample": sample, "report": report, "line": line}[a.mode](a)
    return 0


if __name__ == "__main__":
    sys.exit(main())
