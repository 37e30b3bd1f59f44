#!/usr/bin/env python3
"""A Web Push service (RFC 8030) that decrypts each message (RFC 8291) with the subscription's
private key and verifies the VAPID JWT (RFC 8292, ES256) — all with python3-cryptography.

    push_service.py [--port 0] [--vapid-public-key B64URL]

First line: {"port", "subscription": {"endpoint", "keys": {"p256dh", "auth"}}}: a browser's
PushSubscription for this service. Any path of this server is an endpoint of that subscription,
so /status/410/sub answers 410 (see peer_common). A valid message is answered 201 with a
Location; a bad VAPID header 403; an undecryptable body 400. Records: {"kind": "push",
"plaintext": decrypted text, "claims": JWT claims, "headers": {...}, "errors"}.
"""

import json
import os
import struct
import time

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

import peer_common

UA_PRIVATE = ec.generate_private_key(ec.SECP256R1())
UA_PUBLIC = UA_PRIVATE.public_key().public_bytes(
    serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
)
AUTH = os.urandom(16)


def hkdf(salt, ikm, info, length):
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(ikm)


def decrypt(body, errors):
    if len(body) < 21:
        errors.append("body shorter than the aes128gcm header")
        return None
    salt, rs, idlen = body[:16], struct.unpack(">I", body[16:20])[0], body[20]
    keyid, ciphertext = body[21 : 21 + idlen], body[21 + idlen :]
    if idlen != 65 or rs < 18:
        errors.append("header: idlen %d, rs %d" % (idlen, rs))
        return None
    if len(ciphertext) > rs:
        errors.append("more than one record")
        return None
    sender = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), keyid)
    shared = UA_PRIVATE.exchange(ec.ECDH(), sender)
    ikm = hkdf(AUTH, shared, b"WebPush: info\x00" + UA_PUBLIC + keyid, 32)
    cek = hkdf(salt, ikm, b"Content-Encoding: aes128gcm\x00", 16)
    nonce = hkdf(salt, ikm, b"Content-Encoding: nonce\x00", 12)
    try:
        record = AESGCM(cek).decrypt(nonce, ciphertext, None)
    except Exception:  # noqa: BLE001
        errors.append("AES-GCM authentication failed")
        return None
    stripped = record.rstrip(b"\x00")
    if not stripped.endswith(b"\x02"):
        errors.append("the last record does not end with the 0x02 delimiter")
        return None
    return stripped[:-1]


def verify_vapid(authorization, audience, pinned_key, errors):
    if not authorization or not authorization.startswith("vapid "):
        errors.append("Authorization is not a vapid header")
        return None
    params = dict(p.strip().split("=", 1) for p in authorization[len("vapid ") :].split(","))
    token, k = params.get("t"), params.get("k")
    if not token or not k:
        errors.append("vapid header without t= and k=")
        return None
    if pinned_key and k != pinned_key:
        errors.append("k is not the expected VAPID public key")
    parts = peer_common.split_jwt(token, errors)
    if not parts:
        return None
    header, claims, signing_input, signature = parts
    if header.get("alg") != "ES256":
        errors.append("JWT alg is %r" % header.get("alg"))
    if len(signature) != 64:
        errors.append("ES256 signature is not 64 bytes")
        return claims
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), peer_common.b64url_decode(k))
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
    try:
        key.verify(der, signing_input, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        errors.append("VAPID JWT signature does not verify")
    now = time.time()
    if claims.get("aud") != audience:
        errors.append("aud %r is not %r" % (claims.get("aud"), audience))
    exp = claims.get("exp")
    if not isinstance(exp, int) or not (now < exp <= now + 24 * 3600):
        errors.append("exp %r is not within 24 h from now" % exp)
    sub = claims.get("sub", "")
    if not (sub.startswith("mailto:") or sub.startswith("https:")):
        errors.append("sub %r is neither mailto: nor https:" % sub)
    return claims


def main():
    parser = peer_common.base_parser(__doc__)
    parser.add_argument("--vapid-public-key", default="")
    args = parser.parse_args()
    state = {"origin": None, "count": 0}

    class Push(peer_common.Handler):
        def check(self, method, path, headers, body):
            errors = []
            claims = verify_vapid(headers.get("Authorization"), state["origin"], args.vapid_public_key, errors)
            vapid_ok = not errors
            if headers.get("Content-Encoding") != "aes128gcm":
                errors.append("Content-Encoding is %r" % headers.get("Content-Encoding"))
            ttl = headers.get("TTL")
            if ttl is None or not ttl.isdigit():
                errors.append("TTL header missing or not a number")
            if headers.get("Urgency") not in (None, "very-low", "low", "normal", "high"):
                errors.append("Urgency %r" % headers.get("Urgency"))
            plaintext = decrypt(body, errors)
            entry = {
                "kind": "push",
                "errors": errors,
                "claims": claims,
                "plaintext": plaintext.decode("utf-8", "replace") if plaintext is not None else None,
                "headers": {k: headers.get(k) for k in ("TTL", "Urgency", "Content-Encoding")},
            }
            if errors:
                return (403 if not vapid_ok else 400), {}, {"errors": errors}, entry
            state["count"] += 1
            return 201, {"Location": "%s/messages/%d" % (state["origin"], state["count"])}, b"", entry

    def hello(port):
        state["origin"] = "http://127.0.0.1:%d" % port
        return {
            "subscription": {
                "endpoint": state["origin"] + "/push/sub1",
                "keys": {"p256dh": peer_common.b64url_encode(UA_PUBLIC), "auth": peer_common.b64url_encode(AUTH)},
            }
        }

    peer_common.serve(Push, args.port, hello)


if __name__ == "__main__":
    main()
