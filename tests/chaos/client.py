#!/usr/bin/env python3
"""client.py: the chaos test's clients.  Each thread is one user working
its own conversations with every kind of command, each command carrying an
Idempotency-Key and retried with the same key until it gets a definitive
answer (2xx or 4xx), some retried on purpose after success.  Writes one
JSON line per command to the record file."""

import argparse
import http.client
import json
import os
import random
import sys
import threading
import time
import uuid

RETRY_STATUSES = {500, 502, 503, 504}


class User:
    def __init__(self, args, n, token, rec, lock):
        self.args, self.n, self.token = args, n, token
        self.rec, self.lock = rec, lock
        self.sub = "chaos%d" % n
        self.conn = None
        self.conv = None
        self.members = []
        self.seq = 0
        self.stats = {"sent": 0, "accepted": 0, "refused": 0, "retries": 0,
                      "replays": 0, "gave_up": 0}

    def connect(self):
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.args.port,
                                                   timeout=30)
        return self.conn

    def once(self, method, path, body, key):
        headers = {"Authorization": "Bearer " + self.token,
                   "Idempotency-Key": key}
        if body is not None:
            headers["Content-Type"] = "application/json"
        conn = self.connect()
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            replayed = resp.getheader("Idempotent-Replayed") == "true"
            if resp.getheader("Connection", "").lower() == "close":
                self.drop()
            return resp.status, data, replayed
        except (OSError, http.client.HTTPException):
            self.drop()
            return None, b"", False

    def drop(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def command(self, kind, method, path, fields):
        """Sends until a definitive answer; records it; returns status, body."""
        key = str(uuid.uuid4())
        body = json.dumps(fields) if fields is not None else None
        deadline = time.time() + self.args.retry_seconds
        attempts = 0
        while True:
            attempts += 1
            status, data, replayed = self.once(method, path, body, key)
            if status is not None and status not in RETRY_STATUSES:
                break
            if time.time() > deadline:
                break
            self.stats["retries"] += 1
            time.sleep(0.05)
        self.stats["sent"] += 1
        event = None
        if status is not None and 200 <= status < 300:
            event = json.loads(data)
            self.stats["accepted"] += 1
            if random.random() < self.args.replay_rate:
                self.replay(method, path, body, key, data)
        elif status is not None and 400 <= status < 500:
            self.stats["refused"] += 1
        else:
            self.stats["gave_up"] += 1
        self.record(kind, key, status, event, attempts)
        return status, event

    def replay(self, method, path, body, key, first):
        """A deliberate retry of an accepted command: must replay exactly."""
        for _ in range(50):
            status, data, replayed = self.once(method, path, body, key)
            if status is not None and status not in RETRY_STATUSES:
                break
            time.sleep(0.05)
        self.stats["replays"] += 1
        ok = status == 201 and replayed and data == first
        with self.lock:
            self.rec.write(json.dumps({"replay_ok": ok, "key": key,
                                       "status": status}) + "\n")

    def record(self, kind, key, status, event, attempts):
        self.seq += 1
        line = {"user": self.sub, "n": self.seq, "kind": kind, "key": key,
                "status": status, "attempts": attempts,
                "event_id": event.get("event_id") if event else None,
                "conversation": (event.get("conversation_id") or event.get("id"))
                if event else self.conv}
        with self.lock:
            self.rec.write(json.dumps(line) + "\n")

    def step(self):
        if self.conv is None:
            status, ev = self.command("create", "POST", "/conversations/",
                                      {"name": "chaos %s %d" % (self.sub, self.seq)})
            if ev:
                self.conv, self.members = ev["id"], []
            return
        base = "/conversations/" + self.conv
        r = random.random()
        if r < 0.70:
            self.command("send", "POST", base,
                         {"message_content": "m%d from %s" % (self.seq, self.sub)})
        elif r < 0.85:
            pid = "p%d-%d" % (self.n, random.randrange(1000000))
            status, ev = self.command("add", "POST", base + "/members",
                                      {"participant_id": pid})
            if ev:
                self.members.append(pid)
        elif r < 0.97 and self.members:
            pid = self.members.pop(random.randrange(len(self.members)))
            self.command("remove", "DELETE", base + "/members/" + pid, None)
        elif r >= 0.97:
            status, ev = self.command("delete", "DELETE", base, None)
            if status is not None and status < 500:
                self.conv = None

    def run(self, quota, until):
        # At least quota commands, and on while the faults go on (until
        # the file `until` exists), so that every fault meets a load.
        while self.stats["sent"] < quota or (until and not os.path.exists(until)):
            self.step()
        self.drop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--tokens", required=True, help="file: one token per line")
    ap.add_argument("--commands", type=int, default=20000)
    ap.add_argument("--record", required=True)
    ap.add_argument("--replay-rate", type=float, default=0.03)
    ap.add_argument("--retry-seconds", type=float, default=120)
    ap.add_argument("--until", help="file: go on past --commands until it exists")
    args = ap.parse_args()
    tokens = open(args.tokens).read().split()
    lock = threading.Lock()
    rec = open(args.record, "w", buffering=1)
    users = [User(args, i, t, rec, lock) for i, t in enumerate(tokens)]
    quota = (args.commands + len(users) - 1) // len(users)
    threads = [threading.Thread(target=u.run, args=(quota, args.until))
               for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    total = {k: sum(u.stats[k] for u in users) for k in users[0].stats}
    print("clients: " + " ".join("%s=%d" % kv for kv in total.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
