"""A fake Dapr sidecar for the system tests of `--bus dapr` (ADR 0024): no real daprd can be
installed here, so this follows Dapr's documented HTTP contract on both sides.

Publishing (the app calls it): POST /v1.0/publish/<pubsub>/<topic>[?metadata.<key>=<value>...]
answers 204 and records the request (pubsub, topic, content type, body, metadata); a body that is
not JSON gets 400. The published structured CloudEvent is kept as it is (content type
application/cloudevents+json), and Dapr's own attributes (topic, pubsubname, traceparent) are added
to what is delivered.

Subscribing (it calls the app): GET /dapr/subscribe on the app, then every published event goes, in
publish order, to the route of each subscription of its topic — whatever the pubsub component: the
components of a deployment share the broker's topics and differ by consumer group (the durable
component and the fan-out one). The app's answer decides: HTTP 200 with {"status":"SUCCESS"} (or no
status) and DROP end the delivery; RETRY and any other status but 404 deliver it again; 404 drops
it. Every answer is recorded.

stop() closes the listening socket (the app's publishes are refused) and start() opens it again on
the same port."""

import http.client
import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

REDELIVERY_WAIT = 0.05  # the sidecar's own backoff between deliveries of one event
MAX_DELIVERIES = 50


class Published:
    def __init__(self, pubsub, topic, content_type, body, metadata, headers):
        self.pubsub = pubsub
        self.topic = topic
        self.content_type = content_type
        self.body = body
        self.event = json.loads(body)
        self.metadata = metadata
        self.headers = headers


class FakeDaprSidecar:
    def __init__(self, api_token=None, app_token=None):
        self.api_token = api_token  # what the app must send (DAPR_API_TOKEN)
        self.app_token = app_token  # what we send to the app (APP_API_TOKEN)
        self.port = 0
        self.app = None  # (host, port) once the app is up
        self.published = []
        self.answers = []  # (route, event id, HTTP status, Dapr status)
        self.subscriptions = None
        self.lock = threading.Lock()
        self.cond = threading.Condition(self.lock)
        self.queue = []  # (topic, event dict) waiting for delivery
        self.server = None
        self.closing = False
        self.worker = threading.Thread(target=self._deliver_forever, daemon=True)
        self.worker.start()

    # ---- the publish side
    def start(self):
        sidecar = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("content-length", 0))
                body = self.rfile.read(length).decode()
                url = urllib.parse.urlsplit(self.path)
                parts = url.path.split("/")
                if len(parts) != 5 or parts[1] != "v1.0" or parts[2] != "publish":
                    return self._answer(404)
                if sidecar.api_token is not None and self.headers.get("dapr-api-token") != sidecar.api_token:
                    return self._answer(401)
                try:
                    json.loads(body)
                except ValueError:
                    return self._answer(400)
                metadata = {k[len("metadata."):]: v[0] for k, v in urllib.parse.parse_qs(url.query).items()
                            if k.startswith("metadata.")}
                record = Published(parts[3], parts[4], self.headers.get("content-type"), body, metadata,
                                   dict(self.headers))
                sidecar._publish(record)
                self._answer(204)

            def _answer(self, status):
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def close(self):
        self.stop()
        with self.cond:
            self.closing = True
            self.cond.notify_all()
        self.worker.join(10)

    def _publish(self, record):
        with self.cond:
            self.published.append(record)
            self.queue.append((record.topic, dict(record.event, topic=record.topic, pubsubname=record.pubsub,
                                                  traceparent="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")))
            self.cond.notify_all()

    def inject(self, topic, event):
        """An event on the broker that the app's relay did not publish (another producer)."""
        with self.cond:
            self.queue.append((topic, dict(event)))
            self.cond.notify_all()

    def published_to(self, topic):
        with self.lock:
            return [p for p in self.published if p.topic == topic]

    def answers_for(self, event_id):
        with self.lock:
            return [a for a in self.answers if a[1] == event_id]

    # ---- the subscribe side
    def attach(self, host, port):
        with self.cond:
            self.app = (host, port)
            self.cond.notify_all()

    def app_request(self, method, path, body=None, headers=None):
        conn = http.client.HTTPConnection(*self.app, timeout=30)
        try:
            h = dict(headers or {})
            if self.app_token is not None:
                h.setdefault("dapr-api-token", self.app_token)
            if body is not None:
                h.setdefault("content-type", "application/cloudevents+json")
            conn.request(method, path, body=body, headers=h)
            resp = conn.getresponse()
            return resp.status, resp.read().decode(), dict(resp.getheaders())
        finally:
            conn.close()

    def _routes(self, topic):
        if self.subscriptions is None:
            status, body, _ = self.app_request("GET", "/dapr/subscribe")
            assert status == 200, (status, body)
            self.subscriptions = json.loads(body)
        return [s["route"] for s in self.subscriptions if s["topic"] == topic]

    def _deliver_forever(self):
        while True:
            with self.cond:
                self.cond.wait_for(lambda: self.closing or (self.app and self.queue))
                if self.closing:
                    return
                topic, event = self.queue.pop(0)
            try:
                routes = self._routes(topic)
            except OSError:
                routes = []
            for route in routes:
                self._deliver(route, event)

    def _deliver(self, route, event):
        body = json.dumps(event)
        for _ in range(MAX_DELIVERIES):
            if self.closing:
                return
            try:
                status, text, _ = self.app_request("POST", route, body=body)
            except OSError:
                status, text = 0, ""
            outcome = None
            if status == 200:
                try:
                    outcome = (json.loads(text) or {}).get("status", "SUCCESS") if text else "SUCCESS"
                except ValueError:
                    outcome = "SUCCESS"
            with self.lock:
                self.answers.append((route, event.get("id"), status, outcome))
            if status == 404 or outcome in ("SUCCESS", "DROP"):
                return
            time.sleep(REDELIVERY_WAIT)  # the sidecar's backoff before delivering it again
