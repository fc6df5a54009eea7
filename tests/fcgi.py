"""fcgi.py: a minimal FastCGI client and spawner for the tests that talk
to the real responder without a web server (tests/sanitize/drive.py,
t25-keys.sh, t26-jwks-url.sh).

  fcgi.py spawn SOCKET PROGRAM [ARG...]   listens on the Unix socket
                                          SOCKET and executes PROGRAM
                                          with it as fd 0, as FastCGI
                                          servers start a responder
  fcgi.py request SOCKET URI [TOKEN]      one GET of URI (with a bearer
                                          TOKEN); prints the responder's
                                          output: Status, headers, body
"""

import os
import socket
import struct
import sys

BEGIN, END, PARAMS, STDIN, STDOUT = 1, 3, 4, 5, 6


def record(kind, rid, content):
    """One FastCGI record (version 1) with padding to 8 bytes."""
    pad = -len(content) % 8
    return struct.pack('>BBHHBx', 1, kind, rid, len(content), pad) + \
        content + b'\0' * pad


def nv(name, value):
    """One name-value pair of a PARAMS stream."""
    def size(n):
        return bytes([n]) if n < 128 else struct.pack('>I', n | 0x80000000)
    name, value = name.encode(), value.encode()
    return size(len(name)) + size(len(value)) + name + value


def request(path, params, body=b'', timeout=None):
    """Sends one request (params a dict, body bytes) to the responder
    listening at path; returns its stdout bytes once it ended the
    request.  Raises ConnectionError when it closed the connection first
    (it died), OSError on other socket errors."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    msg = record(BEGIN, 1, struct.pack('>HB5x', 1, 0))
    data = b''.join(nv(k, v) for k, v in params.items())
    for i in range(0, len(data), 65535):
        msg += record(PARAMS, 1, data[i:i + 65535])
    msg += record(PARAMS, 1, b'')
    for i in range(0, len(body), 65535):
        msg += record(STDIN, 1, body[i:i + 65535])
    msg += record(STDIN, 1, b'')
    s.sendall(msg)
    buf, out = b'', b''
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                raise ConnectionError('closed before the end of the request')
            buf += chunk
            while len(buf) >= 8:
                _, kind, _, n, pad = struct.unpack('>BBHHBx', buf[:8])
                if len(buf) < 8 + n + pad:
                    break
                if kind == STDOUT:
                    out += buf[8:8 + n]
                buf = buf[8 + n + pad:]
                if kind == END:
                    return out
    finally:
        s.close()


def spawn(path, argv):
    """Executes argv with a socket listening at path as its fd 0."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.listen(16)
    os.dup2(s.fileno(), 0)
    os.execv(argv[0], argv)


def main():
    if sys.argv[1] == 'spawn':
        spawn(sys.argv[2], sys.argv[3:])
    params = {'REQUEST_METHOD': 'GET', 'REQUEST_URI': sys.argv[3],
              'GATEWAY_INTERFACE': 'CGI/1.1', 'CONTENT_LENGTH': '0'}
    if len(sys.argv) > 4 and sys.argv[4]:
        params['HTTP_AUTHORIZATION'] = 'Bearer ' + sys.argv[4]
    sys.stdout.write(request(sys.argv[2], params).decode())


if __name__ == '__main__':
    main()
