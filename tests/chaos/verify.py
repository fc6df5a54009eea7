#!/usr/bin/env python3
"""verify.py: compares the chaos clients' record with the topic.  Every
2xx answer must have exactly one event; no event may exist that no client
sent; per conversation the topic order must equal the order in which the
(sequential) client had its commands accepted.  Prints the figures as
key=value pairs and exits 1 when a required zero is not zero."""

import json
import sys
from collections import Counter, defaultdict


def headers_of(msg):
    h = msg.get("headers") or []
    return {h[i]: h[i + 1] for i in range(0, len(h) - 1, 2)}


def load(record_path, topic_path):
    commands, replays = [], []
    for line in open(record_path):
        r = json.loads(line)
        (replays if "replay_ok" in r else commands).append(r)
    topic = []
    for line in open(topic_path):
        m = json.loads(line)
        ev = json.loads(m["payload"])
        topic.append((m["partition"], m["offset"], ev, headers_of(m), m["key"]))
    topic.sort(key=lambda t: (t[0], t[1]))
    return commands, replays, topic


def main(record_path, topic_path):
    commands, replays, topic = load(record_path, topic_path)
    accepted = [c for c in commands if c["status"] and 200 <= c["status"] < 300]
    unresolved = [c for c in commands if not c["status"] or c["status"] >= 500]
    keys_sent = {c["key"] for c in commands}
    on_topic = Counter(ev["event_id"] for _, _, ev, _, _ in topic)
    lost = sum(1 for c in accepted if on_topic[c["event_id"]] == 0)
    dup_ids = sum(n - 1 for n in on_topic.values() if n > 1)
    per_key = Counter(h.get("idempotency-key") for _, _, _, h, _ in topic)
    dup_keys = sum(n - 1 for k, n in per_key.items() if k and n > 1)
    phantom = sum(1 for _, _, _, h, _ in topic
                  if h.get("idempotency-key") not in keys_sent)
    bad_key = sum(1 for _, _, ev, _, key in topic
                  if key != (ev.get("conversation_id") or ev.get("id")))
    want = defaultdict(list)
    for c in sorted(accepted, key=lambda c: (c["user"], c["n"])):
        want[c["conversation"]].append(c["event_id"])
    accepted_ids = {c["event_id"] for c in accepted}
    got = defaultdict(list)
    for _, _, ev, _, key in topic:
        if ev["event_id"] in accepted_ids:
            got[key].append(ev["event_id"])
    misordered = sum(1 for conv, ids in want.items()
                     if [i for i in dict.fromkeys(got[conv])] != ids)
    figures = {
        "commands": len(commands), "accepted": len(accepted),
        "refused": len(commands) - len(accepted) - len(unresolved),
        "unresolved": len(unresolved), "events": len(topic),
        "lost": lost, "duplicated": max(dup_ids, dup_keys),
        "misordered": misordered, "phantom": phantom, "null_or_wrong_key": bad_key,
        "replays": len(replays),
        "replay_mismatch": sum(1 for r in replays if not r["replay_ok"]),
    }
    print(" ".join("%s=%d" % kv for kv in figures.items()))
    must_be_zero = ("lost", "duplicated", "misordered", "phantom",
                    "null_or_wrong_key", "replay_mismatch")
    return 1 if any(figures[k] for k in must_be_zero) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
