"""Access tokens: the server's own tokens, and forged ones, each rejected with its own type."""

import hashlib
import hmac
import os
import time
import uuid

import pytest

from todo_harness import (
    OTHER_SECRET,
    SECRET,
    assert_problem,
    b64url,
    b64url_decode,
    claims,
    decode_jwt,
    forge,
    json_segment,
    login,
    register,
)


@pytest.fixture(scope="module")
def user(server):
    return register(server)


def test_issued_access_token_is_hs256_with_the_contract_claims(server, user):
    header, payload, signature = decode_jwt(user.access_token)
    assert header.get("alg") == "HS256", header
    h, p, _ = user.access_token.split(".")
    expected = b64url(hmac.new(SECRET.encode(), f"{h}.{p}".encode(), hashlib.sha256).digest())
    assert signature == expected, "access token is not signed with HMAC-SHA256(--jwt-secret)"
    assert payload.get("sub") == user.id, payload
    assert payload.get("email") == user.email, payload
    assert payload.get("role") == "user", payload
    assert payload.get("iss") == "todo", payload
    assert payload.get("aud") == "todo-api", payload
    assert isinstance(payload.get("jti"), str) and payload["jti"], payload
    iat, exp = payload.get("iat"), payload.get("exp")
    assert isinstance(iat, int) and isinstance(exp, int), payload
    assert exp - iat == 900, payload
    assert abs(iat - time.time()) < 300, payload


def test_each_issued_token_has_its_own_jti(server, user):
    r = login(server, user.email, user.password)
    assert r.status == 200, r
    assert decode_jwt(r.body["access_token"])[1]["jti"] != decode_jwt(user.access_token)[1]["jti"]


def test_forged_valid_token_is_accepted(server, user):
    token = forge(claims(user.id, user.email))
    status, _, body = server.get("/api/me", token=token)
    assert status == 200, body
    assert body["id"] == user.id


def test_missing_authorization_is_token_missing_with_challenge(server):
    resp = server.get("/api/me")
    assert_problem(resp, 401, "token-missing")
    challenge = resp.headers.get("www-authenticate", "")
    assert challenge.lower().startswith("bearer"), resp.headers


def _with_header(header_value):
    return {"Authorization": header_value}


@pytest.mark.parametrize(
    "value",
    ["Basic dXNlcjpwYXNzd29yZA==", "Bearer ", "Bearer"],
    ids=["basic", "bearer-space-empty", "bearer-alone"],
)
def test_non_bearer_or_empty_bearer(server, value):
    resp = server.get("/api/me", headers=_with_header(value))
    assert_problem(resp, 401, {"token-missing", "token-malformed"})


def _valid_token(user):
    return forge(claims(user.id, user.email))


def _none_token(user, alg):
    h = json_segment({"alg": alg, "typ": "JWT"})
    p = json_segment(claims(user.id, user.email))
    return f"{h}.{p}."


def _signed(user, alg_name, digest, secret=SECRET):
    return forge(claims(user.id, user.email), secret, header={"alg": alg_name, "typ": "JWT"}, digest=digest)


def _rs256(user):
    h = json_segment({"alg": "RS256", "typ": "JWT"})
    p = json_segment(claims(user.id, user.email))
    return f"{h}.{p}.{b64url(os.urandom(256))}"


def _unsigned(user):
    h, p, _ = _valid_token(user).split(".")
    return f"{h}.{p}."


def _tampered(user):
    h, _, s = _valid_token(user).split(".")
    p = json_segment(claims(user.id, user.email, role="admin"))
    return f"{h}.{p}.{s}"


def _signature_bit_flipped(user):
    h, p, s = _valid_token(user).split(".")
    raw = bytearray(b64url_decode(s))
    raw[0] ^= 0x01
    return f"{h}.{p}.{b64url(bytes(raw))}"


def _now():
    return int(time.time())


