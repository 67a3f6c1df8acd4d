#!/usr/bin/env python3
"""hostile_server.py: a stand-in for a compromised offramp server, for
tests/integration/test_hostile.sh: what a client must refuse from a server
it does not trust.

    hostile_server.py PORTFILE SCENARIO

Listens on 127.0.0.1 (a free port, written to PORTFILE once listening),
takes one WebSocket connection (subprotocol offramp.v1, plain ws://),
sends a challenge (proof of work 0) and plays SCENARIO:

    pow-high      the client's "login" is answered pow_required, and a
                  fresh challenge asks for a proof of work of 29 bits (more
                  than the protocol's most, 28: days of a phone's time at
                  40, which a client once searched for)
    stray-answer  the login is answered login.ok; before the answer to the
                  next request comes an answer ("re") to a request the
                  client never made, 100 kB long
    push-flood    the login is answered login.ok; before the answer to the
                  next request come 300 pushes of 120 kB each (36 MB),
                  each an array of 30,000 empty objects: parsed, many
                  times their bytes
    role-lie      the login is answered login.ok for a counsellor (the
                  client logged in as a client)

then answers every request with {"type": "pong"} until the client
closes. Prints what it received, a line a frame, on stderr. Bounded: it
gives up after 30 s. Standard library only; loopback only.
"""
import base64
import hashlib
import json
import os
import socket
import struct
import sys

LIMIT_S = 30
FRAME_MAX = 1 << 20


def recv_exact(c, n):
    b = b''
    while len(b) < n:
        x = c.recv(n - len(b))
        if not x:
            raise EOFError
        b += x
    return b


def read_frame(c):
    h = recv_exact(c, 2)
    n = h[1] & 0x7f
    if n == 126:
        n = struct.unpack('>H', recv_exact(c, 2))[0]
    elif n == 127:
        n = struct.unpack('>Q', recv_exact(c, 8))[0]
    if n > FRAME_MAX:
        raise ValueError('frame too long')
    mask = recv_exact(c, 4) if h[1] & 0x80 else b'\0' * 4
    d = bytearray(recv_exact(c, n))
    for i in range(n):
        d[i] ^= mask[i % 4]
    return h[0] & 0xf, bytes(d)


def send(c, obj):
    d = json.dumps(obj).encode()
    h = bytes([0x81])
    n = len(d)
    if n < 126:
        h += bytes([n])
    elif n < 65536:
        h += bytes([126]) + struct.pack('>H', n)
    else:
        h += bytes([127]) + struct.pack('>Q', n)
    c.sendall(h + d)


def challenge(pow_bits):
    return {'v': 1, 'type': 'challenge',
            'nonce': base64.b64encode(os.urandom(32)).decode(),
            'server_key': base64.b64encode(bytes(range(32))).decode(),
            'pow': pow_bits}


def next_request(c):
    """The next text frame as JSON, None at a close."""
    while True:
        op, d = read_frame(c)
        if op == 8:
            return None
        if op == 1:
            f = json.loads(d)
            sys.stderr.write('got %s\n' % f.get('type'))
            return f


def main():
    portfile, scenario = sys.argv[1], sys.argv[2]
    if scenario not in ('pow-high', 'stray-answer', 'push-flood',
                        'role-lie'):
        sys.exit('hostile_server.py: unknown scenario %s' % scenario)
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    s.listen(1)
    s.settimeout(LIMIT_S)
    with open(portfile + '.new', 'w') as f:
        f.write('%d\n' % s.getsockname()[1])
    os.rename(portfile + '.new', portfile)
    c, _ = s.accept()
    c.settimeout(LIMIT_S)
    req = b''
    while b'\r\n\r\n' not in req:
        x = c.recv(4096)
        if not x or len(req) > 16384:
            return
        req += x
    key = [l.split(b':', 1)[1].strip() for l in req.split(b'\r\n')
           if l.lower().startswith(b'sec-websocket-key:')][0]
    acc = base64.b64encode(hashlib.sha1(
        key + b'258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest())
    c.sendall(b'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n'
              b'Connection: Upgrade\r\nSec-WebSocket-Accept: ' + acc +
              b'\r\nSec-WebSocket-Protocol: offramp.v1\r\n\r\n')
    send(c, challenge(0))
    f = next_request(c)
    if f is None:
        return
    if scenario == 'pow-high':
        send(c, {'v': 1, 'type': 'error', 're': f.get('id'),
                 'code': 'pow_required'})
        send(c, challenge(29))
    else:
        role = 'counsellor' if scenario == 'role-lie' else 'client'
        send(c, {'v': 1, 'type': 'login.ok', 're': f.get('id'),
                 'account': {'role': role, 'name': 'x'},
                 'created': False})
        f = next_request(c)
        if f is None:
            return
        if scenario == 'stray-answer':
            send(c, {'v': 1, 'type': 'msg.send.ok', 're': 1000000,
                     'pad': 'A' * 100000})
        else:
            push = {'v': 1, 'type': 'msg', 'x': [{}] * 30000}
            for _ in range(300):
                send(c, push)
        send(c, {'v': 1, 'type': 'pong', 're': f.get('id')})
    while True:
        f = next_request(c)
        if f is None:
            return
        send(c, {'v': 1, 'type': 'pong', 're': f.get('id')})


if __name__ == '__main__':
    try:
        main()
    except (EOFError, OSError, ValueError) as e:
        sys.stderr.write('hostile_server.py: %s\n' % e)
