#!/usr/bin/env python3
"""table.py: prints bench.sh's results file as one table with ratios:
msgcmd over the trivial responder (the path's ceiling) and, for
synchronous=FULL, over SQLite's own single-process commit rate."""

import re
import sys


def parse(path):
    runs, facts = {}, {}
    for line in open(path):
        words = line.split()
        if not words:
            continue
        kv = dict(w.split("=", 1) for w in words[1:] if "=" in w)
        m = re.match(r"(\w+)/(create|mix) c=(\d+)", line)
        if m:
            runs[(m.group(1), m.group(2), int(m.group(3)))] = kv
        elif words[0].endswith("/rss_kb"):
            facts[words[0]] = " ".join(words[1:])
        else:
            facts[words[0]] = kv
    return runs, facts


def cell(run):
    if not run:
        return "%8s %7s %7s" % ("-", "-", "-")
    return "%8s %7s %7s" % (run["rps"], run["p50_ms"], run["p99_ms"])


def ratio(a, b):
    try:
        return "%5.0f%%" % (100.0 * float(a["rps"]) / float(b))
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return "     -"


def main(path):
    runs, facts = parse(path)
    conns = sorted({c for (_, _, c) in runs})
    full_rate = facts.get("sqlite/FULL", {}).get("commits_per_s")
    print("commands/s, p50 ms, p99 ms; ratio = ours / ceiling measured in this run")
    print("%-4s | %-24s | %-24s %6s | %-24s | %-24s %6s | %-24s" % (
        "conn", "(c) trivial responder", "(a) create, NORMAL", "/triv",
        "(b) mix, NORMAL", "(a) create, FULL", "/sqlite", "(b) mix, FULL"))
    for c in conns:
        triv = runs.get(("trivial", "create", c))
        nc, fc = runs.get(("normal", "create", c)), runs.get(("full", "create", c))
        print("%-4d | %s | %s %6s | %s | %s %6s | %s" % (
            c, cell(triv), cell(nc), ratio(nc, triv and triv.get("rps")),
            cell(runs.get(("normal", "mix", c))), cell(fc),
            ratio(fc, full_rate), cell(runs.get(("full", "mix", c)))))
    print("(d) SQLite single-process durable commits/s: NORMAL %s, FULL %s" % (
        facts.get("sqlite/NORMAL", {}).get("commits_per_s", "-"), full_rate or "-"))
    lag, target = facts.get("publish_lag", {}), facts.get("lag", {})
    half = runs.get(("lag", "create", 8), {})
    print("publish lag (Kafka append time - created_at) at half load "
          "(%s of a target %s commands/s, p99 %s ms): p50 %s ms, p99 %s ms over %s events" % (
              half.get("rps", "-"), target.get("target_rps", "-"), half.get("p99_ms", "-"),
              lag.get("p50_ms", "-"), lag.get("p99_ms", "-"), lag.get("events", "-")))
    d = facts.get("drain", {})
    print("drain of a %s-event backlog: %s s, %s events/s" % (
        d.get("events", "-"), d.get("seconds", "-"), d.get("events_per_s", "-")))
    for name in ("normal", "full"):
        print("RSS [PSS] per responder after the %s runs (kB): %s" % (
            name, facts.get(name + "/rss_kb", "-")))
    hist = facts.get("history")
    if hist:
        print("history: %s events, %s conversations, %s idempotency keys, %s MB "
              "(written in %s s); 32 connections, every request with its own key:" % (
                  hist.get("events"), hist.get("conversations"),
                  hist.get("idempotency_keys"), hist.get("db_mb"), hist.get("written_s")))
        for mode in ("create", "mix"):
            e, h = runs.get(("empty", mode, 32)), runs.get(("history", mode, 32))
            print("  %-6s empty %s | history %s | history/empty %s" % (
                mode, cell(e), cell(h), ratio(h, e and e.get("rps"))))
    soak = sorted(((int(k.split("/")[1][:-1]), v) for k, v in facts.items()
                   if k.startswith("soak/") and k.endswith("/rss_kb")))
    if soak:
        print("soak, mix at 8 connections: RSS [PSS] per responder (kB) by time")
        for t, v in soak:
            print("  %5d s: %s" % (t, v))


if __name__ == "__main__":
    main(sys.argv[1])
