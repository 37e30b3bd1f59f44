#!/usr/bin/env python3
"""A webhook receiver that verifies the Standard Webhooks signature with Python's own hmac.

    webhook.py --secret whsec_... [--port 0] [--tolerance 300] [--fail-first N]

2xx for a valid request (or what the path asks for, see peer_common), 401 for a bad signature,
400 for a malformed body; --fail-first N answers 500 to the first N valid requests. Records: {"kind": "webhook", "headers": {...}, "json": body, "errors"}.
"""

import base64
import hashlib
import hmac
import json
import time

import peer_common


def main():
    parser = peer_common.base_parser(__doc__)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--tolerance", type=int, default=300)
    parser.add_argument("--fail-first", type=int, default=0)
    args = parser.parse_args()
    failures_left = [args.fail_first]
    key = base64.b64decode(args.secret[len("whsec_"):])

    class Webhook(peer_common.Handler):
        def check(self, method, path, headers, body):
            errors = []
            wid = headers.get("webhook-id")
            ts = headers.get("webhook-timestamp")
            sig = headers.get("webhook-signature")
            if not (wid and ts and sig):
                errors.append("missing webhook-id, webhook-timestamp or webhook-signature")
            else:
                if not ts.isdigit() or abs(int(ts) - time.time()) > args.tolerance:
                    errors.append("webhook-timestamp %r is not within %d s of now" % (ts, args.tolerance))
                expected = base64.b64encode(
                    hmac.new(key, b"%s.%s.%s" % (wid.encode(), ts.encode(), body), hashlib.sha256).digest()
                ).decode()
                offered = [s.split(",", 1)[1] for s in sig.split(" ") if s.startswith("v1,")]
                if not any(hmac.compare_digest(expected, o) for o in offered):
                    errors.append("webhook-signature does not verify")
            if headers.get("Content-Type") != "application/json":
                errors.append("Content-Type is %r" % headers.get("Content-Type"))
            parsed = None
            try:
                parsed = json.loads(body)
                if parsed.get("type") != "reminder.fired":
                    errors.append("type is not reminder.fired")
                if parsed.get("data", {}).get("delivery_id") != wid:
                    errors.append("data.delivery_id differs from webhook-id")
            except Exception as e:  # noqa: BLE001
                errors.append("body is not JSON: %s" % e)
            status = 204 if not errors else (401 if any("signature" in e for e in errors) else 400)
            if not errors and failures_left[0] > 0:
                failures_left[0] -= 1
                status = 500
            entry = {
                "kind": "webhook",
                "errors": errors,
                "json": parsed,
                "headers": {k: headers.get(k) for k in ("webhook-id", "webhook-timestamp", "webhook-signature")},
            }
            return status, {}, b"", entry

    peer_common.serve(Webhook, args.port, lambda port: {"url": "http://127.0.0.1:%d/hook" % port})


if __name__ == "__main__":
    main()
