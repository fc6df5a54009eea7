#!/usr/bin/env python3
"""profile.py: instructions per request of the real FastCGI responder,
counted by callgrind, and where they go.

  profile.py BINARY OUTDIR

For each workload (a create; a message into an existing conversation),
the responder runs twice under callgrind, serving SMALL and then LARGE
requests after the same warm-up; the difference of the two counts,
divided by LARGE - SMALL, is the cost of one request without start-up
and shutdown.  The cost is split by where the instructions ran: each
shared library as a whole (SQLite, OpenSSL, json-c, libfcgi, libc), and
msgcmd's own code by source file.  Settings as for drive.py (DATABASE_PATH
is replaced by a fresh file per run, KEYCLOAK_PUBLIC_KEY, PRIVATE_KEY,
TOKEN_TOOL); the publisher is off (its thread is another profile).  One
token is reused for every request, as clients do for its lifetime."""

import json
import os
import re
import subprocess
import sys
from collections import defaultdict

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'sanitize'))
import drive  # noqa: E402  (tests/sanitize/drive.py: the FastCGI client)

WARM, SMALL, LARGE = 20, 50, 550

# Shared objects by the name of the part they stand for.
OBJECTS = [('libsqlite3', 'SQLite'), ('libcrypto', 'OpenSSL (JWT signature)'),
           ('libjson-c', 'json-c (parse, encode)'), ('libfcgi', 'libfcgi (FastCGI I/O)'),
           ('libc.so', 'libc (malloc, strings, syscalls)')]
# msgcmd's own source files by part.
FILES = [(r'lib/auth|lib/b64url', 'msgcmd: auth (header, claims, key)'),
         (r'lib/body|lib/field', 'msgcmd: body parsing'),
         (r'lib/store|lib/outbox|lib/db', 'msgcmd: store calls'),
         (r'lib/event|lib/problem|lib/response', 'msgcmd: event and answer'),
         (r'lib/log|lib/metrics', 'msgcmd: log line, metrics'),
         (r'lib/route|lib/handle|lib/decide|lib/idem|lib/cors|lib/ratelimit|lib/shard',
          'msgcmd: route, decide, handle'),
         (r'cgi/', 'msgcmd: FastCGI loop')]

LINE = re.compile(r'^\s*([\d,]+)\s+(?:\([^)]*\)\s+)?(\S+?):(\S+)\s*(?:\[(.+)\])?\s*$')


def part_of(path, obj):
    """The part an annotate line belongs to."""
    for key, name in OBJECTS:
        if obj and key in os.path.basename(obj):
            return name
    if obj and 'msgcmd' not in os.path.basename(obj):
        return 'other libraries'
    for pattern, name in FILES:
        if re.search(pattern, path):
            return name
    # callgrind_annotate names the object only now and then; glibc's own
    # sources are "./dir/file.c".
    if path.startswith('./'):
        return OBJECTS[-1][1]
    return 'msgcmd: other' if obj else 'other libraries'


def costs(outfile):
    """Self instructions by part, from callgrind_annotate."""
    out = subprocess.run(['callgrind_annotate', '--inclusive=no',
                          '--threshold=100', outfile],
                         check=True, capture_output=True, text=True).stdout
    parts, total = defaultdict(int), 0
    for line in out.splitlines():
        m = LINE.match(line)
        if not m or 'PROGRAM TOTALS' in line:
            continue
        ir = int(m.group(1).replace(',', ''))
        parts[part_of(m.group(2), m.group(4))] += ir
        total += ir
    return parts, total


def one_run(binary, outdir, name, n, requests):
    """Serves WARM + n requests under callgrind; returns (parts, total)."""
    out = os.path.join(outdir, 'callgrind.%s.%d' % (name, n))
    db = os.path.join(outdir, '%s-%d.db' % (name, n))
    os.environ['DATABASE_PATH'] = db
    server = drive.Responder(['valgrind', '--tool=callgrind',
                              '--callgrind-out-file=' + out, binary])
    failures = []
    try:
        for i in range(WARM + n):
            status, body = server.send(*requests(server, i))
            if status != 201:
                sys.exit('profile: %s request %d answered %d: %r' % (
                    name, i, status, body[:200]))
        server.stop(failures)
    finally:
        server.close()
    if failures:
        sys.exit('profile: the responder did not stop cleanly')
    return costs(out)


def workloads(auth):
    """(name, requests) pairs; requests(server, i) gives (params, body)."""
    create = b'{"name":"profile"}'

    def creates(_server, _i):
        return drive.params('POST', '/conversations/', None,
                            'application/json', create.decode(),
                            {'Authorization': auth}), create

    state = {}

    def messages(server, i):
        if 'conv' not in state or i == 0:
            status, out = server.send(*creates(server, 0))
            state['conv'] = json.loads(out.split(b'\r\n\r\n', 1)[1])['id']
        body = b'{"message_content":"hello from the profile"}'
        return drive.params('POST', '/conversations/' + state['conv'], None,
                            'application/json', body.decode(),
                            {'Authorization': auth}), body

    return [('create', creates), ('message', messages)]


def main():
    binary, outdir = sys.argv[1], sys.argv[2]
    auth = drive.token('profile')
    for name, requests in workloads(auth):
        small, small_total = one_run(binary, outdir, name, SMALL, requests)
        large, large_total = one_run(binary, outdir, name, LARGE, requests)
        n = LARGE - SMALL
        per = (large_total - small_total) / n
        print('%s: %.0f instructions per request (callgrind, %d requests'
              ' minus %d)' % (name, per, LARGE, SMALL))
        rows = sorted(((large[k] - small.get(k, 0)) / n, k) for k in large)
        for ir, part in reversed(rows):
            if ir >= per * 0.005:
                print('  %-40s %9.0f  %5.1f%%' % (part, ir, 100 * ir / per))


if __name__ == '__main__':
    main()
