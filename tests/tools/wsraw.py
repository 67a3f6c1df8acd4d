#!/usr/bin/env python3
"""wsraw.py: a raw WebSocket client for tests/integration/test_websocket.sh.

    wsraw.py PORT CAFILE [--plain] [--then-ping] CASE[:ARG]...

For each case, one connection over TLS to 127.0.0.1:PORT (the test's
self-signed certificate as CA; with --plain, without TLS, CAFILE unused),
upgraded with subprotocol offramp.v1, on which it sends the hand-made
frames of the case (frames_of), reading between sends. Prints "== CASE", then what came back, one a line:

    text: <the first 200 bytes of a text frame>
    close: <the close code>  ("close: none": a close frame without one)
    open                     (a ping.ok ended the case, the connection open)
    eof / reset / blocked / timeout  (it ended without a close frame, the
                             server stopped reading, or nothing ended it)
    sent: <bytes written after the upgrade, headers included>

Every case is bounded in bytes and seconds (LIMITS). With --then-ping, a
ping on a new connection follows each case ("-- ping"). It only ever
talks to 127.0.0.1. Standard library only, and libsodium through ctypes
for the cases that log in (stall, unfinished: below).

The case "stall" is a peer that stops reading: it logs in with a new
client key, sends programme.list until the server stops reading its
requests (its queue full), then deletes the account on a second
connection, which makes the first close (1008) behind answers it has not
read. It reads that first connection slowly (4 kB/s) for SLOW s, then
not at all for STOP s, then all there is, and prints

    slow: open               (the slow reading left it open; else what
                             ended it)
    stop: reset / open       (the server reset it within STOP s)
    close: <code> / eof / reset  (how it ends when read to its end)

The case "unfinished:SECS" logs in (a new client key), sends the first
frame of a message (64 KiB, not final) and never its end, and waits SECS
s, answering pings: "ended: N s" when the server closed the connection
after N s, else "open".

The case "burst:SPEC" logs in (a new client key) and sends in one write
the requests SPEC lists, comma-separated KIND*COUNT: P, a ping with an
11-digit id (its answer 41 bytes: 1,525 of them fill 64 KiB with their
headers), l, programme.list; then, last, U (text that is not UTF-8), M
(an unmasked frame), R (a reserved bit set) or C (a close frame, 1000).
It reads every byte that comes back, checking
each frame (FIN and text, or a close; not masked; its length in the
shortest form; JSON) and prints

    answers: N/M in order     (or: out of order at K)
    bad: none                 (or what was wrong, the first five)
    close: <code> / eof / open
    after the close: N bytes  (read with the close frame, after it)

The case "utf8-wait:SECS" sends text that is not UTF-8 at once, does not
answer the close that comes, and reads for SECS s: prints "close:
<code>", then "after the close: <opcodes>" (of the frames that came
after it; "none").

The cases "silent:SECS" and "mute:SECS" log in (a new client key) and
send nothing more for SECS s; silent answers the server's pings, mute
does not. Each prints "pings: N" (the pings that came), then "ended: N
s" or "open" as above.
"""
import ctypes
import ctypes.util
import hashlib
import json
import argparse
import base64
import os
import select
import socket
import ssl
import struct
import sys
import time

PING = b'{"v":1,"type":"ping","id":1}'


def header(opcode, length, fin=True, masked=True, form=None):
    """The header of a frame; form 16 or 64 forces that length encoding
    (a non-minimal one for a short payload)."""
    b0 = (0x80 if fin else 0) | opcode
    m = 0x80 if masked else 0
    if form is None:
        form = 7 if length < 126 else 16 if length < 65536 else 64
    if form == 7:
        return struct.pack("!BB", b0, m | length)
    if form == 16:
        return struct.pack("!BBH", b0, m | 126, length)
    return struct.pack("!BBQ", b0, m | 127, length)


