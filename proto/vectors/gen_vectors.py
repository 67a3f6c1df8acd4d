#!/usr/bin/env python3
"""
gen_vectors.py: writes the JSON test vectors of proto/vectors/ from a
second, independent implementation of CRYPTO.md in Python (the
'cryptography' package for X25519, Ed25519 and ChaCha20-Poly1305; HKDF,
HChaCha20, padding (with the old buckets, which are only read), the
ratchet and the formats written out here). The C
library must reproduce every vector (tests/unit/test_ratchet_vectors.c).
Run: python3 gen_vectors.py  (in this directory). Output is deterministic.
"""
import hashlib, hmac, json, struct
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives import serialization as ser

RAW = dict(encoding=ser.Encoding.Raw, format=ser.PublicFormat.Raw)

def key(label):  # a fixed 32-byte private key or seed
    return hashlib.sha256(b"offramp-vector:" + label.encode()).digest()

def hkdf(ikm, salt, info, n):
    prk = hmac.new(salt if salt else b"\0" * 32, ikm, hashlib.sha256).digest()
    t, out, i = b"", b"", 1
    while len(out) < n:
        t = hmac.new(prk, t + info + bytes([i]), hashlib.sha256).digest()
        out += t
        i += 1
    return out[:n]

def x_pub(sk):
    return X25519PrivateKey.from_private_bytes(sk).public_key().public_bytes(**RAW)

def dh(sk, pk):
    out = X25519PrivateKey.from_private_bytes(sk).exchange(X25519PublicKey.from_public_bytes(pk))
    assert out != b"\0" * 32
    return out

def ed_pub(seed):
    return Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(**RAW)

def ed_sign(seed, msg):
    return Ed25519PrivateKey.from_private_bytes(seed).sign(msg)

P = 2**255 - 19
def ed_pk_to_x(pk):
    y = int.from_bytes(pk, "little") & ((1 << 255) - 1)
    return ((1 + y) * pow(1 - y, P - 2, P) % P).to_bytes(32, "little")

def ed_sk_to_x(seed):
    h = bytearray(hashlib.sha512(seed).digest()[:32])
    h[0] &= 248; h[31] &= 127; h[31] |= 64
    return bytes(h)

M32 = 0xffffffff
def _qr(s, a, b, c, d):
    rot = lambda v, n: ((v << n) & M32) | (v >> (32 - n))
    s[a] = (s[a] + s[b]) & M32; s[d] = rot(s[d] ^ s[a], 16)
    s[c] = (s[c] + s[d]) & M32; s[b] = rot(s[b] ^ s[c], 12)
    s[a] = (s[a] + s[b]) & M32; s[d] = rot(s[d] ^ s[a], 8)
    s[c] = (s[c] + s[d]) & M32; s[b] = rot(s[b] ^ s[c], 7)

def hchacha20(k, n16):
    s = [0x61707865, 0x3320646e, 0x79622d32, 0x6b206574]
    s += list(struct.unpack("<8I", k)) + list(struct.unpack("<4I", n16))
    for _ in range(10):
        _qr(s, 0, 4, 8, 12); _qr(s, 1, 5, 9, 13); _qr(s, 2, 6, 10, 14); _qr(s, 3, 7, 11, 15)
        _qr(s, 0, 5, 10, 15); _qr(s, 1, 6, 11, 12); _qr(s, 2, 7, 8, 13); _qr(s, 3, 4, 9, 14)
    return struct.pack("<8I", *(s[0:4] + s[12:16]))

def xchacha_seal(k, n24, pt, ad):
    return ChaCha20Poly1305(hchacha20(k, n24[:16])).encrypt(b"\0" * 4 + n24[16:], pt, ad)

def xchacha_open(k, n24, ct, ad):
    return ChaCha20Poly1305(hchacha20(k, n24[:16])).decrypt(b"\0" * 4 + n24[16:], ct, ad)

# Padding (CRYPTO.md, "Padding"): the padded size is the wire size less the
# message's own overhead (header, X3DH fields, nonce, tag), so that every
# message is WIRE_SHORT or WIRE_LONG bytes; the limits are a first
# message's, whatever the overhead.
WIRE_SHORT, WIRE_LONG = 1024, 16282
OVERHEAD_FIRST, OVERHEAD_LATER, OVERHEAD_NOTE = 42 + 72 + 24 + 16, 42 + 24 + 16, 24 + 16
SHORT_MAX = WIRE_SHORT - OVERHEAD_FIRST - 1     # 869
PT_MAX = WIRE_LONG - OVERHEAD_FIRST - 1         # 16127
OLD_BUCKETS = [64, 256, 1024, 4096, 16128]      # before fixed sizes: read only

