#!/usr/bin/env python3
"""The SendGrid v3 Mail Send endpoint, checking the request as SendGrid documents it.

    sendgrid.py --api-key KEY [--port 0]

POST /v3/mail/send: 401 unless "Authorization: Bearer KEY"; 400 unless the JSON has
personalizations[].to[].email, from.email, a subject, content text/plain then text/html, and
custom_args.delivery_id; else 202 with an X-Message-Id. Records: {"kind": "mail", "json", "errors"}.
"""

import json
import os

import peer_common


def main():
    parser = peer_common.base_parser(__doc__)
    parser.add_argument("--api-key", required=True)
    args = parser.parse_args()

    class SendGrid(peer_common.Handler):
        def check(self, method, path, headers, body):
            errors, mail = [], None
            if path.split("?")[0].split("/v3/")[-1] != "mail/send":
                errors.append("path %r is not /v3/mail/send" % path)
            if headers.get("Authorization") != "Bearer " + args.api_key:
                entry = {"kind": "mail", "json": None, "errors": ["wrong API key"]}
                return 401, {}, {"errors": [{"message": "The provided authorization grant is invalid"}]}, entry
            try:
                mail = json.loads(body)
                to = [t["email"] for p in mail["personalizations"] for t in p["to"]]
                if not to or not all(isinstance(t, str) and "@" in t for t in to):
                    errors.append("personalizations[].to[].email")
                if "@" not in mail["from"]["email"]:
                    errors.append("from.email")
                if not isinstance(mail.get("subject"), str) or not mail["subject"]:
                    errors.append("subject")
                types = [c["type"] for c in mail["content"]]
                if types != ["text/plain", "text/html"]:
                    errors.append("content types %r, not text/plain then text/html" % types)
                if not all(isinstance(c["value"], str) and c["value"] for c in mail["content"]):
                    errors.append("content values")
                if not isinstance(mail.get("custom_args", {}).get("delivery_id"), str):
                    errors.append("custom_args.delivery_id")
            except Exception as e:  # noqa: BLE001
                errors.append("malformed mail: %r" % e)
            entry = {"kind": "mail", "json": mail, "errors": errors}
            if errors:
                return 400, {}, {"errors": [{"message": e} for e in errors]}, entry
            return 202, {"X-Message-Id": peer_common.b64url_encode(os.urandom(12))}, b"", entry

    peer_common.serve(SendGrid, args.port, lambda port: {"base_url": "http://127.0.0.1:%d" % port})


if __name__ == "__main__":
    main()