def frame(opcode, payload, fin=True, masked=True, form=None):
    h = header(opcode, len(payload), fin, masked, form)
    if not masked:
        return h + payload
    key = os.urandom(4)
    n = len(payload)
    k = (key * (n // 4 + 1))[:n]
    body = (int.from_bytes(payload, "big") ^ int.from_bytes(k, "big")) \
        .to_bytes(n, "big") if n else b""
    return h + key + body


def padded_ping(size):
    """A ping request of exactly size bytes (size >= 40)."""
    head = b'{"v":1,"type":"ping","id":1,"pad":"'
    return head + b"a" * (size - len(head) - 2) + b'"}'


def frames_of(case, arg):
    """The frames (bytes) of a case, lazily; may be endless."""
    if case == "ping":
        yield frame(1, PING)
    elif case == "unmasked":
        yield frame(1, PING, masked=False)
    elif case == "nonminimal16":
        yield frame(1, PING, form=16)
    elif case == "nonminimal64":
        yield frame(1, PING, form=64)
    elif case == "top-bit":
        # a 64-bit length with its top bit set (RFC 6455, 5.2)
        yield header(1, 1 << 63) + b"\0\0\0\0" + PING
    elif case == "long-ping":
        # a control frame of 126 bytes (RFC 6455, 5.5: 125 at most)
        yield frame(9, b"x" * 126)
    elif case == "unmasked-then-good":
        # a bad frame, then a good one, in one write
        yield frame(1, PING, masked=False) + frame(1, PING)
    elif case == "good-then-unmasked":
        # a good frame, then a bad one, in one write
        yield frame(1, PING) + frame(1, PING, masked=False)
    elif case == "early":
        # an unmasked frame sent with the upgrade request (Conn)
        return
    elif case == "rsv":
        # a text frame with a reserved bit set (RSV1: no extension)
        yield frame(0x40 | 1, PING)
    elif case == "opcode":
        # a frame with the reserved opcode arg
        yield frame(arg, PING)
    elif case == "ping-fragment":
        # a ping without FIN (RFC 6455, 5.5: never fragmented)
        yield frame(9, b"hi", fin=False)
    elif case == "stray-continuation":
        # a continuation frame with no message begun
        yield frame(0, PING)
    elif case == "message-in-message":
        # a new message before the one begun ended
        yield frame(1, PING[:10], fin=False) + frame(1, PING)
    elif case == "bad-utf8":
        yield frame(1, b'{"v":1,"type":"ping","id":1,"x":"\xc3\x28"}')
    elif case == "bad-utf8-split":
        # a character cut between two frames, never completed
        yield frame(1, b'{"v":1,"type":"ping","id":1,"x":"\xe2\x82', fin=False)
        yield frame(0, b'"}')
    elif case == "bad-utf8-long":
        # a frame of 65536 bytes, bad UTF-8 in its first 100
        yield frame(1, b"{" + b"\xff" * 99 + b" " * (65536 - 100))
    elif case == "close-code":
        yield frame(8, struct.pack("!H", arg) + b"bye")
    elif case == "close-empty":
        yield frame(8, b"")
    elif case == "close-reason-utf8":
        yield frame(8, struct.pack("!H", 1000) + b"bye \xc3\x28")
    elif case == "close-1byte":
        yield frame(8, b"\x03")
    elif case == "huge":
        # announces 2^32 bytes, then sends spaces (a zero mask key)
        yield header(1, 1 << 32) + b"\0\0\0\0"
        while True:
            yield b" " * 1024
    elif case == "message-over":
        # a message of frames of arg bytes each, never final
        yield frame(1, b"{" + b" " * (arg - 1), fin=False)
        while True:
            yield frame(0, b" " * arg, fin=False)
    elif case == "frames":
        # arg frames of one message, one byte each, then its end
        # (in batches of 500: as fast as the server reads them)
        yield frame(1, b"{", fin=False)
        for i in range(0, arg, 500):
            yield b"".join(frame(0, b" ", fin=False)
                           for _ in range(min(500, arg - i)))
        yield frame(0, b'"v":1,"type":"ping","id":1}')
    elif case == "bytes":
        # ping requests of arg bytes each, endless
        while True:
            yield frame(1, padded_ping(arg))
    else:
        raise SystemExit("wsraw: unknown case " + case)


class Conn:
    def __init__(self, port, cafile, plain=False, early=b"", rcvbuf=0):
        """Connects and upgrades; early: bytes sent in the same write as
        the upgrade request, before its answer; rcvbuf: the socket's
        receive buffer, set before it connects (0: the system's)."""
        raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        raw.settimeout(5)
        raw.connect(("127.0.0.1", port))
        if plain:
            self.s = raw
        else:
            ctx = ssl.create_default_context(cafile=cafile)
            ctx.check_hostname = False
            self.s = ctx.wrap_socket(raw)
        self.buf = b""
        self.sent = 0
        self.until_ok = False
        key = base64.b64encode(os.urandom(16)).decode()
        req = ("GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
               "Upgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
               "Sec-WebSocket-Protocol: offramp.v1\r\n\r\n" % (port, key))
        self.s.sendall(req.encode() + early)
        while b"\r\n\r\n" not in self.buf:
            d = self.s.recv(4096)
            if not d:
                raise SystemExit("wsraw: no upgrade")
            self.buf += d
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise SystemExit("wsraw: upgrade refused: %r" % head[:80])

    def readable(self, wait):
        if isinstance(self.s, ssl.SSLSocket) and self.s.pending():
            return True
        return bool(select.select([self.s], [], [], wait)[0])

    def read_some(self, wait):
        """Reads what is there (waiting up to wait s); False at the end."""
        if not self.readable(wait):
            return True
        try:
            d = self.s.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            print("reset")
            return False
        except ssl.SSLError:
            print("reset")
            return False
        if not d:
            print("eof")
            return False
        self.buf += d
        return self.parse()

    def parse(self):
        """Prints the whole frames in buf; False after a close frame."""
        while True:
            f = self.take_raw()
            if f is None:
                return True
            op, payload = f
            if op == 1:
                print("text: " + payload[:200].decode("utf-8", "replace"))
                if self.until_ok and b'"type":"ping.ok"' in payload:
                    print("open")
                    return False
            elif op == 8:
                if len(payload) >= 2:
                    print("close: %d" % struct.unpack("!H", payload[:2])[0])
                else:
                    print("close: none")
                return False

    def send(self, data):
        self.s.sendall(data)
        self.sent += len(data)

    def take_raw(self):
        """The first whole frame of buf, taken: (opcode, payload), or
        None."""
        if len(self.buf) < 2:
            return None
        n, off = self.buf[1] & 0x7f, 2
        if n == 126:
            if len(self.buf) < 4:
                return None
            n, off = struct.unpack("!H", self.buf[2:4])[0], 4
        elif n == 127:
            if len(self.buf) < 10:
                return None
            n, off = struct.unpack("!Q", self.buf[2:10])[0], 10
        if len(self.buf) < off + n:
            return None
        op, payload = self.buf[0] & 0x0f, self.buf[off:off + n]
        self.buf = self.buf[off + n:]
        return op, payload

    def take(self):
        """The next whole text frame of buf, parsed, or None."""
        while True:
            f = self.take_raw()
            if f is None:
                return None
            if f[0] == 1:
                return json.loads(f[1])


def next_text(c, wait=5):
    """The next text frame of c, parsed (pings answered by the server's
    rules are not ours to answer: lws sends none in this time)."""
    end = time.monotonic() + wait
    while time.monotonic() < end:
        got = c.take()
        if got is not None:
            return got
        if not c.readable(0.1):
            continue
        d = c.s.recv(65536)
        if not d:
            raise SystemExit("wsraw: closed while logging in")
        c.buf += d
    raise SystemExit("wsraw: no answer while logging in")


def log_in(c, pk, sk, sodium):
    """Logs c in as the client of key pk (a new account: its proof of
    work); True once login.ok came."""
    ch = next_text(c)
    nonce = base64.b64decode(ch["nonce"])
    msg = b"offramp-login-v1" + base64.b64decode(ch["server_key"]) + \
        nonce + pk
    sig = ctypes.create_string_buffer(64)
    sodium.crypto_sign_detached(sig, None, msg, ctypes.c_ulonglong(len(msg)),
                                sk)
    pre, pow_ = b"offramp.pow.login" + nonce + pk, 0
    while ch.get("pow", 0) > 0:
        h = hashlib.blake2b(pre + struct.pack("<Q", pow_),
                            digest_size=32).digest()
        if 256 - int.from_bytes(h, "big").bit_length() >= ch["pow"]:
            break
        pow_ += 1
    c.send(frame(1, json.dumps({
        "v": 1, "type": "login", "id": 1, "role": "client",
        "key": base64.b64encode(pk).decode(),
        "sig": base64.b64encode(sig.raw).decode(), "pow": pow_}).encode()))
    while True:
        f = next_text(c)
        if f.get("re") == 1:
            return f.get("type") == "login.ok"


def stall(port, cafile, plain, slow, stop):
    """The case "stall" (the module's text)."""
    a, pk, sk, sodium = new_client(port, cafile, plain, rcvbuf=4096)
    # 6,000 requests, 1,600 a second (the server's rate is 2,000), none
    # of whose answers it reads: with a programme's description of 512
    # bytes, 4 MB of answers, more than the server's socket holds
    a.s.setblocking(False)
    pending, sent, start = b"", 0, time.monotonic()
    end = start + 30
    while (sent < 6000 or pending) and time.monotonic() < end:
        if not pending:
            pause = start + sent / 1600 - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            pending = b"".join(frame(1, b'{"v":1,"type":"programme.list",'
                                     b'"id":%d}' % (sent + i + 2))
                               for i in range(80))
            sent += 80
        try:
            n = a.s.send(pending[:16384])
            pending = pending[n:]
            a.sent += n
        except (BlockingIOError, ssl.SSLWantWriteError):
            time.sleep(0.02)
    b = Conn(port, cafile, plain)
    if not log_in(b, pk.raw, sk, sodium):
        raise SystemExit("wsraw: second login refused")
    b.send(frame(1, b'{"v":1,"type":"account.delete","id":2}'))
    while True:
        f = next_text(b)
        if f.get("re") == 2:
            print("delete: " + f.get("type", "?"))
            break
    b.s.close()
    a.s.setblocking(True)
    a.s.settimeout(1)
    # 4 kB a second (over TLS a recv gives one record's text at most,
    # an answer's: as many as make 4 kB)
    state, end, got = "open", time.monotonic() + slow, 0
    try:
        while time.monotonic() < end:
            second = time.monotonic() + 1
            n = 0
            while n < 4096 and time.monotonic() < second:
                try:
                    d = a.s.recv(4096 - n)
                except socket.timeout:
                    continue
                if not d:
                    raise EOFError
                n += len(d)
            got += n
            pause = second - time.monotonic()
            if pause > 0:
                time.sleep(pause)
    except (ConnectionResetError, BrokenPipeError, ssl.SSLError):
        state = "reset"
    except EOFError:
        state = "eof"
    print("slow: %s (%d bytes read)" % (state, got))
    if state == "open":
        # the socket's state, without reading: 7 is TCP_CLOSE (a reset)
        end = time.monotonic() + stop
        while time.monotonic() < end and \
                a.s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[0] != 7:
            time.sleep(0.1)
        print("stop: " + ("open" if time.monotonic() >= end else "reset"))
        drain_to_end(a)
    a.s.close()


def new_client(port, cafile, plain, rcvbuf=0):
    """A connection logged in as a new client: (conn, pk, sk, sodium)."""
    sodium = ctypes.CDLL(ctypes.util.find_library("sodium"))
    if sodium.sodium_init() < 0:
        raise SystemExit("wsraw: no libsodium")
    pk = ctypes.create_string_buffer(32)
    sk = ctypes.create_string_buffer(64)
    sodium.crypto_sign_keypair(pk, sk)
    c = Conn(port, cafile, plain, rcvbuf=rcvbuf)
    if not log_in(c, pk.raw, sk, sodium):
        raise SystemExit("wsraw: login refused")
    return c, pk, sk, sodium


def raw_frames(c, secs):
    """The frames of c as they come, (opcode, payload), for secs s at
    most or until its end; c.ended says which: "eof", "reset" or
    "timeout"."""
    end = time.monotonic() + secs
    c.s.settimeout(0.2)
    c.ended = "timeout"
    while time.monotonic() < end:
        try:
            d = c.s.recv(65536)
        except (socket.timeout, ssl.SSLWantReadError):
            continue
        except (ConnectionResetError, BrokenPipeError, ssl.SSLError,
                OSError):
            c.ended = "reset"
            return
        if not d:
            c.ended = "eof"
            return
        c.buf += d
        while True:
            f = c.take_raw()
            if f is None:
                break
            yield f


def wait_end(c, secs, answer=True):
    """Reads c for secs s at most, answering the server's pings if
    answer: prints "ended: N s" if the server closed it after N s, else
    "open"; returns the pings that came."""
    pings = 0
    start = time.monotonic()
    try:
        for op, payload in raw_frames(c, secs):
            if op == 9:
                pings += 1
                if answer:
                    c.send(frame(10, payload))
            elif op == 8:
                break
    except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
        pass
    took = time.monotonic() - start
    print("open" if took >= secs else "ended: %d s" % round(took))
    c.s.close()
    return pings


def unfinished(port, cafile, plain, secs):
    """The case "unfinished" (the module's text)."""
    c = new_client(port, cafile, plain)[0]
    c.send(frame(1, b"{" + b" " * 65535, fin=False))
    wait_end(c, secs)


def strict_frames(c, want, secs, tail):
    """Reads c until want answers came (and, with tail, its end), for
    secs s at most, checking every frame: (answers, bad, close)."""
    answers, bad, close, after = [], [], "open", 0
    raw, end = c.buf, time.monotonic() + secs
    c.buf = b""
    c.s.settimeout(0.2)
    while True:
        while len(raw) >= 2:
            b0, n, off = raw[0], raw[1] & 0x7f, 2
            if n == 126:
                if len(raw) < 4:
                    break
                n, off = struct.unpack("!H", raw[2:4])[0], 4
                if n < 126:
                    bad.append("a 16-bit length of %d" % n)
            elif n == 127:
                if len(raw) < 10:
                    break
                n, off = struct.unpack("!Q", raw[2:10])[0], 10
                if n < 65536:
                    bad.append("a 64-bit length of %d" % n)
            if len(raw) < off + n:
                break
            payload, raw = raw[off:off + n], raw[off + n:]
            if b0 == 0x88:
                close = "%d" % struct.unpack("!H", payload[:2])[0] \
                    if len(payload) >= 2 else "none"
                after = len(raw)
                break
            if b0 != 0x81:
                bad.append("a frame of first byte %#x" % b0)
                continue
            try:
                answers.append(json.loads(payload).get("re"))
            except ValueError:
                bad.append("not JSON: %r" % payload[:40])
        if close != "open" or (len(answers) >= want and not tail) or \
                time.monotonic() >= end:
            break
        try:
            d = c.s.recv(1 << 20)
        except (socket.timeout, ssl.SSLWantReadError):
            continue
        except (ConnectionResetError, ssl.SSLError, OSError):
            close = "reset"
            break
        if not d:
            close = "eof"
            break
        raw += d
    return answers, bad, close, after


def burst(port, cafile, plain, spec):
    """The case "burst" (the module's text)."""
    c = new_client(port, cafile, plain)[0]
    ids, data, tail = [], [], None
    for part in spec.split(","):
        kind, _, count = part.partition("*")
        if kind in ("U", "M", "R", "C"):
            tail = {
                "U": frame(1, b'{"v":1,"type":"ping","id":1,"x":"\xc3\x28"}'),
                "M": frame(1, PING, masked=False),
                "R": frame(0x40 | 1, PING),
                "C": frame(8, struct.pack("!H", 1000))}[kind]
            continue
        for _ in range(int(count or 1)):
            i = 10000000000 + len(ids)
            ids.append(i)
            data.append(frame(1, json.dumps(
                {"v": 1, "type": "ping" if kind == "P" else "programme.list",
                 "id": i}, separators=(",", ":")).encode()))
    c.send(b"".join(data) + (tail or b""))
    answers, bad, close, after = strict_frames(c, len(ids), 30,
                                               tail is not None)
    answers = [a for a in answers if a is not None]
    at = next((k for k, (a, b) in enumerate(zip(answers, ids)) if a != b),
              None)
    print("answers: %d/%d %s" % (len(answers), len(ids), "in order"
          if at is None else "out of order at %d" % at))
    print("bad: %s" % ("; ".join(bad[:5]) if bad else "none"))
    print("close: %s" % close)
    print("after the close: %d bytes" % after)
    c.s.close()


def utf8_wait(port, cafile, plain, secs):
    """The case "utf8-wait" (the module's text)."""
    c = Conn(port, cafile, plain)
    c.send(frame(1, b'{"v":1,"type":"ping","id":1,"x":"\xc3\x28"}'))
    close, after = None, []
    for op, payload in raw_frames(c, secs):
        if close is not None:
            after.append("%d" % op)
        elif op == 8:
            close = struct.unpack("!H", payload[:2])[0] \
                if len(payload) >= 2 else "none"
    print("close: %s" % close)
    print("after the close: %s" % (" ".join(after) or "none"))
    c.s.close()


def silent(port, cafile, plain, secs, answer):
    """The cases "silent" and "mute" (the module's text)."""
    c = new_client(port, cafile, plain)[0]
    print("pings: %d" % wait_end(c, secs, answer))


def drain_to_end(c):
    """Reads c to its end (10 s at most), without printing its text
    frames: prints the close code, or eof / reset / timeout."""
    for op, payload in raw_frames(c, 10):
        if op == 8:
            print("close: %d" % struct.unpack("!H", payload[:2])[0]
                  if len(payload) >= 2 else "close: none")
            return
    print(c.ended)


def drain(c):
    """Reads what is left after a failed send, up to a close or an end."""
    try:
        c.s.settimeout(1)
        while c.read_some(1):
            if not c.readable(1):
                print("reset")
                return
    except OSError:
        print("reset")


# Per case: bytes to send at most, seconds in all, and whether a ping.ok
# ends it (the frame was taken; the connection is left open).
LIMITS = {
    "huge": (4 << 20, 5, False),
    "message-over": (4 << 20, 5, False),
    "bytes": (16 << 20, 10, False),
    "frames": (1 << 20, 8, False),
}
ANSWERED = ("ping",)


def run(port, cafile, spec, plain=False):
    """Runs one case ("name" or "name:arg") on a connection of its own."""
    name, _, arg = spec.partition(":")
    if name == "stall":
        slow, _, stop = arg.partition(",")
        stall(port, cafile, plain, float(slow or 6), float(stop or 20))
        return
    if name == "unfinished":
        unfinished(port, cafile, plain, float(arg or 10))
        return
    if name == "burst":
        burst(port, cafile, plain, arg)
        return
    if name == "utf8-wait":
        utf8_wait(port, cafile, plain, float(arg or 3))
        return
    if name in ("silent", "mute"):
        silent(port, cafile, plain, float(arg or 10), name == "silent")
        return
    max_bytes, secs, _ = LIMITS.get(name, (1 << 20, 5, False))
    until_ok = name in ANSWERED or (name == "frames" and int(arg) < 4000)
    start = time.monotonic()
    end = start + secs
    c = Conn(port, cafile, plain,
             frame(1, PING, masked=False) if name == "early" else b"")
    c.until_ok = until_ok
    open_ = c.parse()   # what came with the upgrade's answer
    out = frames_of(name, int(arg) if arg else 0)
    pending = b""
    try:
        while open_ and time.monotonic() < end and c.sent < max_bytes:
            if not pending:
                pending = next(out, None)
                if pending is None:
                    break
            w = select.select([], [c.s], [], 0.05)[1]
            if w:
                chunk, pending = pending[:16384], pending[16384:]
                c.send(chunk)
            open_ = c.read_some(0)
        while open_ and time.monotonic() < end:
            open_ = c.read_some(0.05)
        if open_:
            print("timeout")
    except socket.timeout:
        print("blocked")
    except (ConnectionResetError, BrokenPipeError, ssl.SSLError):
        # the server is gone; what it sent before may still be queued
        drain(c)
    print("sent: %d" % c.sent)
    print("elapsed_ms: %d" % ((time.monotonic() - start) * 1000))
    c.s.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("cafile")
    ap.add_argument("case", nargs="+", help="name or name:arg")
    ap.add_argument("--then-ping", action="store_true",
                    help="after each case, a ping on a new connection")
    ap.add_argument("--plain", action="store_true",
                    help="without TLS (CAFILE unused)")
    a = ap.parse_args()
    for spec in a.case:
        print("== " + spec)
        run(a.port, a.cafile, spec, a.plain)
        if a.then_ping:
            print("-- ping")
            run(a.port, a.cafile, "ping", a.plain)
        sys.stdout.flush()


if __name__ == "__main__":
    main()