def pad_size(n, overhead):
    assert n <= PT_MAX and overhead <= OVERHEAD_FIRST
    return (WIRE_SHORT if n <= SHORT_MAX else WIRE_LONG) - overhead

def pad(pt, overhead):
    n = pad_size(len(pt), overhead)
    return pt + b"\x80" + b"\0" * (n - len(pt) - 1)

def old_pad(pt):
    n = next(b for b in OLD_BUCKETS if len(pt) < b)
    return pt + b"\x80" + b"\0" * (n - len(pt) - 1)

def unpad(b, overhead):
    s = b.rstrip(b"\0")
    assert s[-1] == 0x80
    s = s[:-1]
    assert len(b) == pad_size(len(s), overhead) or len(b) == len(old_pad(s))
    return s

be32 = lambda v: struct.pack(">I", v)

# ---- X3DH ----
def spk_msg(spk_id, spk):
    return b"offramp-spk-v1" + be32(spk_id) + spk

def bundle(ik_seed, spk_id, spk_sk, opks):
    out = bytes([1]) + ed_pub(ik_seed) + be32(spk_id) + x_pub(spk_sk)
    out += ed_sign(ik_seed, spk_msg(spk_id, x_pub(spk_sk)))
    out += struct.pack(">H", len(opks))
    for oid, osk in opks:
        out += be32(oid) + x_pub(osk)
    return out

def x3dh_sk(dhs):
    return hkdf(b"\xff" * 32 + b"".join(dhs), b"", b"offramp-x3dh-v1", 32)

def x3dh_initiator(ika, ek, ikb_pub, spk_pub, opk_pub):
    d = [dh(ed_sk_to_x(ika), spk_pub), dh(ek, ed_pk_to_x(ikb_pub)), dh(ek, spk_pub)]
    if opk_pub: d.append(dh(ek, opk_pub))
    return x3dh_sk(d), ed_pub(ika) + ikb_pub

def x3dh_responder(ikb, spk, opk, ika_pub, ek_pub):
    d = [dh(spk, ed_pk_to_x(ika_pub)), dh(ed_sk_to_x(ikb), ek_pub), dh(spk, ek_pub)]
    if opk: d.append(dh(opk, ek_pub))
    return x3dh_sk(d), ika_pub + ed_pub(ikb)

# ---- Double Ratchet ----
def kdf_rk(rk, d):
    o = hkdf(d, rk, b"offramp-ratchet-v1", 64)
    return o[:32], o[32:]

def kdf_ck(ck):
    return hmac.new(ck, b"\x01", hashlib.sha256).digest(), hmac.new(ck, b"\x02", hashlib.sha256).digest()

VERSION = 2       # message format; 1 (nonce derived from mk) is retired
NONCE = 24

def msg_key(mk):  # the AEAD key; the nonce is random and sent
    return hkdf(mk, b"", b"offramp-msg-v1", 32)

class Random:
    """One party's random source, in the order the C library draws from
    csprng_buf: 32 bytes for each X25519 key it generates, 24 bytes for the
    nonce of each message it sends. Values are fixed by label and count."""
    def __init__(self, who):
        self.who, self.nkeys, self.nnonces = who, 0, 0
        self.draws = []          # every draw, in order

    def __call__(self, n):
        if n == 32:
            v = key("%s-ratchet-%d" % (self.who, self.nkeys))
            self.nkeys += 1
        elif n == NONCE:
            v = key("%s-nonce-%d" % (self.who, self.nnonces))[:NONCE]
            self.nnonces += 1
        else:
            raise ValueError(n)
        self.draws.append(v)
        return v

