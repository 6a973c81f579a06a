#!/usr/bin/env python3
"""A partner organization's integration with Artisan Commons, end to end.

Python 3.11, standard library only. Set API_BASE_URL (for example
http://127.0.0.1:8080) and API_KEY (an `ac_…` key with the scopes
directory:read and webhooks:manage), then run it. It:

1. reads the artisan directory, following the `Link: <…>; rel="next"`
   header to a second page when there is one;
2. starts a small webhook receiver on 127.0.0.1 (a free port) and
   registers it as a webhook endpoint, keeping the secret it gets back;
3. asks for a test delivery and waits (30 s at most) for it to arrive;
4. verifies the signature with `verify()` (the function docs/PARTNERS.md
   quotes), and checks that a tampered body and a stale timestamp are
   refused by it;
5. waits for the deliveries log to record the test as `succeeded`;
6. deletes the endpoint.

It exits 0 with a short summary, or 1 with the problem (and the server's
application/problem+json body, when there is one). The receiver needs a
server started with WEBHOOKS_ALLOW_PRIVATE_NETWORKS=true, since it listens
on http://127.0.0.1; a real receiver is an https:// URL on a public host.
"""

import base64
import hashlib
import hmac
import http.server
import json
import os
import queue
import re
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

WAIT_SECONDS = 30
PAGE_SIZE = int(os.environ.get("PAGE_SIZE", "2"))


# --- verify: quoted in docs/PARTNERS.md; keep the two identical ---------
def verify(secret, headers, body, tolerance=300, now=None):
    """True when `body` (the raw bytes received) carries a valid
    Standard Webhooks signature made with `secret` (`whsec_…`) and its
    timestamp is within `tolerance` seconds of `now` (default: the clock).
    `headers` is any mapping of the request's headers (names in any case).
    """
    h = {name.lower(): value for name, value in headers.items()}
    msg_id = h.get("webhook-id", "")
    timestamp = h.get("webhook-timestamp", "")
    signatures = h.get("webhook-signature", "")
    if not (msg_id and timestamp and signatures):
        return False
    try:
        sent_at = int(timestamp)
    except ValueError:
        return False
    if abs((time.time() if now is None else now) - sent_at) > tolerance:
        return False  # too old or too far ahead: maybe a replay
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest())
    for candidate in signatures.split(" "):  # "v1,<sig> v1,<sig> …"
        version, _, signature = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(signature.encode(), expected):
            return True
    return False
# --- end of verify -------------------------------------------------------


def sign(secret, msg_id, timestamp, body):
    """What the service puts in `webhook-signature` (used here to build
    test messages)."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


class Failure(Exception):
    """Something the example did not expect; `body` is the server's answer."""

    def __init__(self, message, body=b""):
        super().__init__(message)
        self.body = body


def call(method, path, payload=None, expect=(200,), headers=None):
    """One API request with the key. Returns (status, headers, JSON or None);
    any status outside `expect` raises Failure with the problem body."""
    url = urllib.parse.urljoin(API_BASE_URL + "/", path)
    data = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("X-API-Key", API_KEY)
    request.add_header("Accept", "application/json")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            status, got, raw = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, got, raw = error.code, error.headers, error.read()
    except urllib.error.URLError as error:
        raise Failure(f"{method} {url}: {error.reason}") from error
    if status not in expect:
        raise Failure(f"{method} {path} answered {status}, expected {expect}", raw)
    return status, got, (json.loads(raw) if raw else None)


def delete_endpoint(endpoint_id):
    """Deletes an endpoint under the version just read (its ETag as If-Match)."""
    _, got, _ = call("GET", f"/v1/webhook-endpoints/{endpoint_id}")
    call("DELETE", f"/v1/webhook-endpoints/{endpoint_id}", expect=(204,),
         headers={"If-Match": got["ETag"]})


def next_link(headers):
    """The target of `Link: <…>; rel="next"`, or None."""
    found = re.search(r'<([^>]*)>\s*;\s*rel="?next"?', headers.get("Link") or "")
    return found and found.group(1)


def read_directory():
    """The first page of consenting artisans and, when more follow, the
    second. Returns the artisans read."""
    path = f"/v1/directory/artisans?sort=name&limit={PAGE_SIZE}"
    artisans = []
    for page in (1, 2):
        _, headers, body = call("GET", path)
        link = next_link(headers)
        if (link is None) != (body["next_cursor"] is None):
            raise Failure(f"page {page}: Link header {link!r} and next_cursor "
                          f"{body['next_cursor']!r} disagree", json.dumps(body).encode())
        for artisan in body["data"]:
            where = ", ".join(filter(None, [artisan["region"], artisan["country"]]))
            crafts = ", ".join(artisan["crafts"]) or "no crafts listed"
            print(f"  page {page}: {artisan['display_name']} ({crafts}; {where or 'no place given'})")
        artisans += body["data"]
        if link is None:
            break
        path = link  # the same query with the next cursor
    return artisans


class Receiver(http.server.BaseHTTPRequestHandler):
    """A webhook receiver: checks the signature, answers 204 (or 400 when
    the signature does not hold), and hands what it got to the example."""

    secret = ""
    received = queue.Queue()
    seen_ids = set()

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        valid = verify(self.secret, self.headers, body)
        self.send_response(204 if valid else 400)
        self.end_headers()
        message_id = self.headers.get("webhook-id")
        duplicate = message_id in self.seen_ids  # retries repeat webhook-id
        self.seen_ids.add(message_id)
        headers = {name.lower(): value for name, value in self.headers.items()}
        self.received.put((headers, body, valid, duplicate))

    def log_message(self, *args):
        pass