CASES = [
    # (id, token builder (user -> token), expected problem type)
    ("abc.def", lambda u: "abc.def", "token-malformed"),
    ("one-part", lambda u: "notajwt", "token-malformed"),
    ("four-parts", lambda u: _valid_token(u) + ".extra", "token-malformed"),
    ("header-not-json", lambda u: forge(claims(u.id, u.email), header=b"not json"), "token-malformed"),
    ("bad-base64", lambda u: "!!!.@@@.###", "token-malformed"),
    ("payload-not-json", lambda u: forge(b"not json"), "token-malformed"),
    ("payload-array", lambda u: forge(b"[1,2,3]"), "token-malformed"),
    ("missing-sub", lambda u: forge(claims(u.id, u.email, sub=None)), "token-malformed"),
    ("alg-none", lambda u: _none_token(u, "none"), "token-algorithm-not-allowed"),
    ("alg-None", lambda u: _none_token(u, "None"), "token-algorithm-not-allowed"),
    ("alg-NONE", lambda u: _none_token(u, "NONE"), "token-algorithm-not-allowed"),
    ("alg-HS512", lambda u: _signed(u, "HS512", hashlib.sha512), "token-algorithm-not-allowed"),
    ("alg-HS384", lambda u: _signed(u, "HS384", hashlib.sha384), "token-algorithm-not-allowed"),
    ("alg-RS256", _rs256, "token-algorithm-not-allowed"),
    ("other-secret", lambda u: _signed(u, "HS256", hashlib.sha256, OTHER_SECRET), "token-signature-invalid"),
    ("signature-removed", _unsigned, "token-signature-invalid"),
    ("payload-tampered", _tampered, "token-signature-invalid"),
    ("signature-bit-flipped", _signature_bit_flipped, "token-signature-invalid"),
    (
        "expired-2-minutes",
        lambda u: forge(claims(u.id, u.email, iat=_now() - 1020, exp=_now() - 120)),
        "token-expired",
    ),
    (
        "expired-1-day",
        lambda u: forge(claims(u.id, u.email, iat=_now() - 86400 - 900, exp=_now() - 86400)),
        "token-expired",
    ),
    ("nbf-future", lambda u: forge(claims(u.id, u.email, nbf=_now() + 600)), "token-not-yet-valid"),
    (
        "iat-future",
        lambda u: forge(claims(u.id, u.email, iat=_now() + 600, exp=_now() + 1500)),
        "token-not-yet-valid",
    ),
    ("issuer-evil", lambda u: forge(claims(u.id, u.email, iss="evil")), "token-issuer-invalid"),
    ("audience-other", lambda u: forge(claims(u.id, u.email, aud="other")), "token-audience-invalid"),
]


@pytest.mark.parametrize("build,ptype", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_rejected_token(server, user, build, ptype):
    token = build(user)
    resp = server.get("/api/me", headers=_with_header(f"Bearer {token}"))
    assert_problem(resp, 401, ptype)


WRITE_CASES = [c for c in CASES if c[0] in {"alg-none", "other-secret", "payload-tampered", "expired-2-minutes"}]


@pytest.mark.parametrize("build,ptype", [c[1:] for c in WRITE_CASES], ids=[c[0] for c in WRITE_CASES])
def test_rejected_token_on_a_write_route(server, user, build, ptype):
    resp = server.patch(
        "/api/me", {"display_name": "should not change"}, headers=_with_header(f"Bearer {build(user)}")
    )
    assert_problem(resp, 401, ptype)
    status, _, me = server.get("/api/me", token=user.access_token)
    assert me["display_name"] != "should not change"


def test_bearer_scheme_is_case_insensitive(server, user):
    resp = server.get("/api/me", headers=_with_header(f"bearer {user.access_token}"))
    assert resp.status == 200, resp


def test_token_of_an_unknown_user_is_not_a_500(server):
    token = forge(claims(str(uuid.uuid4()), "ghost@example.com"))
    resp = server.get("/api/me", token=token)
    assert resp.status in (401, 404), resp