class Ratchet:
    def __init__(self, rand):
        self.rand = rand         # its random source
        self.skipped = []        # [(dh, n, mk)] in insertion order
        self.init = None

    def gen(self):
        sk = self.rand(32)
        return sk, x_pub(sk)

    def init_initiator(self, sk, ad, spk_pub, init):
        self.ad, self.init, self.send_init = ad, init, True
        self.dhs, self.dhs_pub = self.gen()
        self.dhr = spk_pub
        self.rk, self.cks = kdf_rk(sk, dh(self.dhs, self.dhr))
        self.ckr, self.ns, self.nr, self.pn = None, 0, 0, 0

    def init_responder(self, sk, ad, spk_sk):
        self.ad, self.send_init, self.rk = ad, False, sk
        self.dhs, self.dhs_pub = spk_sk, x_pub(spk_sk)
        self.dhr = self.cks = self.ckr = None
        self.ns = self.nr = self.pn = 0

    def encrypt(self, pt, padding=None):
        flags = 0
        if self.send_init:
            flags = 1 | (2 if self.init["opk_id"] is not None else 0)
        hdr = bytes([VERSION, flags]) + self.dhs_pub + be32(self.pn) + be32(self.ns)
        if self.send_init:
            i = self.init
            hdr += i["ik"] + i["ek"] + be32(i["spk_id"]) + be32(i["opk_id"] or 0)
        nonce = self.rand(NONCE)   # AD = X3DH AD || header (nonce not in it)
        mk, self.cks = kdf_ck(self.cks)
        self.ns += 1
        padded = padding(pt) if padding else pad(pt, len(hdr) + NONCE + 16)
        return hdr + nonce + xchacha_seal(msg_key(mk), nonce, padded, self.ad + hdr)

    def skip(self, until):
        if self.ckr is None:
            return
        assert until - self.nr <= 1000
        while self.nr < until:
            mk, self.ckr = kdf_ck(self.ckr)
            self.skipped.append((self.dhr, self.nr, mk))
            self.nr += 1

    def decrypt(self, msg):
        assert msg[0] == VERSION
        flags, dh_pub = msg[1], msg[2:34]
        pn, n = struct.unpack(">II", msg[34:42])
        hl = 42 + (72 if flags & 1 else 0)
        hdr, nonce, ct = msg[:hl], msg[hl:hl + NONCE], msg[hl + NONCE:]
        for i, (d, sn, mk) in enumerate(self.skipped):
            if d == dh_pub and sn == n:
                del self.skipped[i]
                break
        else:
            if dh_pub != self.dhr:
                self.skip(pn)
                self.pn, self.ns, self.nr, self.dhr = self.ns, 0, 0, dh_pub
                self.rk, self.ckr = kdf_rk(self.rk, dh(self.dhs, self.dhr))
                self.dhs, self.dhs_pub = self.gen()
                self.rk, self.cks = kdf_rk(self.rk, dh(self.dhs, self.dhr))
            self.skip(n)
            mk, self.ckr = kdf_ck(self.ckr)
            self.nr += 1
        pt = unpad(xchacha_open(msg_key(mk), nonce, ct, self.ad + hdr), hl + NONCE + 16)
        self.send_init = False
        return pt

def h(b): return b.hex()