def start_receiver():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def wait_for_message(message_id):
    deadline = time.monotonic() + WAIT_SECONDS
    while (left := deadline - time.monotonic()) > 0:
        try:
            headers, body, valid, duplicate = Receiver.received.get(timeout=left)
        except queue.Empty:
            break
        if headers.get("webhook-id") == message_id and not duplicate:
            return headers, body, valid
    raise Failure(f"no delivery of {message_id} within {WAIT_SECONDS} s")


def check(condition, message):
    if not condition:
        raise Failure(message)


def check_verify(secret, headers, body):
    """`verify` accepts the genuine message and refuses altered ones."""
    check(verify(secret, headers, body), "the signature of the test delivery does not verify")
    tampered = body.replace(b'"webhook.test"', b'"webhook.tost"')
    check(tampered != body and not verify(secret, headers, tampered),
          "a tampered body was accepted")
    check(not verify(secret, headers, body, now=int(headers["webhook-timestamp"]) + 3600),
          "the same message an hour later (a replay) was accepted")
    stale = str(int(time.time()) - 3600)
    stale_headers = dict(headers, **{
        "webhook-timestamp": stale,
        "webhook-signature": sign(secret, headers["webhook-id"], stale, body),
    })
    check(not verify(secret, stale_headers, body),
          "a correctly signed message with an hour-old timestamp was accepted")
    other = "whsec_" + base64.b64encode(os.urandom(32)).decode()
    check(not verify(other, headers, body), "another secret's key verified the message")
    rotating = dict(headers, **{"webhook-signature": "v1,bm90LWl0 " + headers["webhook-signature"]})
    check(verify(secret, rotating, body), "a valid signature after another one was not accepted")
    # The Standard Webhooks specification's own example.
    check(verify("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                 {"webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
                  "webhook-timestamp": "1614265330",
                  "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="},
                 b'{"test": 2432232314}', now=1614265330),
          "the Standard Webhooks example does not verify")


def wait_until_recorded(endpoint_id, delivery_id):
    """The test delivery as the deliveries log shows it once it succeeded."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        _, _, page = call("GET", f"/v1/webhook-endpoints/{endpoint_id}/deliveries?limit=20")
        mine = [d for d in page["data"] if d["id"] == delivery_id]
        if mine and mine[0]["status"] == "succeeded":
            return mine[0]
        if mine and mine[0]["status"] in ("failed", "cancelled"):
            raise Failure(f"the test delivery is {mine[0]['status']}", json.dumps(mine[0]).encode())
        if time.monotonic() > deadline:
            raise Failure(f"the test delivery was not recorded as succeeded within {WAIT_SECONDS} s",
                          json.dumps(page).encode())
        time.sleep(0.25)


def main():
    started = time.monotonic()
    print("Directory (artisans who agreed to be shown to partners):")
    artisans = read_directory()

    receiver = start_receiver()
    url = f"http://127.0.0.1:{receiver.server_address[1]}/artisan-commons"
    endpoint_id = None
    try:
        _, _, created = call("POST", "/v1/webhook-endpoints", expect=(201,),
                             headers={"Idempotency-Key": str(uuid.uuid4())},
                             payload={"url": url, "events": ["program.application.created"],
                                      "description": "partner.py example"})
        secret, endpoint_id = created["secret"], created["endpoint"]["id"]
        check(secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) == 32,
              "the secret is not whsec_ and 32 bytes in base64")
        Receiver.secret = secret
        print(f"Webhook endpoint {endpoint_id} registered for {url}")

        _, _, test = call("POST", f"/v1/webhook-endpoints/{endpoint_id}/test", expect=(202,))
        check(test["event_type"] == "webhook.test", f"unexpected test delivery {test}")
        headers, body, valid_on_arrival = wait_for_message(test["event_id"])
        check(valid_on_arrival, "the receiver refused the test delivery's signature")
        check(json.loads(body) == test["payload"], "the body received is not the payload queued")
        check_verify(secret, headers, body)
        print(f"Test delivery {headers['webhook-id']} received, signature verified; "
              "tampered body, stale timestamp and replay refused")

        recorded = wait_until_recorded(endpoint_id, test["id"])
        check(recorded["event_id"] == headers["webhook-id"], "the log names another webhook-id")
        check(recorded["attempt_log"] and recorded["attempt_log"][0]["status_code"] == 204,
              f"the log does not show the receiver's 204: {recorded['attempt_log']}")
        print(f"Deliveries log: {recorded['status']} after {recorded['attempts']} attempt(s), "
              f"{recorded['attempt_log'][0]['duration_ms']} ms")
    except Failure:
        if endpoint_id is not None:  # clean up, but report the first problem
            try:
                delete_endpoint(endpoint_id)
            except Failure:
                pass
        raise
    finally:
        receiver.shutdown()
    delete_endpoint(endpoint_id)
    call("GET", f"/v1/webhook-endpoints/{endpoint_id}", expect=(404,))
    print(f"Endpoint deleted. {len(artisans)} artisan(s) read; done in "
          f"{time.monotonic() - started:.1f} s.")


if __name__ == "__main__":
    try:
        API_BASE_URL = os.environ["API_BASE_URL"].rstrip("/")
        API_KEY = os.environ["API_KEY"]
    except KeyError as missing:
        sys.exit(f"set {missing.args[0]}")
    try:
        main()
    except Failure as failure:
        print(f"FAILED: {failure}", file=sys.stderr)
        if failure.body:
            print(failure.body.decode(errors="replace"), file=sys.stderr)
        sys.exit(1)
