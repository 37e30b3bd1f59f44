#!/usr/bin/env python3
"""FCM HTTP v1 and its OAuth2 token endpoint, verifying what they receive with python3-cryptography.

    fcm.py --credentials-out FILE [--port 0] [--expires-in 3600] [--revoke-after N]

Writes a service-account JSON (a fresh RSA key; token_uri pointing here) to FILE, then serves
  POST /token: the JWT-bearer grant (RFC 7523); the RS256 assertion is verified with the key's
    public half and its claims (iss, scope, aud, iat, exp) checked; answers an access token.
  POST /v1/projects/<project_id>/messages:send: the bearer token must be one issued here;
    a registration token starting with "unregistered" gets FCM's 404 UNREGISTERED.
Records: {"kind": "token" | "send", "claims" | "json", "errors"}.
"""

import json
import os
import time
import urllib.parse

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

import peer_common

PROJECT = "todo-test"
EMAIL = "notify@todo-test.iam.gserviceaccount.com"
SCOPE = "https://www.googleapis.com/auth/firebase.messaging"


def main():
    parser = peer_common.base_parser(__doc__)
    parser.add_argument("--credentials-out", required=True)
    parser.add_argument("--expires-in", type=int, default=3600)
    parser.add_argument("--revoke-after", type=int, default=0, help="forget issued tokens after N sends")
    args = parser.parse_args()
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    issued = set()
    state = {"token_uri": None, "sends": 0}

    def check_token(headers, body):
        errors, claims = [], None
        form = urllib.parse.parse_qs(body.decode())
        if form.get("grant_type") != ["urn:ietf:params:oauth:grant-type:jwt-bearer"]:
            errors.append("grant_type is %r" % form.get("grant_type"))
        if headers.get("Content-Type") != "application/x-www-form-urlencoded":
            errors.append("Content-Type is %r" % headers.get("Content-Type"))
        parts = peer_common.split_jwt((form.get("assertion") or [""])[0], errors)
        if parts:
            header, claims, signing_input, signature = parts
            if header.get("alg") != "RS256":
                errors.append("assertion alg is %r" % header.get("alg"))
            try:
                key.public_key().verify(signature, signing_input, padding.PKCS1v15(), hashes.SHA256())
            except InvalidSignature:
                errors.append("assertion signature does not verify")
            now = time.time()
            for name, want in (("iss", EMAIL), ("scope", SCOPE), ("aud", state["token_uri"])):
                if claims.get(name) != want:
                    errors.append("%s is %r, not %r" % (name, claims.get(name), want))
            iat, exp = claims.get("iat"), claims.get("exp")
            if not isinstance(iat, int) or abs(iat - now) > 300:
                errors.append("iat %r is not now" % iat)
            elif not isinstance(exp, int) or not (now < exp <= iat + 3600):
                errors.append("exp %r is not within an hour of iat" % exp)
        entry = {"kind": "token", "claims": claims, "errors": errors}
        if errors:
            return 400, {}, {"error": "invalid_grant", "error_description": "; ".join(errors)}, entry
        token = "ya29." + peer_common.b64url_encode(os.urandom(24))
        issued.add(token)
        return 200, {}, {"access_token": token, "expires_in": args.expires_in, "token_type": "Bearer"}, entry

    def check_send(path, headers, body):
        errors, message = [], None
        if path != "/v1/projects/%s/messages:send" % PROJECT:
            errors.append("path %r is not this project's messages:send" % path)
        bearer = (headers.get("Authorization") or "")[len("Bearer ") :]
        state["sends"] += 1
        if args.revoke_after and state["sends"] == args.revoke_after + 1:
            issued.clear()
        if bearer not in issued:
            entry = {"kind": "send", "json": None, "errors": ["bearer token was not issued here"]}
            return 401, {}, {"error": {"code": 401, "status": "UNAUTHENTICATED"}}, entry
        try:
            message = json.loads(body)["message"]
            if not isinstance(message.get("token"), str) or not message["token"]:
                errors.append("message.token missing")
            notification = message.get("notification", {})
            if not (isinstance(notification.get("title"), str) and isinstance(notification.get("body"), str)):
                errors.append("message.notification needs title and body strings")
            if not all(isinstance(v, str) for v in message.get("data", {}).values()):
                errors.append("message.data values must all be strings")
        except Exception as e:  # noqa: BLE001
            errors.append("body is not {message: {...}}: %s" % e)
        entry = {"kind": "send", "json": message, "errors": errors}
        if errors:
            return 400, {}, {"error": {"code": 400, "status": "INVALID_ARGUMENT", "message": "; ".join(errors)}}, entry
        if message["token"].startswith("unregistered"):
            detail = {"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": "UNREGISTERED"}
            return 404, {}, {"error": {"code": 404, "status": "NOT_FOUND", "details": [detail]}}, entry
        return 200, {}, {"name": "projects/%s/messages/%s" % (PROJECT, os.urandom(6).hex())}, entry

    class Fcm(peer_common.Handler):
        def check(self, method, path, headers, body):
            if path.split("?")[0].endswith("/token"):
                return check_token(headers, body)
            return check_send(path.split("?")[0], headers, body)

    def hello(port):
        state["token_uri"] = "http://127.0.0.1:%d/token" % port
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        credentials = {
            "type": "service_account",
            "project_id": PROJECT,
            "private_key_id": os.urandom(8).hex(),
            "private_key": pem,
            "client_email": EMAIL,
            "token_uri": state["token_uri"],
        }
        with open(args.credentials_out, "w") as f:
            json.dump(credentials, f)
        return {"credentials": args.credentials_out, "base_url": "http://127.0.0.1:%d" % port}

    peer_common.serve(Fcm, args.port, hello)


if __name__ == "__main__":
    main()
