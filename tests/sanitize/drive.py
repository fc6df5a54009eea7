#!/usr/bin/env python3
"""drive.py: sends every request of REQUESTS to the real responder and
checks each status, over one of two gateways:

  drive.py cgi BINARY [WRAPPER...]      one process per request, as plain
                                        CGI (environment + stdin)
  drive.py fastcgi BINARY [WRAPPER...]  one process for all requests, a
                                        FastCGI listening socket on its
                                        stdin, as spawn-fcgi or lighttpd
                                        would start it

WRAPPER (e.g. valgrind and its options) is put in front of BINARY.  The
responder's settings come from the environment: DATABASE_PATH,
KEYCLOAK_PUBLIC_KEY, and PRIVATE_KEY (for the tokens, minted with
TOKEN_TOOL).  Prints "ok - ..." or "not ok - ..." per request and exits 1
when a status differs or a responder process exits non-zero (valgrind
exits VG_EXIT on a memory error or a leak)."""

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                '..'))
import fcgi  # noqa: E402  tests/fcgi.py

VG_EXIT = 99
TIMEOUT = 120  # seconds for one request, valgrind start-up included

# (method, path, who, content type, body, extra headers, wanted status).
# who: a token subject, None (no Authorization), "!bad" (not a JWT) or
# "!expired".  "{id}" is the conversation the first create made.
DJANGO = ('--BoUnDaRyStRiNg\r\nContent-Disposition: form-data; '
          'name="name"\r\n\r\nmultipart chat\r\n--BoUnDaRyStRiNg--\r\n')
MP = 'multipart/form-data; boundary=BoUnDaRyStRiNg'
JSON = 'application/json'
FORM = 'application/x-www-form-urlencoded'
UUID0 = '00000000-0000-4000-8000-000000000000'
REQUESTS = [
    ('GET', '/healthz', None, None, '', {}, 200),
    ('HEAD', '/healthz', None, None, '', {}, 200),
    ('GET', '/readyz', None, None, '', {}, 200),
    ('GET', '/conversations/test', 'alice', None, '', {}, 200),
    ('GET', '/conversations/test', None, None, '', {}, 401),
    ('GET', '/conversations/test', '!bad', None, '', {}, 401),
    ('GET', '/conversations/test', '!expired', None, '', {}, 401),
    ('POST', '/conversations/', 'alice', JSON, '{"name":"valgrind"}', {}, 201),
    ('POST', '/conversations/', 'alice', FORM, 'name=form+chat', {}, 201),
    ('POST', '/conversations/', 'alice', MP, DJANGO, {}, 201),
    ('POST', '/conversations/{id}', 'alice', JSON,
     '{"message_content":"hi \\u2713 \u00e9"}', {}, 201),
    ('POST', '/conversations/{id}/members', 'alice', FORM,
     'participant_id=bob', {}, 201),
    ('POST', '/conversations/{id}', 'bob', FORM, 'message_content=yo', {}, 201),
    ('POST', '/conversations/{id}/members/bob/remove', 'alice', None, '', {},
     201),
    ('POST', '/conversations/{id}', 'bob', JSON, '{"message_content":"x"}', {},
     403),
    ('POST', '/conversations/{id}/members', 'alice', JSON,
     '{"participant_id":"carol"}', {}, 201),
    ('DELETE', '/conversations/{id}/members/carol', 'alice', None, '', {}, 201),
    ('POST', '/conversations/{id}/members', 'bob', JSON,
     '{"participant_id":"bob"}', {}, 403),
    ('POST', '/conversations/', 'alice', JSON, '{"name":', {}, 400),
    ('POST', '/conversations/', 'alice', JSON, '{}', {}, 400),
    ('POST', '/conversations/', 'alice', JSON, '{"name":"a","name":"b"}', {},
     400),
    ('POST', '/conversations/', 'alice', 'text/plain', 'name', {}, 415),
    ('POST', '/conversations/', 'alice', JSON,
     '{"name":"' + 'x' * 70000 + '"}', {}, 413),
    ('GET', '/nowhere', 'alice', None, '', {}, 404),
    ('PUT', '/conversations/', 'alice', JSON, '{}', {}, 405),
    ('OPTIONS', '/conversations/', None, None, '',
     {'Origin': 'https://app.example',
      'Access-Control-Request-Method': 'POST'}, 204),
    ('POST', '/conversations/', 'alice', JSON, '{"name":"once"}',
     {'Idempotency-Key': 'valgrind-key-1'}, 201),
    ('POST', '/conversations/', 'alice', JSON, '{"name":"once"}',
     {'Idempotency-Key': 'valgrind-key-1'}, 201),
    ('POST', '/conversations/', 'alice', JSON, '{"name":"other"}',
     {'Idempotency-Key': 'valgrind-key-1'}, 422),
    ('POST', '/conversations/' + UUID0, 'alice', JSON,
     '{"message_content":"x"}', {}, 404),
    ('DELETE', '/conversations/{id}', 'bob', None, '', {}, 403),
    ('DELETE', '/conversations/{id}', 'alice', None, '', {}, 201),
    ('POST', '/conversations/{id}', 'alice', JSON, '{"message_content":"x"}',
     {}, 404),
]