def main():
    out = {}
    # HKDF: RFC 5869 A.1-A.3
    out["hkdf"] = {"description": "RFC 5869 test cases 1-3 (HKDF-SHA256)", "cases": []}
    for ikm, salt, info, L in [(b"\x0b" * 22, bytes(range(13)), bytes(range(0xf0, 0xfa)), 42),
                               (bytes(range(0x50)), bytes(range(0x60, 0xb0)), bytes(range(0xb0, 0x100)), 82),
                               (b"\x0b" * 22, b"", b"", 42)]:
        prk = hmac.new(salt or b"\0" * 32, ikm, hashlib.sha256).digest()
        out["hkdf"]["cases"].append({"ikm": h(ikm), "salt": h(salt), "info": h(info), "length": L,
                                     "prk": h(prk), "okm": h(hkdf(ikm, salt, info, L))})

    # X3DH
    ika, ikb = key("alice-identity-seed"), key("bob-identity-seed")
    spk, opk, ek = key("bob-spk"), key("bob-opk-7"), key("alice-ek")
    spk_id, opk_id = 3, 7
    b_full = bundle(ikb, spk_id, spk, [(opk_id, opk), (8, key("bob-opk-8"))])
    b_one = bundle(ikb, spk_id, spk, [(opk_id, opk)])
    xv = {"ika_seed": h(ika), "ika_pub": h(ed_pub(ika)), "ikb_seed": h(ikb), "ikb_pub": h(ed_pub(ikb)),
          "ika_x25519_pub": h(ed_pk_to_x(ed_pub(ika))), "ikb_x25519_sk": h(ed_sk_to_x(ikb)),
          "spk_id": spk_id, "spk_sk": h(spk), "spk_pub": h(x_pub(spk)),
          "spk_sig": h(ed_sign(ikb, spk_msg(spk_id, x_pub(spk)))),
          "opk_id": opk_id, "opk_sk": h(opk), "opk_pub": h(x_pub(opk)),
          "opk8_sk": h(key("bob-opk-8")),
          "ek_sk": h(ek), "ek_pub": h(x_pub(ek)),
          "bundle_upload": h(b_full), "bundle_fetched": h(b_one)}
    for name, opub, osk in [("with_opk", x_pub(opk), opk), ("without_opk", None, None)]:
        sk, ad = x3dh_initiator(ika, ek, ed_pub(ikb), x_pub(spk), opub)
        sk2, ad2 = x3dh_responder(ikb, spk, osk, ed_pub(ika), x_pub(ek))
        assert sk == sk2 and ad == ad2
        xv[name] = {"sk": h(sk), "ad": h(ad)}
    out["x3dh"] = xv

    # Ratchet conversation
    ra, rb = Random("alice"), Random("bob")
    sk, ad = x3dh_initiator(ika, ek, ed_pub(ikb), x_pub(spk), x_pub(opk))
    init = {"ik": ed_pub(ika), "ek": x_pub(ek), "spk_id": spk_id, "opk_id": opk_id}
    A, B = Ratchet(ra), Ratchet(rb)
    A.init_initiator(sk, ad, x_pub(spk), init)
    msgs, events = [], []
    def send(who, text, old=False):
        r = A if who == "a" else B
        m = r.encrypt(text, old_pad if old else None)
        assert old or len(m) in (WIRE_SHORT, WIRE_LONG)
        msgs.append(m)
        hl = 42 + (72 if m[1] & 1 else 0)
        e = {"op": "send", "from": who, "msg": len(msgs) - 1, "plaintext": h(text),
             "nonce": h(m[hl:hl + NONCE]), "wire": h(m)}
        if old:
            e["old_padding"] = True
        events.append(e)
    def recv(who, i):
        r = A if who == "a" else B
        if who == "b" and B.init is None:
            B.init = True
            bsk, bad = x3dh_responder(ikb, spk, opk, ed_pub(ika), x_pub(ek))
            B.init_responder(bsk, bad, spk)
        pt = r.decrypt(msgs[i])
        events.append({"op": "recv", "to": who, "msg": i, "plaintext": h(pt), "skipped_after": len(r.skipped)})
    send("a", b"hello, is anyone there?")          # 0
    send("a", b"I want to talk.")                  # 1
    recv("b", 1)                                   # out of order, first message
    recv("b", 0)
    send("b", b"Yes. I am here. Take your time.")  # 2
    send("b", b"Nothing you say leaves this chat.")  # 3
    recv("a", 3)                                   # skips 2
    send("a", b"ok")                               # 4: no X3DH fields now
    recv("b", 4)
    recv("a", 2)                                   # late, from an old chain
    send("b", bytes(range(256)) * 1 + b"x" * 44)   # 5: 300 bytes, short
    recv("a", 5)
    send("a", b"this one is lost")                 # 6: never delivered
    send("a", b"and this one arrives")             # 7
    recv("b", 7)
    send("b", b"")                                 # 8: empty plaintext
    recv("a", 8)
    send("a", b"y" * SHORT_MAX)                    # 9: the longest short one
    recv("b", 9)
    send("a", b"z" * (SHORT_MAX + 1))              # 10: long
    recv("b", 10)
    send("b", b"sent before fixed sizes", True)    # 11: an old bucket (64)
    recv("a", 11)
    assert len(msgs[0]) == len(msgs[4]) == WIRE_SHORT and msgs[0][1] & 1 and not msgs[4][1] & 1
    assert len(msgs[11]) == 42 + NONCE + 64 + 16
    out["ratchet"] = {"x3dh": "x3dh.json, with_opk", "sk": h(sk), "ad": h(ad),
                      "spk_sk": h(spk), "spk_pub": h(x_pub(spk)),
                      "init": {"ik": h(init["ik"]), "ek": h(init["ek"]), "spk_id": spk_id, "opk_id": opk_id},
                      "version": VERSION,
                      "alice_keys": [h(k) for k in ra.draws if len(k) == 32],
                      "bob_keys": [h(k) for k in rb.draws if len(k) == 32],
                      "alice_random": [h(k) for k in ra.draws],
                      "bob_random": [h(k) for k in rb.draws],
                      "events": events}

    # Padding
    pv = []
    for o in (OVERHEAD_FIRST, OVERHEAD_LATER, OVERHEAD_NOTE):
        for n in [0, 1, 5, 63, 64, 255, 256, SHORT_MAX, SHORT_MAX + 1, 4096, PT_MAX]:
            pt = bytes((i * 7 + 3) & 0xff for i in range(n))
            p = pad(pt, o)
            e = {"length": n, "overhead": o, "padded_length": len(p)}
            if n <= 5:
                e["plaintext"], e["padded"] = h(pt), h(p)
            pv.append(e)
    ov = []
    for n in [0, 5, 63, 64, 255, 256, 1023, 1024, 4095, 4096, PT_MAX]:
        pt = bytes((i * 7 + 3) & 0xff for i in range(n))
        p = old_pad(pt)
        e = {"length": n, "padded_length": len(p)}
        if n <= 5:
            e["plaintext"], e["padded"] = h(pt), h(p)
        ov.append(e)
    def bad(o, b):
        return {"overhead": o, "padded": h(b)}
    z = lambda n: b"\0" * n
    out["pad"] = {"wire_short": WIRE_SHORT, "wire_long": WIRE_LONG, "overhead_max": OVERHEAD_FIRST,
                  "short_plaintext_max": SHORT_MAX, "plaintext_max": PT_MAX,
                  "old_buckets": OLD_BUCKETS, "plaintext_byte_i": "(7*i+3) mod 256", "cases": pv,
                  "old_cases": ov,
                  "too_long": [PT_MAX + 1, 20000],
                  "bad_padded": [bad(82, z(942)),                       # no marker
                                 bad(82, b"ab\x80\x01" + z(938)),      # junk after it
                                 bad(82, b"a\x80" + z(941)),            # no size of either kind
                                 bad(82, b"a\x80" + z(868)),            # a first message's size, later
                                 bad(154, b"a\x80" + z(940)),           # a later message's size, first
                                 bad(82, b"a\x80" + z(16198)),          # long, for a short text
                                 bad(82, b"a\x80" + z(254)),            # an old bucket larger than needed
                                 bad(82, b"ab\x80\x01" + z(60))]}      # old bucket, junk after the marker

    # Safety numbers
    def digits(pk):
        x = hashlib.blake2b(b"offramp-safety-v1" + pk).digest()
        for _ in range(5200):
            x = hashlib.blake2b(x + pk).digest()
        return "".join("%05d" % (int.from_bytes(x[i * 5:i * 5 + 5], "big") % 100000) for i in range(6))
    pa, pb = ed_pub(ika), ed_pub(ikb)
    lo, hi = sorted([pa, pb])
    d = digits(lo) + digits(hi)
    out["safety"] = {"a": h(pa), "b": h(pb), "number": " ".join(d[i:i + 5] for i in range(0, 60, 5))}

    # Certificate
    prog = key("programme-signing-seed")
    body = bytes([1]) + pb + struct.pack(">qqq", 42, 1700000000, 1800000000)
    cert = body + ed_sign(prog, b"offramp-cert-v1" + body)
    out["cert"] = {"programme_seed": h(prog), "programme_pub": h(ed_pub(prog)), "counsellor_pub": h(pb),
                   "programme_id": 42, "not_before": 1700000000, "not_after": 1800000000, "cert": h(cert),
                   "valid_at": [1700000000, 1750000000, 1799999999], "invalid_at": [1699999999, 1800000000]}

    # Programme statements: rotation, revocation list, partner statement;
    # key fingerprints
    prog2 = key("programme-signing-seed-2")
    pp1, pp2 = ed_pub(prog), ed_pub(prog2)
    rbody = bytes([1]) + struct.pack(">q", 42) + pp1 + pp2 + struct.pack(">q", 1750000000)
    rot = rbody + ed_sign(prog, b"offramp-rotate-v1" + rbody)
    revoked = sorted([pb, pa, ed_pub(key("revoked-counsellor"))])
    vbody = bytes([1]) + struct.pack(">qqH", 42, 1760000000, len(revoked)) + b"".join(revoked)
    rev = vbody + ed_sign(prog2, b"offramp-revoke-v1" + vbody)
    ebody = bytes([1]) + struct.pack(">qqH", 42, 1700000001, 0)
    rev_empty = ebody + ed_sign(prog, b"offramp-revoke-v1" + ebody)
    partner_seed = key("partner-programme-seed")
    tbody = bytes([1]) + struct.pack(">qq", 42, 7) + ed_pub(partner_seed) + struct.pack(">qq", 1700000000, 1800000000)
    partner = tbody + ed_sign(prog, b"offramp-partner-v1" + tbody)
    def fpr(pk):
        d = hashlib.blake2b(b"offramp-fingerprint-v1" + pk, digest_size=32).hexdigest()[:20]
        return " ".join(d[i:i + 4] for i in range(0, 20, 4))
    out["statements"] = {
        "programme_seed": h(prog), "programme_pub": h(pp1),
        "new_programme_seed": h(prog2), "new_programme_pub": h(pp2),
        "rotation": {"programme_id": 42, "issued": 1750000000, "statement": h(rot)},
        "revocation": {"signer": "new_programme", "programme_id": 42, "issued": 1760000000,
                       "keys": [h(k) for k in revoked], "list": h(rev)},
        "revocation_empty": {"signer": "programme", "programme_id": 42, "issued": 1700000001, "list": h(rev_empty)},
        "partner": {"programme_id": 42, "partner_id": 7, "partner_pub": h(ed_pub(partner_seed)),
                    "not_before": 1700000000, "not_after": 1800000000, "statement": h(partner),
                    "valid_at": [1700000000, 1799999999], "invalid_at": [1699999999, 1800000000]},
        "fingerprints": [{"key": h(k), "fingerprint": fpr(k)} for k in (pa, pb, pp1)],
    }
    # Plaintext envelope: version 1 || kind || body, then padded
    def env(kind, body=b""):
        return bytes([1, kind]) + body
    texts = ["hello", "", "Gr\u00fc\u00dfe, \u0645\u0631\u062d\u0628\u0627 \U0001f600", "\x01\x02 looks like an envelope"]
    ev = {"version": 1, "kinds": {"text": 1, "report": 2, "nothing": 3},
          "reasons": {"limit": 1, "no_session": 2, "crypto": 3},
          "text_max": PT_MAX - 2, "padded_overhead": OVERHEAD_LATER,
          "text": [{"text": h(t.encode()), "envelope": h(env(1, t.encode())), "padded": h(pad(env(1, t.encode()), OVERHEAD_LATER))}
                   for t in texts],
          "report": [{"count": c, "reason": r, "envelope": h(env(2, be32(c) + bytes([r]))),
                      "padded": h(pad(env(2, be32(c) + bytes([r])), OVERHEAD_LATER))}
                     for c, r in [(2, 2), (1, 1), (1, 3), (M32, 3), (7, 200)]],
          "nothing": {"envelope": h(env(3)), "padded": h(pad(env(3), OVERHEAD_LATER))},
          "bad": [h(b""), h(b"\x01"), h(b"\x00\x01hi"), h(b"\x02\x01hi"), h(env(0)), h(env(4)),
                  h(env(255, b"x")), h(env(2, be32(0) + b"\x02")), h(env(2, be32(1) + b"\x00")),
                  h(env(2, be32(1))), h(env(2, be32(1) + b"\x02\x00")), h(env(3, b"\x00"))]}
    # Version 2: version 2 || case id (i64) || running number (u32) ||
    # time (i64) || kind || body
    def env2(case, seq, t, kind, body=b""):
        return bytes([2]) + case.to_bytes(8, "big") + be32(seq) + t.to_bytes(8, "big") + bytes([kind]) + body
    def fld(b):
        return len(b).to_bytes(2, "big") + b
    def meeting(action, mid, t, place=b"", recog=b""):
        return bytes([action]) + be32(mid) + t.to_bytes(8, "big") + fld(place) + fld(recog)
    def agreement(action, version, fields=(b"", b"", b"", b"")):
        return bytes([action]) + be32(version) + b"".join(fld(f) for f in fields)
    def referral(fields):
        return b"".join(fld(f) for f in fields)
    T = 1767225600              # 2026-01-01T00:00:00Z
    place = "Caf\u00e9 am Markt, Eingang Nord".encode()
    recog = "rote M\u00fctze, Zeitung \u0627\u0644\u064a\u0648\u0645".encode()
    agr = ("Arbeit an einem Ausstieg".encode(), "Chat und Treffen".encode(),
           "w\u00f6chentlich".encode(), "Notruf 112, dann Beratungsstelle".encode())
    cases = []
    def add(case, seq, t, kind, body, **kw):
        e = env2(case, seq, t, kind, body)
        d = {"case_id": case, "seq": seq, "time": t, "kind": kind}
        d.update(kw)
        d["envelope"] = h(e)
        d["padded"] = h(pad(e, OVERHEAD_LATER))
        cases.append(d)
    add(17, 1, T, 1, b"hello", text=h(b"hello"))
    add(17, 2, T + 5, 1, b"", text="")
    add(2**63 - 1, M32, 2**63 - 1, 1, "Gr\u00fc\u00dfe".encode(), text=h("Gr\u00fc\u00dfe".encode()))
    add(17, 3, T + 6, 2, be32(2) + b"\x02", count=2, reason=2)
    add(17, 4, T + 7, 3, b"")
    add(17, 5, T + 60, 4, meeting(1, 4242, T + 86400, place, recog),
        action=1, id=4242, meeting_time=T + 86400, place=h(place), recognise=h(recog))
    add(17, 6, T + 61, 4, meeting(5, 4242, T + 2 * 86400, place, b""),
        action=5, id=4242, meeting_time=T + 2 * 86400, place=h(place), recognise="")
    for a in (2, 3, 4):
        add(17, 5 + a, T + 60 + a, 4, meeting(a, 4242, T + 2 * 86400),
            action=a, id=4242, meeting_time=T + 2 * 86400, place="", recognise="")
    add(17, 10, T + 100, 5, agreement(1, 1, agr), action=1, version=1,
        objectives=h(agr[0]), formats=h(agr[1]), frequency=h(agr[2]), crisis=h(agr[3]))
    add(17, 11, T + 101, 5, agreement(3, 2, (agr[0], b"", b"", b"")), action=3, version=2,
        objectives=h(agr[0]), formats="", frequency="", crisis="")
    add(17, 12, T + 102, 5, agreement(2, 2), action=2, version=2,
        objectives="", formats="", frequency="", crisis="")
    ref = ("Beratungsstelle Nord".encode(), "+49 30 1234567, Mo\u2013Fr 9\u201317 Uhr".encode(),
           "Ein Erstgespr\u00e4ch, anonym, ohne Akten".encode(), "\u201eIch komme von offramp.\u201c \u0645\u0631\u062d\u0628\u0627".encode())
    add(17, 13, T + 200, 9, referral(ref), name=h(ref[0]), contact=h(ref[1]),
        expect=h(ref[2]), say=h(ref[3]))
    add(17, 14, T + 201, 9, referral((b"N", b"c", b"", b"")), name=h(b"N"), contact=h(b"c"),
        expect="", say="")
    good_m = meeting(1, 1, T, b"x")
    bad2 = [env2(17, 1, T, 1)[:21], env2(0, 1, T, 1), env2(17, 0, T, 1),
            env2(17, 1, -1 & (2**64 - 1), 1)[:0] + bytes([2]) + (17).to_bytes(8, "big") + be32(1) + b"\xff" * 8 + b"\x01",
            env2(17, 1, T, 0), env2(17, 1, T, 6), env2(17, 1, T, 3, b"\x00"),
            env2(17, 1, T, 2, be32(0) + b"\x01"), env2(17, 1, T, 2, be32(1)),
            env2(17, 1, T, 4, good_m[:-1]), env2(17, 1, T, 4, good_m + b"\x00"),
            env2(17, 1, T, 4, meeting(0, 1, T, b"x")), env2(17, 1, T, 4, meeting(6, 1, T, b"x")),
            env2(17, 1, T, 4, meeting(1, 0, T, b"x")), env2(17, 1, T, 4, meeting(1, 1, 0, b"x")),
            env2(17, 1, T, 4, meeting(1, 1, T)), env2(17, 1, T, 4, meeting(2, 1, T, b"x")),
            env2(17, 1, T, 4, meeting(3, 1, T, b"", b"y")),
            env2(17, 1, T, 4, meeting(1, 1, T, b"\xc3\x28")), env2(17, 1, T, 4, meeting(1, 1, T, b"\xc0\xaf")),
            env2(17, 1, T, 4, meeting(1, 1, T, b"\xed\xa0\x80")), env2(17, 1, T, 4, meeting(1, 1, T, b"x", b"\xf4\x90\x80\x80")),
            env2(17, 1, T, 4, meeting(1, 1, T, b"x" * 513)), env2(17, 1, T, 4, meeting(1, 1, T, b"x", b"y" * 513)),
            env2(17, 1, T, 4, meeting(1, 1, T, b"x")[:13] + b"\x00\x05x"),
            env2(17, 1, T, 5, agreement(1, 2, (b"o", b"", b"", b""))), env2(17, 1, T, 5, agreement(3, 1, (b"o", b"", b"", b""))),
            env2(17, 1, T, 5, agreement(1, 1)), env2(17, 1, T, 5, agreement(2, 1, (b"o", b"", b"", b""))),
            env2(17, 1, T, 5, agreement(2, 0)), env2(17, 1, T, 5, agreement(4, 1, (b"o", b"", b"", b""))),
            env2(17, 1, T, 5, agreement(1, 1, (b"o", b"", b"", b"\xff"))),
            env2(17, 1, T, 5, agreement(1, 1, (b"o" * 2049, b"", b"", b""))),
            env2(17, 1, T, 5, agreement(1, 1, (b"o", b"", b"", b""))[:-1]),
            env2(17, 1, T, 5, agreement(1, 1, (b"o", b"", b"", b"")) + b"\x00"),
            env(4, good_m), env(5, agreement(2, 1)),
            env(9, referral((b"N", b"c", b"", b""))),
            env2(17, 1, T, 9, referral((b"", b"c", b"", b""))), env2(17, 1, T, 9, referral((b"N", b"", b"", b""))),
            env2(17, 1, T, 9, referral((b"N" * 129, b"c", b"", b""))),
            env2(17, 1, T, 9, referral((b"N", b"c" * 513, b"", b""))),
            env2(17, 1, T, 9, referral((b"N", b"c", b"e" * 2049, b""))),
            env2(17, 1, T, 9, referral((b"N", b"c", b"", b"s" * 2049))),
            env2(17, 1, T, 9, referral((b"N", b"c", b"", b"\xc3\x28"))),
            env2(17, 1, T, 9, referral((b"N", b"c", b"", b""))[:-1]),
            env2(17, 1, T, 9, referral((b"N", b"c", b"", b"")) + b"\x00"),
            env2(17, 1, T, 9, referral((b"N", b"c", b""))),
            env2(17, 1, T, 1, b"x" * (PT_MAX - 22 + 1))]
    first = cases[0]["envelope"]
    checks = [
        {"case_id": 17, "last_seq": 0, "last_time": 0, "now": T, "found": []},
        {"case_id": 17, "last_seq": 0, "last_time": 0, "now": T - 600, "found": []},
        {"case_id": 17, "last_seq": 0, "last_time": 0, "now": T - 601, "found": ["future"]},
        {"case_id": 18, "last_seq": 0, "last_time": 0, "now": T, "found": ["moved"]},
        {"case_id": 17, "last_seq": 1, "last_time": T, "now": T, "found": ["replayed"]},
        {"case_id": 17, "last_seq": 5, "last_time": T - 9, "now": T, "found": ["replayed"]},
        {"case_id": 17, "last_seq": 1, "last_time": T + 1, "now": T, "found": ["replayed", "earlier"]},
        {"case_id": 18, "last_seq": 3, "last_time": T + 1, "now": T - 700, "found": ["moved", "replayed", "future", "earlier"]},
    ]
    for c in checks:
        c["envelope"] = first
    sixth = cases[5]["envelope"]    # seq 5, time T + 60
    checks += [
        {"envelope": sixth, "case_id": 17, "last_seq": 4, "last_time": T + 60, "now": T + 60, "found": []},
        {"envelope": sixth, "case_id": 17, "last_seq": 2, "last_time": T, "now": T + 60, "found": ["held_back"]},
        {"envelope": sixth, "case_id": 17, "last_seq": 4, "last_time": T + 61, "now": T + 60, "found": ["earlier"]},
        {"envelope": cases[2]["envelope"], "case_id": 2**63 - 1, "last_seq": 1, "last_time": 0, "now": 0,
         "found": ["held_back", "future"]},
        {"envelope": h(env(1, b"hi")), "case_id": 18, "last_seq": 9, "last_time": T, "now": 0, "found": []},
    ]
    ev["v2"] = {"version": 2, "header_bytes": 22, "text_max": PT_MAX - 22, "future_max": 600,
                "kinds": {"text": 1, "report": 2, "nothing": 3, "meeting": 4, "agreement": 5, "referral": 9},
                "meeting_actions": {"propose": 1, "accept": 2, "decline": 3, "cancel": 4, "reschedule": 5},
                "agreement_actions": {"propose": 1, "accept": 2, "revise": 3},
                "place_max": 512, "recognise_max": 512, "agreement_field_max": 2048,
                "referral_name_max": 128, "referral_contact_max": 512, "referral_note_max": 2048,
                "findings": {"moved": 1, "replayed": 2, "held_back": 4, "future": 8, "earlier": 16},
                "cases": cases, "bad": [h(b) for b in bad2], "checks": checks}
    out["envelope"] = ev

    for name, v in out.items():
        with open(name + ".json", "w") as f:
            json.dump(v, f, indent=1)
            f.write("\n")

if __name__ == "__main__":
    main()