def token(who):
    """Returns the Authorization value for who, or None."""
    if who is None:
        return None
    if who == '!bad':
        return 'Bearer not.a.jwt'
    args = [os.environ['TOKEN_TOOL'], '--key', os.environ['PRIVATE_KEY'],
            '--sub', 'alice']
    if who == '!expired':
        args += ['--ttl', '-3600']
    else:
        args[-1] = who
    out = subprocess.run(args, check=True, capture_output=True, text=True)
    return 'Bearer ' + out.stdout.strip()


def params(method, path, who, ctype, body, headers):
    """Returns the CGI/FastCGI parameters of one request."""
    p = {'GATEWAY_INTERFACE': 'CGI/1.1', 'REQUEST_METHOD': method,
         'REQUEST_URI': path, 'SCRIPT_NAME': '', 'PATH_INFO': path,
         'SERVER_PROTOCOL': 'HTTP/1.1',
         'CONTENT_LENGTH': str(len(body.encode()))}
    if ctype:
        p['CONTENT_TYPE'] = ctype
    auth = token(who)
    if auth:
        p['HTTP_AUTHORIZATION'] = auth
    for k, v in headers.items():
        p['HTTP_' + k.upper().replace('-', '_')] = v
    return p


def settings():
    """The responder's environment: the settings and nothing else."""
    keep = ('PATH', 'DATABASE_PATH', 'KEYCLOAK_PUBLIC_KEY')
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env.update(ENV_FILE='/dev/null', PUBLISHER='off', TOPIC='valgrind')
    return env


def status_of(out):
    """Returns the status of a CGI-style response (200 without Status)."""
    head = out.split(b'\r\n\r\n', 1)[0]
    for line in head.split(b'\r\n'):
        if line.lower().startswith(b'status:'):
            return int(line.split()[1]), out
    return 200, out


def cgi(cmd, p, body):
    env = settings()
    env.update(p)
    run = subprocess.run(cmd, input=body, env=env, capture_output=True,
                         timeout=TIMEOUT)
    status, out = status_of(run.stdout)
    return status, out, run.returncode


def fcgi_request(path, p, body):
    """Sends one request to the responder listening at path; returns the
    status and the response bytes."""
    return status_of(fcgi.request(path, p, body, timeout=TIMEOUT))


def check(n, req, status, out, failures):
    method, path, who, _, _, _, want = req
    desc = '%s %s as %s' % (method, path, who)
    if status == want:
        print('ok %d - %s: %d' % (n, desc, status))
        return
    print('not ok %d - %s: %d, want %d: %s' % (n, desc, status, want,
                                               out[:300]))
    failures.append(n)


def conversation_id(out):
    body = out.split(b'\r\n\r\n', 1)[1]
    return json.loads(body)['id']


class Responder:
    """One FastCGI responder process, as a FastCGI server spawns it: a
    listening Unix socket on its stdin, stderr kept in a file."""

    def __init__(self, cmd):
        self.dir = tempfile.mkdtemp(prefix='msgcmd-fcgi.')
        self.path = os.path.join(self.dir, 'msgcmd.sock')
        self.errlog = open(os.path.join(self.dir, 'responder.log'), 'w+')
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(self.path)
        listener.listen(8)
        self.proc = subprocess.Popen(cmd, stdin=listener.fileno(),
                                     stdout=subprocess.DEVNULL,
                                     stderr=self.errlog, env=settings())
        listener.close()

    def send(self, p, body):
        try:
            return fcgi_request(self.path, p, body)
        except OSError as e:
            return 0, str(e).encode()

    def stop(self, failures):
        """SIGTERM, as lighttpd stops it; the exit status must be 0."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        if rc == 0:
            print('ok - FastCGI responder exited 0 after SIGTERM')
            return
        print('not ok - FastCGI responder exited %d%s; its stderr:' % (
            rc, ' (valgrind errors)' if rc == VG_EXIT else ''))
        self.errlog.seek(0)
        print(''.join(self.errlog.readlines()[-20:]), end='')
        failures.append('exit')

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.errlog.close()
        for name in os.listdir(self.dir):
            os.unlink(os.path.join(self.dir, name))
        os.rmdir(self.dir)


def run(cmd, server, failures):
    """Sends every request, through server or as CGI when it is None."""
    conv = UUID0
    for n, req in enumerate(REQUESTS, 1):
        method, rpath, who, ctype, body, headers, _ = req
        p = params(method, rpath.replace('{id}', conv), who, ctype, body,
                   headers)
        if server is None:
            status, out, rc = cgi(cmd, p, body.encode())
            if rc != 0:
                print('not ok %d - %s %s: responder exited %d%s' % (
                    n, method, rpath, rc,
                    ' (valgrind errors)' if rc == VG_EXIT else ''))
                failures.append(n)
        else:
            status, out = server.send(p, body.encode())
        check(n, req, status, out, failures)
        if server is not None and server.proc.poll() is not None:
            print('not ok - the FastCGI responder died; stopping')
            failures.append('died')
            return
        if status == 201 and conv == UUID0 and method == 'POST':
            conv = conversation_id(out)


def main():
    mode, binary, wrapper = sys.argv[1], sys.argv[2], sys.argv[3:]
    cmd = wrapper + [binary]
    failures = []
    if mode == 'cgi':
        run(cmd, None, failures)
    else:
        server = Responder(cmd)
        try:
            run(cmd, server, failures)
            server.stop(failures)
        finally:
            server.close()
    print('%s: %d requests, %d failed' % (mode, len(REQUESTS), len(failures)))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
