#!/usr/bin/env python3
"""Crash durability harness for Artisan Commons.

Starts the server binary (`serve`) on a fresh SQLite or PostgreSQL database,
builds a small world through the public API (a partnership of three
artisans with an agreement in force, a skill exchange with sessions to
confirm, workshops with fewer seats than people who want one), then runs
cycles. In each cycle eight client threads write concurrently (sales with
an Idempotency-Key each, refunds, signatures on amendment drafts and edits
of them, exchange sessions and their confirmations, workshop registrations
and cancellations) while a killer thread sends SIGKILL to the server after
a random 50-1500 ms and restarts it on the same database. Clients keep every
write: answered (status, body) or unanswered (connection reset while the
request was out, or refused). After the restart they retry part of the
unanswered writes with the same Idempotency-Key and body (as a real client
would) and replay a few answered ones. (A key's reservation commits with
its effect and answer, so a retry after a crash either replays or runs:
there is no reservation left to wait out.)

After every restart the database (read directly: sqlite3 module, or the
`psql` client) and the API are checked:

  * every write whose 2xx answer a client received is there;
  * no Idempotency-Key produced two sales or two refunds, and a replayed
    key answered the same resource as the first answer;
  * each sale's allocation lines sum to its amount, each refund's to minus
    the refund, no line without its sale (and refunded_minor, the running
    allocation totals and the monthly impact totals agree with the lines);
  * the time ledger is double entry: every confirmed session has its two
    entries (teacher +, learner -), per exchange and overall the sum is 0;
  * at most one agreement in force per partnership and date, activated
    agreements carry every party's signature, superseded ones point at
    their successor;
  * no workshop has more registered seats than its capacity (and no one
    waits while a seat is free).

Standard library only. Exit status 1 on any violation, on the server
failing to (re)start, or on a setup failure.

    python3 bench/crash.py --binary target/release/artisan-commons \
        --database sqlite --cycles 3 --seed 1
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import http.client
import io
import json
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid

PASSWORD = "crash harness password"
CURRENCY = "EUR"
ORIGINAL_FROM = dt.date(2020, 1, 1)
WORKSHOP_CAPACITY = 5
ANSI = re.compile(r"\x1b\[[0-9;]*m")

# Splits the amendment drafts rotate through (parties A, B, C and one
# beneficiary); uneven basis points make the leftover-unit rule work.
SPLITS = [
    [("A", 3334), ("B", 3333), ("C", 2333), ("bene", 1000)],
    [("A", 5000), ("B", 2500), ("C", 2500)],
    [("A", 3333), ("B", 3333), ("C", 3333), ("bene", 1)],
    [("A", 1), ("B", 4999), ("C", 4000), ("bene", 1000)],
]


def log(msg: str) -> None:
    print(msg, flush=True)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def today() -> dt.date:
    return utc_now().date()


# --------------------------------------------------------------------------
# HTTP


class Unanswered(Exception):
    """No HTTP response: `kind` is refused (never delivered), reset or timeout."""

    def __init__(self, kind: str, detail: str):
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail


class Response:
    def __init__(self, status: int, headers: dict, body):
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def problem(self) -> str:
        if isinstance(self.body, dict):
            return str(self.body.get("type", ""))
        return ""

    @property
    def replayed(self) -> bool:
        return self.headers.get("idempotent-replayed", "").lower() == "true"


class Endpoint:
    """Where the server listens; one fresh connection per request (so a
    request is never sent on a kept-alive connection the server already
    closed, which would look like a lost answer)."""

    def __init__(self, port: int, timeout: float):
        self.host = "127.0.0.1"
        self.port = port
        self.timeout = timeout

    def call(self, method: str, path: str, body=None, headers=None) -> Response:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        hdrs = {"Accept": "application/json", "Connection": "close"}
        if headers:
            hdrs.update(headers)
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        try:
            try:
                conn.connect()
            except ConnectionRefusedError as e:
                raise Unanswered("refused", str(e)) from None
            except socket.timeout as e:
                raise Unanswered("refused", f"connect timeout {e}") from None
            except OSError as e:
                raise Unanswered("refused", str(e)) from None
            try:
                conn.request(method, path, body=data, headers=hdrs)
                resp = conn.getresponse()
                raw = resp.read()
            except socket.timeout as e:
                raise Unanswered("timeout", str(e)) from None
            except (OSError, http.client.HTTPException) as e:
                raise Unanswered("reset", f"{type(e).__name__}: {e}") from None
            rh = {k.lower(): v for k, v in resp.getheaders()}
            parsed = raw.decode("utf-8", "replace")
            if "json" in rh.get("content-type", "") and raw:
                try:
                    parsed = json.loads(raw)
                except ValueError:
                    pass
            return Response(resp.status, rh, parsed)
        finally:
            conn.close()


# --------------------------------------------------------------------------
# Server process


class Server:
    def __init__(self, binary: str, env: dict, port: int, workdir: str):
        self.binary = binary
        self.env = env
        self.port = port
        self.workdir = workdir
        self.log_path = os.path.join(workdir, "server.log")
        self.proc: subprocess.Popen | None = None
        self.starts = 0
        self.run_offsets: list[int] = []  # byte offset of each run in the log

    def _port_taken(self) -> bool:
        s = socket.socket()
        s.settimeout(0.5)
        try:
            s.connect(("127.0.0.1", self.port))
            return True
        except OSError:
            return False
        finally:
            s.close()

    def start(self, ready_timeout: float = 90.0) -> float:
        """Starts the server and waits for /readyz; returns seconds taken."""
        t0 = time.monotonic()
        # Another process answering on our port would pass the readiness
        # check for us: refuse to go on (the old process's socket is gone
        # once it has been reaped).
        for _ in range(50):
            if not self._port_taken():
                break
            time.sleep(0.1)
        else:
            raise RuntimeError(f"port {self.port} is answered by another process")
        self.starts += 1
        with open(self.log_path, "ab") as f:
            self.run_offsets.append(f.tell())
            f.write(f"===== crash.py: server start #{self.starts} at {utc_now().isoformat()} =====\n".encode())
        logf = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen(
                [self.binary, "serve"],
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=logf,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            logf.close()
        ep = Endpoint(self.port, 2.0)
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"server exited with status {self.proc.returncode} during start "
                    f"(see {self.log_path}):\n{self.log_tail(15)}")
            try:
                r = ep.call("GET", "/readyz")
                if r.status == 200:
                    if self.proc.poll() is not None:  # not ours answering
                        raise RuntimeError("server exited right after /readyz answered")
                    return time.monotonic() - t0
            except Unanswered:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"server not ready after {ready_timeout:.0f} s:\n{self.log_tail(15)}")

    def kill9(self) -> int:
        assert self.proc is not None
        pid = self.proc.pid
        os.kill(pid, signal.SIGKILL)
        return pid

    def reap(self) -> None:
        if self.proc is not None:
            self.proc.wait()

    def stop(self) -> None:
        """Graceful stop at the end (SIGTERM, then SIGKILL)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=35)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        except ProcessLookupError:
            pass

    def log_text(self) -> str:
        try:
            with open(self.log_path, "rb") as f:
                return ANSI.sub("", f.read().decode("utf-8", "replace"))
        except OSError:
            return ""

    def log_tail(self, n: int) -> str:
        return "\n".join(self.log_text().splitlines()[-n:])

    def run_log(self, run_index: int) -> list[str]:
        """Lines of one server run (1-based start number)."""
        try:
            with open(self.log_path, "rb") as f:
                data = f.read()
        except OSError:
            return []
        start = self.run_offsets[run_index - 1]
        end = self.run_offsets[run_index] if run_index < len(self.run_offsets) else len(data)
        return ANSI.sub("", data[start:end].decode("utf-8", "replace")).splitlines()


# --------------------------------------------------------------------------
# Database access (read only)


class Db:
    def rows(self, sql: str) -> list[tuple]:
        raise NotImplementedError

    def one(self, sql: str) -> tuple:
        r = self.rows(sql)
        return r[0] if r else ()


class SqliteDb(Db):
    def __init__(self, path: str):
        self.path = path

    def rows(self, sql: str) -> list[tuple]:
        try:
            conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=30)
        except sqlite3.Error:
            conn = sqlite3.connect(self.path, timeout=30)
        try:
            cur = conn.execute(sql)
            return [tuple(norm(v) for v in row) for row in cur.fetchall()]
        finally:
            conn.close()


NULL = "<crash.py:null>"


class PostgresDb(Db):
    def __init__(self, url: str):
        self.url = url

    def rows(self, sql: str) -> list[tuple]:
        out = subprocess.run(
            ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "--csv", "-t",
             "-P", f"null={NULL}", "-d", self.url, "-c", sql],
            capture_output=True, text=True, timeout=120)
        if out.returncode != 0:
            raise RuntimeError(f"psql failed: {out.stderr.strip()}\n{sql}")
        result = []
        for row in csv.reader(io.StringIO(out.stdout)):
            result.append(tuple(None if v == NULL else norm(v) for v in row))
        return result


def norm(v):
    """Values as the checks compare them: ints as int, the rest as str."""
    if v is None:
        return None
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        return int(v) if v.is_integer() else v
    s = str(v)
    if re.fullmatch(r"-?\d+", s):
        return int(s)
    if re.fullmatch(r"-?\d+\.0+", s):
        return int(s.split(".")[0])
    return s


def as_date(v) -> dt.date | None:
    if v is None:
        return None
    return dt.date.fromisoformat(str(v)[:10])


def psql_admin(base_url: str, sql: str) -> None:
    out = subprocess.run(
        ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", base_url + "postgres", "-c", sql],
        capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        raise RuntimeError(f"psql: {out.stderr.strip()}")


# --------------------------------------------------------------------------
# Writes as clients saw them


class Write:
    """One logical write and every attempt at it (the first and retries)."""

    _ids = 0
    _lock = threading.Lock()

    def __init__(self, op, user, method, path, body=None, key=None, if_match=None, meta=None):
        with Write._lock:
            Write._ids += 1
            self.n = Write._ids
        self.op = op
        self.user = user  # User
        self.method = method
        self.path = path
        self.body = body
        self.key = key
        self.if_match = if_match
        self.meta = dict(meta or {})
        self.cycle = 0
        self.attempts: list[dict] = []
        self.committed_before_retry = None  # from the database, when it can tell

    # The resource the 2xx answer names.
    def effect_id(self, body=None):
        b = body if body is not None else self.ok_body()
        if self.op in ("confirm",):
            return self.meta.get("sid")
        if self.op == "cancel":
            return self.meta.get("rid")
        if not isinstance(b, dict):
            return None
        if self.op == "refund":
            for r in b.get("refunds", []):
                if r.get("reason") == self.body["reason"]:
                    return r.get("id")
            return None
        return b.get("id")

    def first(self):
        return self.attempts[0] if self.attempts else None

    def ok_attempt(self):
        for a in self.attempts:
            if a["outcome"] == "answered" and 200 <= a["status"] < 300:
                return a
        return None

    def ok_body(self):
        a = self.ok_attempt()
        return a["body"] if a else None

    def originally_unanswered(self) -> bool:
        f = self.first()
        return f is not None and f["outcome"] != "answered"

    def summary(self) -> dict:
        return {
            "n": self.n, "op": self.op, "user": self.user.name, "method": self.method,
            "path": self.path, "key": self.key, "if_match": self.if_match, "body": self.body,
            "meta": self.meta, "cycle": self.cycle,
            "committed_before_retry": self.committed_before_retry,
            "attempts": [
                {k: (v if k != "body" else trim(v)) for k, v in a.items()} for a in self.attempts
            ],
        }


def trim(body):
    s = json.dumps(body) if not isinstance(body, str) else body
    return s if len(s) <= 1500 else s[:1500] + "…"


class User:
    def __init__(self, name: str, email: str):
        self.name = name
        self.email = email
        self.id = None
        self.token = None
        self.lock = threading.Lock()


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.c = {}

    def add(self, name, n=1):
        with self.lock:
            self.c[name] = self.c.get(name, 0) + n

    def get(self, name):
        return self.c.get(name, 0)


# --------------------------------------------------------------------------
# The harness


class Harness:
    def __init__(self, args):
        self.args = args
        self.rng = random.Random(args.seed)
        self.run_id = f"{args.seed}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.stats = Stats()
        self.writes: list[Write] = []
        self.writes_lock = threading.Lock()
        self.violations: list[dict] = []
        self.observations: list[str] = []
        self.checks_run = 0
        self.server: Server | None = None
        self.db: Db | None = None
        self.endpoint: Endpoint | None = None
        self.workdir = tempfile.mkdtemp(prefix="crash-")
        self.pg_db_name = None
        self.users: dict[str, User] = {}
        self.world_lock = threading.Lock()
        # world
        self.partnership_id = None
        self.party = {}  # "A" -> party id
        self.party_user = {}  # party id -> user name
        self.exchange_id = None
        self.skill = {"X": "weaving", "Y": "natural-dyeing"}
        self.pending_sessions = {"X": [], "Y": []}
        self.sales: list[dict] = []  # acked sales: {id, amount, refunded}
        self.draft = None  # {id, content_hash, awaiting: set, version}
        self.workshop_id = None
        self.workshops: list[str] = []
        self.cycle = 0
        self.kill_log: list[dict] = []
        self.restart_failed = False

    # ---------------------------------------------------------------- api
    def login(self, u: User) -> None:
        r = self.endpoint.call("POST", "/v1/auth/login", {"email": u.email, "password": PASSWORD})
        if r.status != 200:
            raise RuntimeError(f"login {u.name}: {r.status} {r.body}")
        u.token = r.body["access_token"]

    def call(self, u: User | None, method, path, body=None, key=None, if_match=None,
             request_id=None) -> Response:
        """An API call as `u`; signs in again once on 401 (tokens live 15 min)."""
        for attempt in range(2):
            headers = {}
            if u is not None:
                headers["Authorization"] = f"Bearer {u.token}"
            if key is not None:
                headers["Idempotency-Key"] = key
            if if_match is not None:
                headers["If-Match"] = if_match
            if request_id is not None:
                headers["X-Request-Id"] = request_id
            r = self.endpoint.call(method, path, body, headers)
            if r.status == 401 and u is not None and attempt == 0:
                with u.lock:
                    self.login(u)
                continue
            return r
        return r

    def must(self, u, method, path, body=None, key=None, if_match=None, expect=(200, 201)):
        r = self.call(u, method, path, body, key, if_match)
        if r.status not in expect:
            raise RuntimeError(f"setup: {method} {path} -> {r.status} {r.body}")
        return r

    def attempt(self, w: Write, retry: bool = False) -> dict:
        """Sends `w` once (again), records the attempt and returns it."""
        n = len(w.attempts)
        rid = f"crash-w{w.n}-a{n}-{self.run_id}"[:128]
        a = {"t_sent": utc_now().isoformat(), "retry": retry, "request_id": rid,
             "cycle": self.cycle}
        t0 = time.monotonic()
        a["_mono"] = t0
        try:
            r = self.call(w.user, w.method, w.path, w.body, w.key, w.if_match, rid)
            a.update(outcome="answered", status=r.status, body=r.body, replayed=r.replayed,
                     problem=r.problem)
        except Unanswered as e:
            a.update(outcome=e.kind, status=None, body=None, replayed=False, problem="",
                     error=e.detail)
        a["t_done"] = utc_now().isoformat()
        a["ms"] = round((time.monotonic() - t0) * 1000, 1)
        w.attempts.append(a)
        if n == 0:
            w.cycle = self.cycle
            with self.writes_lock:
                self.writes.append(w)
        kind = "retry" if retry else "write"
        if a["outcome"] == "answered":
            self.stats.add(f"{kind}_answered")
            if 200 <= a["status"] < 300:
                self.stats.add(f"{kind}_2xx")
        else:
            self.stats.add(f"{kind}_{a['outcome']}")
        return a

    # -------------------------------------------------------------- setup
    def start(self):
        args = self.args
        binary = os.path.abspath(args.binary)
        if not os.access(binary, os.X_OK):
            raise RuntimeError(f"no executable binary at {binary}")
        port = free_port()
        env = dict(os.environ)
        for k in ("DATABASE_URL", "CONFIG_FILE", "APP_ENV"):
            env.pop(k, None)
        data_dir = os.path.join(self.workdir, "data")
        os.makedirs(data_dir)
        env.update({
            "DATA_DIR": data_dir,
            "BIND_ADDR": f"127.0.0.1:{port}",
            "RATE_LIMIT_PER_MINUTE": "0",
            "RATE_LIMIT_AUTH_PER_MINUTE": "0",
            # Fixed for the whole run: tokens and sealed idempotent
            # responses must survive restarts.
            "JWT_SECRET": uuid.uuid4().hex + uuid.uuid4().hex,
            "RUST_LOG": env.get("RUST_LOG", "info"),
            "LOG_FORMAT": "pretty",
            "NO_COLOR": "1",
        })
        if args.database == "postgres":
            self.pg_db_name = f"crash_{os.getpid()}_{uuid.uuid4().hex[:6]}"
            psql_admin(args.pg_url, f"CREATE DATABASE {self.pg_db_name}")
            url = args.pg_url + self.pg_db_name
            env["DATABASE_URL"] = url
            self.db = PostgresDb(url)
        else:
            self.db = SqliteDb(os.path.join(data_dir, "artisan-commons.db"))
        self.server = Server(binary, env, port, self.workdir)
        self.endpoint = Endpoint(port, args.request_timeout)
        took = self.server.start()
        log(f"crash: {args.database}, binary {binary}, port {port}, seed {args.seed}, "
            f"workdir {self.workdir}" + (f", database {self.pg_db_name}" if self.pg_db_name else "")
            + f"; server ready in {took:.2f} s")

    def setup_world(self):
        names = ["A", "B", "C", "X", "Y", "H"] + [f"R{i}" for i in range(1, 9)]
        for name in names:
            u = User(name, f"crash-{self.run_id}-{name.lower()}@example.org")
            r = self.must(None, "POST", "/v1/auth/register",
                          {"email": u.email, "password": PASSWORD,
                           "display_name": f"Crash {name}"}, key=f"reg-{self.run_id}-{name}")
            u.id = r.body["id"]
            self.login(u)
            self.users[name] = u
        U = self.users
        # A partnership of three artisans.
        r = self.must(U["A"], "POST", "/v1/partnerships",
                      {"title": "Crash harness cooperative", "kind": "cooperative_project",
                       "invitees": [{"artisan_id": U["B"].id}, {"artisan_id": U["C"].id}]},
                      key=f"pship-{self.run_id}")
        p = r.body
        self.partnership_id = p["id"]
        for party in p["parties"]:
            for n in ("A", "B", "C"):
                if party.get("artisan_id") == U[n].id:
                    self.party[n] = party["id"]
                    self.party_user[party["id"]] = n
        for n in ("B", "C"):
            self.must(U[n], "POST",
                      f"/v1/partnerships/{self.partnership_id}/invitations/{self.party[n]}/accept")
        # The original agreement, signed by all three: in force from 2020-01-01.
        r = self.must(U["A"], "POST", f"/v1/partnerships/{self.partnership_id}/agreements",
                      {"revenue_split": self.split(0), "effective_from": ORIGINAL_FROM.isoformat(),
                       "commitments": [{"party_id": self.party[n], "description": f"{n} makes"}
                                       for n in ("A", "B", "C")]},
                      key=f"agr-{self.run_id}")
        ag = r.body
        for n in ("A", "B", "C"):
            r = self.must(U[n], "POST", f"/v1/agreements/{ag['id']}/signatures",
                          {"content_hash": ag["content_hash"]}, key=f"sig0-{self.run_id}-{n}")
        if r.body["status"] != "active":
            raise RuntimeError(f"setup: agreement not active after three signatures: {r.body['status']}")
        # A swap between X and Y, accepted, with sessions waiting for confirmation.
        r = self.must(U["X"], "POST", "/v1/exchanges",
                      {"kind": "swap", "partner_id": U["Y"].id, "i_teach": [self.skill["X"]],
                       "they_teach": [self.skill["Y"]], "message": "crash harness swap",
                       "proposed_hours": 200}, key=f"exch-{self.run_id}")
        self.exchange_id = r.body["id"]
        self.must(U["Y"], "POST", f"/v1/exchanges/{self.exchange_id}/accept")
        for rec in ("X", "Y"):
            for i in range(3):
                w = self.session_write(rec, self.rng)
                a = self.attempt(w)
                if a["status"] != 201:
                    raise RuntimeError(f"setup: session -> {a['status']} {a['body']}")
                self.pending_sessions[rec].append(a["body"]["id"])
        self.new_workshop()
        log(f"world: partnership {self.partnership_id} (agreement {ag['id']} active), "
            f"exchange {self.exchange_id} with 6 sessions to confirm, workshop {self.workshop_id} "
            f"({WORKSHOP_CAPACITY} seats, {len(self.registrants())} artisans want one)")

    def split(self, i: int) -> dict:
        shares = []
        for who, bps in SPLITS[i % len(SPLITS)]:
            if who == "bene":
                rec = {"beneficiary": {"name": "Escuela de Tejido"}}
            else:
                rec = {"party_id": self.party[who]}
            shares.append({"recipient": rec, "share_bps": bps})
        return {"currency": CURRENCY, "shares": shares}

    def registrants(self) -> list[str]:
        return ["A", "B", "C", "X", "Y"] + [f"R{i}" for i in range(1, 9)]

    def new_workshop(self):
        starts = (utc_now() + dt.timedelta(days=30)).replace(microsecond=0)
        w = Write("workshop", self.users["H"], "POST", "/v1/workshops",
                  {"title": f"Crash workshop {len(self.workshops) + 1}", "skill": "weaving",
                   "capacity": WORKSHOP_CAPACITY,
                   "starts_at": starts.isoformat().replace("+00:00", "Z"),
                   "duration_hours": 2, "location": "Cusco",
                   "description": "More artisans than seats."},
                  key=f"crash-{self.run_id}-ws-{len(self.workshops) + 1}")
        a = self.attempt(w)
        if a["status"] != 201:
            raise RuntimeError(f"workshop -> {a['status']} {a['body']}")
        self.workshop_id = a["body"]["id"]
        self.workshops.append(self.workshop_id)

    # ------------------------------------------------------------ workers
    def session_write(self, recorder: str, rng: random.Random) -> Write:
        other = "Y" if recorder == "X" else "X"
        teacher = recorder if rng.random() < 0.6 else other
        held = today() - dt.timedelta(days=rng.randint(0, 60))
        return Write("session", self.users[recorder], "POST",
                     f"/v1/exchanges/{self.exchange_id}/sessions",
                     {"taught_by": self.users[teacher].id, "skill": self.skill[teacher],
                      "hours": rng.choice([0.25, 0.5, 1, 1.5, 2, 3.75]),
                      "held_on": held.isoformat()},
                     key=f"crash-{self.run_id}-ses-{recorder}-{uuid.uuid4().hex[:10]}",
                     meta={"recorder": recorder})

    def money_worker(self, name: str, tid: int, rng: random.Random, stop: threading.Event):
        u = self.users[name]
        n = 0
        while not stop.is_set():
            n += 1
            r = rng.random()
            w = None
            if r < 0.60 or not self.sales:
                key = f"crash-{self.run_id}-sale-c{self.cycle}-{tid}-{n}"
                day = ORIGINAL_FROM + dt.timedelta(days=rng.randint(1, (today() - ORIGINAL_FROM).days - 1))
                at = dt.datetime.combine(day, dt.time(rng.randint(0, 23), rng.randint(0, 59),
                                                      rng.randint(0, 59), rng.randint(0, 999999)))
                amount = rng.choice([1, 2, 3, 7, 99, 100, 101, 999, 10001, rng.randint(1, 500000)])
                w = Write("sale", u, "POST", f"/v1/partnerships/{self.partnership_id}/sales",
                          {"amount_minor": amount, "currency": CURRENCY,
                           "occurred_at": at.isoformat() + "Z",
                           "channel": rng.choice(["market_event", "online", "wholesale", "other"]),
                           "description": f"crash sale {key}", "external_ref": key},
                          key=key)
            elif r < 0.82:
                with self.world_lock:
                    s = rng.choice(self.sales)
                    left = s["amount"] - s["refunded"]
                if left <= 0:
                    continue
                amount = left if rng.random() < 0.2 else rng.randint(1, max(1, left // 2))
                key = f"crash-{self.run_id}-refund-c{self.cycle}-{tid}-{n}"
                w = Write("refund", u, "POST", f"/v1/sales/{s['id']}/refunds",
                          {"amount_minor": amount, "reason": f"crash refund {key}"}, key=key,
                          meta={"sale_id": s["id"]})
            else:
                with self.world_lock:
                    d = self.draft
                    mine = self.party[name] if name in self.party else None
                    if not d or mine not in d["awaiting"]:
                        d = None
                if d is None:
                    time.sleep(0.005)
                    continue
                w = self.sign_write(d, name)
            if not self.send(w, rng):
                return

    def sign_write(self, d: dict, name: str) -> Write:
        return Write("sign", self.users[name], "POST", f"/v1/agreements/{d['id']}/signatures",
                     {"content_hash": d["content_hash"]},
                     key=f"crash-{self.run_id}-sign-{name}-{uuid.uuid4().hex[:10]}",
                     meta={"agreement_id": d["id"], "party_id": self.party[name],
                           "content_hash": d["content_hash"]})

    def agreement_worker(self, rng: random.Random, stop: threading.Event):
        A = self.users["A"]
        while not stop.is_set():
            try:
                drafts = self.call(A, "GET", f"/v1/partnerships/{self.partnership_id}/agreements?status=draft&limit=100")
                active = self.call(A, "GET", f"/v1/partnerships/{self.partnership_id}/agreements?status=active&limit=100")
            except Unanswered:
                return
            if drafts.status != 200 or active.status != 200:
                time.sleep(0.05)
                continue
            d = drafts.body["data"][0] if drafts.body["data"] else None
            if d is not None:
                with self.world_lock:
                    self.draft = {"id": d["id"], "content_hash": d["content_hash"],
                                  "awaiting": set(d["awaiting_signature"]), "version": d["version"]}
                # The parties' own clients sign (money workers); this one
                # sometimes edits the draft, which clears its signatures.
                if rng.random() < 0.08:
                    w = Write("edit", A, "PATCH", f"/v1/agreements/{d['id']}",
                              {"revenue_split": self.split(rng.randrange(len(SPLITS)))},
                              if_match=f'"{d["version"]}"', meta={"agreement_id": d["id"]})
                else:
                    time.sleep(0.02)
                    continue
            else:
                with self.world_lock:
                    self.draft = None
                if not active.body["data"]:
                    time.sleep(0.05)
                    continue
                cur = max(active.body["data"], key=lambda x: x["effective_from"])
                frm = dt.date.fromisoformat(cur["effective_from"]) + dt.timedelta(days=rng.randint(1, 5))
                w = Write("amend", A, "POST", f"/v1/agreements/{cur['id']}/amendments",
                          {"kind": "amendment", "effective_from": frm.isoformat()},
                          key=f"crash-{self.run_id}-amend-{uuid.uuid4().hex[:10]}",
                          meta={"amends": cur["id"]})
            if not self.send(w, rng):
                return

    def exchange_worker(self, recorder: str, rng: random.Random, stop: threading.Event):
        other = "Y" if recorder == "X" else "X"
        while not stop.is_set():
            with self.world_lock:
                pend = self.pending_sessions[recorder]
                sid = pend.pop(rng.randrange(len(pend))) if pend and rng.random() < 0.5 else None
            if sid is not None:
                w = Write("confirm", self.users[other], "POST",
                          f"/v1/exchanges/{self.exchange_id}/sessions/{sid}/confirm",
                          meta={"sid": sid})
            else:
                w = self.session_write(recorder, rng)
            if not self.send(w, rng):
                return

    def workshop_worker(self, names: list[str], rng: random.Random, stop: threading.Event,
                        state: dict):
        wid = self.workshop_id
        while not stop.is_set():
            name = rng.choice(names)
            u = self.users[name]
            cur = state.get(name)
            if cur is None:
                w = Write("register", u, "POST", f"/v1/workshops/{wid}/registrations",
                          key=f"crash-{self.run_id}-reg-{name}-{uuid.uuid4().hex[:10]}",
                          meta={"workshop_id": wid, "artisan": name})
            elif rng.random() < 0.4:
                w = Write("cancel", u, "DELETE", f"/v1/workshops/{wid}/registrations/{cur['id']}",
                          if_match=f'"{cur["version"]}"',
                          meta={"workshop_id": wid, "rid": cur["id"], "artisan": name})
            else:
                time.sleep(0.002)
                continue
            a = self.attempt(w)
            if a["outcome"] != "answered":
                return
            if w.op == "register" and a["status"] == 201:
                state[name] = a["body"]
            elif w.op == "cancel" and a["status"] == 204:
                state.pop(name, None)
            elif a["status"] in (409, 412):
                self.refresh_registration(u, wid, name, state)
            self.pace(rng)

    def refresh_registration(self, u, wid, name, state):
        try:
            r = self.call(u, "GET", f"/v1/workshops/{wid}/registrations?limit=100")
        except Unanswered:
            return
        if r.status == 200:
            live = [x for x in r.body["data"] if x["status"] != "cancelled"]
            if live:
                state[name] = live[0]
            else:
                state.pop(name, None)

    def send(self, w: Write, rng: random.Random) -> bool:
        """Sends one write of a worker's loop; False once the server is gone
        (the worker stops until the next cycle)."""
        a = self.attempt(w)
        if a["outcome"] != "answered":
            return False
        self.absorb(w, a)
        self.pace(rng)
        return True

    def pace(self, rng):
        if self.args.pace_ms > 0:
            time.sleep(rng.uniform(0, self.args.pace_ms) / 1000)

    def absorb(self, w: Write, a: dict):
        """What an answer teaches the clients about the world."""
        if a["outcome"] != "answered":
            return
        ok = 200 <= a["status"] < 300
        b = a["body"]
        with self.world_lock:
            if w.op == "sale" and ok:
                if not any(s["id"] == b["id"] for s in self.sales):
                    self.sales.append({"id": b["id"], "amount": b["amount_minor"],
                                       "refunded": b["refunded_minor"]})
            elif w.op == "refund" and ok:
                for s in self.sales:
                    if s["id"] == b["id"]:
                        s["refunded"] = max(s["refunded"], b["refunded_minor"])
            elif w.op == "session" and ok and not a.get("retry"):
                self.pending_sessions[w.meta["recorder"]].append(b["id"])
            elif w.op in ("sign", "edit", "amend") and ok and isinstance(b, dict):
                if b.get("status") == "draft":
                    self.draft = {"id": b["id"], "content_hash": b["content_hash"],
                                  "awaiting": set(b.get("awaiting_signature", [])),
                                  "version": b["version"]}
                elif self.draft and self.draft["id"] == b.get("id"):
                    self.draft = None
            elif w.op == "sign" and a["status"] == 409:
                pass

    # -------------------------------------------------------------- cycle
    def run_cycle(self, c: int) -> dict:
        self.cycle = c
        t_cycle = time.monotonic()
        before = {k: self.stats.get(k) for k in ("write_answered", "write_2xx", "write_reset",
                                                 "write_timeout", "write_refused")}
        self.new_workshop()
        stop = threading.Event()
        rngs = [random.Random(self.rng.random()) for _ in range(10)]
        cycle_writes_start = len(self.writes)
        regs = self.registrants()
        threads = []

        def run(target, *a):
            def body():
                try:
                    target(*a)
                except Exception:  # a bug in the harness itself: make it loud
                    self.stats.add("worker_errors")
                    log("worker error:\n" + traceback.format_exc())
            return threading.Thread(target=body, daemon=True)

        threads.append(run(self.money_worker, "A", 1, rngs[0], stop))
        threads.append(run(self.money_worker, "B", 2, rngs[1], stop))
        threads.append(run(self.money_worker, "C", 3, rngs[2], stop))
        threads.append(run(self.agreement_worker, rngs[3], stop))
        threads.append(run(self.exchange_worker, "X", rngs[4], stop))
        threads.append(run(self.exchange_worker, "Y", rngs[5], stop))
        threads.append(run(self.workshop_worker, regs[: len(regs) // 2], rngs[6], stop, {}))
        threads.append(run(self.workshop_worker, regs[len(regs) // 2:], rngs[7], stop, {}))
        delay_ms = rngs[8].uniform(50, 1500)
        kill = {"cycle": c, "delay_ms": round(delay_ms)}

        def killer():
            time.sleep(delay_ms / 1000)
            kill["pid"] = self.server.kill9()
            kill["killed_at"] = utc_now().isoformat()
            kill["run"] = self.server.starts
            stop.set()
            self.server.reap()
            try:
                kill["restart_s"] = round(self.server.start(), 2)
            except Exception as e:  # noqa: BLE001
                kill["restart_error"] = str(e)
                self.restart_failed = True

        for t in threads:
            t.start()
        kt = threading.Thread(target=killer, daemon=True)
        kt.start()
        kt.join()
        for t in threads:
            t.join(timeout=self.args.request_timeout + 30)
        self.kill_log.append(kill)
        if self.restart_failed:
            return {"restart_error": kill.get("restart_error")}
        cycle_writes = self.writes[cycle_writes_start:]
        unanswered = [w for w in cycle_writes if w.originally_unanswered()]
        # What the database holds for the writes nobody heard back from,
        # before anyone retries them.
        self.classify_unanswered(unanswered)
        # The clients retry part of their unanswered writes, same key, same
        # body, and replay a few answered ones.
        self.retry_phase(unanswered, rngs[9])
        self.rebuild_knowledge()
        viol_before = len(self.violations)
        checks_before = self.checks_run
        self.check_all(f"cycle {c}")
        after = {k: self.stats.get(k) - before[k] for k in before}
        return {
            "kill": kill,
            "answered": after["write_answered"],
            "ok": after["write_2xx"],
            "unanswered": after["write_reset"] + after["write_timeout"],
            "refused": after["write_refused"],
            "committed": sum(1 for w in unanswered if w.committed_before_retry is True),
            "committed_in_flight": sum(1 for w in unanswered if w.committed_before_retry is True
                                       and w.meta.get("idempotency_state_after_crash") == "in_flight"),
            "retried": sum(1 for w in unanswered if len(w.attempts) > 1),
            "checks": self.checks_run - checks_before,
            "verified": self.stats.get("acked_verified_last"),
            "violations": len(self.violations) - viol_before,
            "seconds": time.monotonic() - t_cycle,
        }

    def classify_unanswered(self, ws: list[Write]):
        """Whether each unanswered write took effect, from the database, before
        anyone retries it (None: the database cannot tell)."""
        if not ws:
            return
        db = self.db
        known = {}  # effect ids the clients learnt from 2xx answers, per op
        with self.writes_lock:
            for w in self.writes:
                a = w.ok_attempt()
                if a is not None:
                    known.setdefault(w.op, set()).add(w.effect_id(a["body"]))
                    if w.op == "sign":
                        known.setdefault("sig", set()).add(
                            (w.meta["agreement_id"], w.meta["party_id"], w.meta["content_hash"]))
        ext = {r[0]: r[1] for r in db.rows("SELECT external_ref, id FROM sales WHERE external_ref IS NOT NULL")}
        reasons = {r[0]: r[1] for r in db.rows("SELECT reason, id FROM refunds")}
        sigs = {(r[0], r[1], r[2]): r[3] for r in db.rows(
            "SELECT agreement_id, party_id, content_hash, id FROM agreement_signatures")}
        sess = db.rows("SELECT id, status, recorded_by, taught_by, skill, minutes, held_on, created_at "
                       "FROM exchange_sessions")
        sess_status = {r[0]: r[1] for r in sess}
        regs = db.rows("SELECT id, workshop_id, artisan_id, status, created_at FROM workshop_registrations")
        reg_status = {r[0]: r[3] for r in regs}
        amends = db.rows("SELECT id, supersedes, created_at FROM agreements WHERE supersedes IS NOT NULL")
        for w in ws:
            found = None
            if w.first()["outcome"] == "refused":
                w.committed_before_retry = False
                continue
            if w.op == "sale":
                found = ext.get(w.body["external_ref"])
            elif w.op == "refund":
                found = reasons.get(w.body["reason"])
            elif w.op == "sign":
                t = (w.meta["agreement_id"], w.meta["party_id"], w.meta["content_hash"])
                if t not in known.get("sig", set()):
                    found = sigs.get(t)
            elif w.op == "confirm":
                found = w.meta["sid"] if sess_status.get(w.meta["sid"]) == "confirmed" else None
            elif w.op == "session":
                b = w.body
                for sid, _st, rec, taught, skill, minutes, held, created in sess:
                    if (during(w, created) and rec == w.user.id and taught == b["taught_by"] and skill == b["skill"]
                            and minutes == round(b["hours"] * 60) and str(held)[:10] == b["held_on"]
                            and sid not in known.get("session", set())):
                        found = sid
                        break
            elif w.op == "register":
                for rid, wid, artisan, st, created in regs:
                    if (during(w, created) and wid == w.meta["workshop_id"] and artisan == w.user.id and st != "cancelled"
                            and rid not in known.get("register", set())):
                        found = rid
                        break
            elif w.op == "cancel":
                found = w.meta["rid"] if reg_status.get(w.meta["rid"]) == "cancelled" else None
            elif w.op == "amend":
                for aid, sup, created in amends:
                    if during(w, created) and sup == w.meta["amends"] and aid not in known.get("amend", set()):
                        found = aid
                        break
            else:  # an edit: the version moved, but maybe not by this write
                w.committed_before_retry = None
                continue
            w.committed_before_retry = found is not None
            if found is not None:
                w.meta["committed_id"] = found
        keys = self.idempotency_states([w.key for w in ws if w.key])
        for w in ws:
            if w.key and w.key in keys:
                w.meta["idempotency_state_after_crash"] = keys[w.key]
            if w.committed_before_retry is True:
                state = w.meta.get("idempotency_state_after_crash", "none")
                self.stats.add(f"committed_key_{state}")
                if state == "in_flight":
                    # The effect committed, the stored answer did not: the
                    # window between the operation's transaction and
                    # idempotency::complete.
                    self.observations.append(
                        f"{self.where()}: {w.op} {w.path} (key {w.key}) committed before the kill "
                        f"but its Idempotency-Key was left in_flight (no stored answer)")

    def idempotency_states(self, keys: list[str]) -> dict:
        if not keys:
            return {}
        try:
            quoted = ",".join("'" + k.replace("'", "''") + "'" for k in keys)
            rows = self.db.rows(
                f"SELECT idempotency_key, state FROM idempotency_keys WHERE idempotency_key IN ({quoted})")
            return {r[0]: r[1] for r in rows}
        except Exception:  # noqa: BLE001 - stored keys may be fingerprints
            return {}

    def retry_phase(self, unanswered: list[Write], rng: random.Random):
        for w in unanswered:
            if rng.random() >= self.args.retry_fraction:
                continue
            self.retry(w)
        # Replays of answered writes: the same key must give the same answer.
        with self.writes_lock:
            answered = [w for w in self.writes if w.key and not w.originally_unanswered()
                        and w.ok_attempt() is not None and w.op != "workshop"]
        for w in rng.sample(answered, min(self.args.replays, len(answered))):
            self.replay_answered(w)

    def retry(self, w: Write):
        self.stats.add("retries")
        a = self.attempt(w, retry=True)
        if a["outcome"] != "answered":
            return
        self.absorb(w, a)
        self.judge_retry(w, a)

    def judge_retry(self, w: Write, a: dict):
        """What a retry's answer says next to what the database said before it."""
        ok = 200 <= a["status"] < 300
        if ok and a["replayed"]:
            self.stats.add("retry_replayed")
        elif ok:
            self.stats.add("retry_ran")
        else:
            self.stats.add("retry_refused")
        prev_ok = [x for x in w.attempts[:-1] if x["outcome"] == "answered" and 200 <= x["status"] < 300]
        if prev_ok and ok:
            e0, e1 = w.effect_id(prev_ok[0]["body"]), w.effect_id(a["body"])
            if e0 != e1:
                self.violation("idempotent-replay", f"{w.op} key {w.key}: first answered {e0}, retry answered {e1}",
                               writes=[w], ids=[e0, e1])
        if w.committed_before_retry is True and w.key and not a["replayed"]:
            # Same key, same body, and the first request had taken effect:
            # the contract is a replay of the first answer. Running the
            # operation again either made a second effect or refused it.
            state = w.meta.get("idempotency_state_after_crash")
            what = (f"{w.op} {w.method} {w.path} (key {w.key}) committed before the kill as "
                    f"{w.meta.get('committed_id')} (key left {state}); the retry at "
                    f"{a['t_sent']} ran it again: {a['status']} {a['problem'] or ''}").rstrip()
            if ok and w.op in ("sale", "refund"):
                self.observations.append(f"{self.where()}: {what} (see one-{w.op}-per-idempotency-key)")
            elif ok:
                self.violation("idempotent-retry-second-effect", what + f", new {w.op} {w.effect_id(a['body'])}",
                               writes=[w], ids=[w.meta.get("committed_id"), w.effect_id(a["body"])])
            else:
                self.violation("idempotent-retry-wrong-answer",
                               what + " instead of the stored 2xx answer: the client is told it failed",
                               writes=[w], ids=[w.meta.get("committed_id")])
        elif w.committed_before_retry is True and not ok:
            self.stats.add("retry_refused_though_committed")
            self.observations.append(
                f"{self.where()}: {w.op} {w.path} (no Idempotency-Key) had committed before the crash; "
                f"its retry answered {a['status']} {a['problem'] or ''}".rstrip())

    def replay_answered(self, w: Write):
        first = w.ok_attempt()
        self.stats.add("replays")
        a = self.attempt(w, retry=True)
        if a["outcome"] != "answered":
            return
        ok = 200 <= a["status"] < 300
        e0 = w.effect_id(first["body"])
        e1 = w.effect_id(a["body"]) if ok else None
        self.checks_run += 1
        if not ok or not a["replayed"] or e0 != e1 or a["status"] != first["status"]:
            self.violation("idempotent-replay",
                           f"replay of answered {w.op} key {w.key}: first {first['status']} {e0}, "
                           f"replay {a['status']} {e1} replayed={a['replayed']} {a['problem']}",
                           writes=[w], ids=[e0, e1])
        else:
            self.stats.add("replays_ok")

    def rebuild_knowledge(self):
        """Pending sessions as the database has them (lost answers leave gaps
        in what the clients know)."""
        rows = self.db.rows(
            f"SELECT id, recorded_by FROM exchange_sessions WHERE status = 'pending' "
            f"AND exchange_id = '{self.exchange_id}'")
        by_id = {self.users["X"].id: "X", self.users["Y"].id: "Y"}
        with self.world_lock:
            self.pending_sessions = {"X": [], "Y": []}
            for sid, rec in rows:
                self.pending_sessions[by_id[rec]].append(sid)
            self.draft = None

    def where(self) -> str:
        return "final retries" if self.cycle > self.args.cycles else f"cycle {self.cycle}"

    # ------------------------------------------------------------- checks
    def violation(self, check: str, detail: str, writes=None, ids=None, rows=None):
        v = {"check": check, "cycle": self.cycle, "detail": detail, "ids": [i for i in (ids or []) if i],
             "writes": [w.summary() for w in (writes or [])], "rows": rows or []}
        self.violations.append(v)
        log(f"  VIOLATION [{check}] {detail}")

    def check_all(self, label: str):
        checks = [
            self.check_acknowledged,
            self.check_idempotency,
            self.check_sale_lines,
            self.check_refund_lines,
            self.check_orphan_lines,
            self.check_refunded_totals,
            self.check_recipient_holdings,
            self.check_allocation_totals,
            self.check_impact_months,
            self.check_ledger_sessions,
            self.check_ledger_totals,
            self.check_ledger_api,
            self.check_agreements_in_force,
            self.check_agreement_activation,
            self.check_workshops,
            self.check_workshop_api,
            self.check_sales_api,
        ]
        for chk in checks:
            self.checks_run += 1
            try:
                chk()
            except Exception as e:  # noqa: BLE001
                self.violation(chk.__name__, f"check could not run: {e}")

    def acked(self) -> list[Write]:
        with self.writes_lock:
            return [w for w in self.writes if w.ok_attempt() is not None]

    def check_acknowledged(self):
        db = self.db
        sales = {r[0]: r for r in db.rows("SELECT id, amount_minor, external_ref FROM sales")}
        refunds = {r[0]: r for r in db.rows("SELECT id, sale_id, amount_minor, reason FROM refunds")}
        agreements = {r[0]: r for r in db.rows("SELECT id, version, status FROM agreements")}
        sigs = set(db.rows("SELECT agreement_id, party_id, content_hash FROM agreement_signatures"))
        sessions = dict(db.rows("SELECT id, status FROM exchange_sessions"))
        regs = {r[0]: r for r in db.rows("SELECT id, status, version FROM workshop_registrations")}
        workshops = {r[0] for r in db.rows("SELECT id FROM workshops")}
        n = 0
        for w in self.acked():
            a = w.ok_attempt()
            b = a["body"]
            eid = w.effect_id(b)
            n += 1
            bad = None
            if w.op == "sale":
                row = sales.get(eid)
                if row is None:
                    bad = f"sale {eid} answered {a['status']} is missing"
                elif row[1] != w.body["amount_minor"] or row[2] != w.body["external_ref"]:
                    bad = f"sale {eid} differs from what was answered: {row}"
            elif w.op == "refund":
                row = refunds.get(eid)
                if eid is None:
                    bad = f"refund answer names no refund with reason {w.body['reason']!r}"
                elif row is None:
                    bad = f"refund {eid} of sale {w.meta['sale_id']} answered {a['status']} is missing"
                elif row[1] != w.meta["sale_id"] or row[2] != w.body["amount_minor"]:
                    bad = f"refund {eid} differs from what was answered: {row}"
            elif w.op in ("amend", "sign", "edit"):
                row = agreements.get(eid)
                if row is None:
                    bad = f"agreement {eid} answered {a['status']} is missing"
                elif row[1] < b["version"]:
                    bad = f"agreement {eid} is at version {row[1]}, an answer showed version {b['version']}"
                elif w.op == "sign" and (w.meta["agreement_id"], w.meta["party_id"], w.meta["content_hash"]) not in sigs:
                    bad = f"signature of party {w.meta['party_id']} on {eid} (hash {w.meta['content_hash'][:12]}…) is missing"
            elif w.op == "session":
                if eid not in sessions:
                    bad = f"session {eid} answered {a['status']} is missing"
            elif w.op == "confirm":
                if sessions.get(eid) != "confirmed":
                    bad = f"session {eid} confirmed ({a['status']}) is {sessions.get(eid)}"
            elif w.op == "register":
                row = regs.get(eid)
                if row is None:
                    bad = f"registration {eid} answered {a['status']} is missing"
                elif b["status"] == "registered" and row[1] == "waitlisted":
                    bad = f"registration {eid} was answered registered and is now waitlisted"
                elif row[2] < b["version"]:
                    bad = f"registration {eid} at version {row[2]} < answered {b['version']}"
            elif w.op == "cancel":
                row = regs.get(eid)
                if row is None or row[1] != "cancelled":
                    bad = f"registration {eid} cancelled ({a['status']}) is {row[1] if row else 'missing'}"
            elif w.op == "workshop":
                if eid not in workshops:
                    bad = f"workshop {eid} answered {a['status']} is missing"
            if bad:
                self.violation("acknowledged-write-present", bad, writes=[w], ids=[eid])
        self.stats.c["acked_verified_last"] = n

    def check_idempotency(self):
        for ref, count, lo, hi in self.db.rows(
                "SELECT external_ref, COUNT(*), MIN(id), MAX(id) FROM sales "
                "WHERE external_ref IS NOT NULL GROUP BY external_ref HAVING COUNT(*) > 1"):
            ids = [r[0] for r in self.db.rows(f"SELECT id FROM sales WHERE external_ref = '{ref}' ORDER BY id")]
            self.violation("one-sale-per-idempotency-key",
                           f"Idempotency-Key {ref} produced {count} sales: {', '.join(ids)}",
                           writes=[w for w in self.writes if w.key == ref], ids=ids,
                           rows=self.db.rows(
                               f"SELECT id, amount_minor, occurred_at, created_at, recorded_by FROM sales "
                               f"WHERE external_ref = '{ref}' ORDER BY id"))
        for reason, count in self.db.rows(
                "SELECT reason, COUNT(*) FROM refunds GROUP BY reason HAVING COUNT(*) > 1"):
            key = reason.replace("crash refund ", "")
            rows = self.db.rows(
                f"SELECT id, sale_id, amount_minor, created_at FROM refunds WHERE reason = '{reason}' ORDER BY id")
            self.violation("one-refund-per-idempotency-key",
                           f"Idempotency-Key {key} produced {count} refunds: {', '.join(r[0] for r in rows)}",
                           writes=[w for w in self.writes if w.key == key], ids=[r[0] for r in rows], rows=rows)

    def check_sale_lines(self):
        for sid, amount, total, lines in self.db.rows(
                "SELECT s.id, s.amount_minor, COALESCE(SUM(l.amount_minor), 0), COUNT(l.id) "
                "FROM sales s LEFT JOIN allocation_lines l ON l.sale_id = s.id AND l.refund_id IS NULL "
                "GROUP BY s.id, s.amount_minor HAVING COALESCE(SUM(l.amount_minor), 0) <> s.amount_minor"):
            self.violation("sale-lines-sum", f"sale {sid}: {lines} lines sum to {total}, amount {amount}", ids=[sid])

    def check_refund_lines(self):
        for rid, sid, amount, total in self.db.rows(
                "SELECT r.id, r.sale_id, r.amount_minor, COALESCE(SUM(l.amount_minor), 0) "
                "FROM refunds r LEFT JOIN allocation_lines l ON l.refund_id = r.id "
                "GROUP BY r.id, r.sale_id, r.amount_minor "
                "HAVING COALESCE(SUM(l.amount_minor), 0) <> -r.amount_minor"):
            self.violation("refund-lines-sum", f"refund {rid} of sale {sid}: lines sum to {total}, refund {amount}",
                           ids=[rid, sid])

    def check_orphan_lines(self):
        for lid, sid, rid in self.db.rows(
                "SELECT l.id, l.sale_id, l.refund_id FROM allocation_lines l "
                "LEFT JOIN sales s ON s.id = l.sale_id LEFT JOIN refunds r ON r.id = l.refund_id "
                "WHERE s.id IS NULL OR (l.refund_id IS NOT NULL AND (r.id IS NULL OR r.sale_id <> l.sale_id))"):
            self.violation("no-orphan-lines", f"allocation line {lid} names sale {sid} / refund {rid} that is not there",
                           ids=[lid, sid, rid])

    def check_refunded_totals(self):
        for sid, amount, refunded, total in self.db.rows(
                "SELECT s.id, s.amount_minor, s.refunded_minor, COALESCE(t.total, 0) FROM sales s "
                "LEFT JOIN (SELECT sale_id, SUM(amount_minor) AS total FROM refunds GROUP BY sale_id) t "
                "ON t.sale_id = s.id WHERE s.refunded_minor <> COALESCE(t.total, 0) "
                "OR COALESCE(t.total, 0) > s.amount_minor"):
            self.violation("refunded-minor", f"sale {sid}: refunded_minor {refunded}, refunds sum {total}, amount {amount}",
                           ids=[sid])

    def check_recipient_holdings(self):
        for sid, idx, total in self.db.rows(
                "SELECT sale_id, share_index, SUM(amount_minor) FROM allocation_lines "
                "GROUP BY sale_id, share_index HAVING SUM(amount_minor) < 0"):
            self.violation("refund-within-holding", f"sale {sid}: share {idx} gave back more than it got ({total})",
                           ids=[sid])

    def check_allocation_totals(self):
        kept = {(a, i): h for a, i, h in self.db.rows(
            "SELECT agreement_id, share_index, held_minor FROM allocation_totals")}
        lines = {(a, i): t for a, i, t in self.db.rows(
            "SELECT agreement_id, share_index, SUM(amount_minor) FROM allocation_lines "
            "WHERE refund_id IS NULL GROUP BY agreement_id, share_index")}
        for k in set(kept) | set(lines):
            if kept.get(k, 0) != lines.get(k, 0):
                self.violation("allocation-totals", f"agreement {k[0]} share {k[1]}: allocation_totals "
                               f"{kept.get(k, 0)}, sale lines {lines.get(k, 0)}", ids=[k[0]])

    def check_impact_months(self):
        kept = {(m, p, c, party): v for m, p, c, party, v in self.db.rows(
            "SELECT month, partnership_id, currency, party_id, amount_minor FROM impact_sale_months")}
        lines = {(m, p, c, party): v for m, p, c, party, v in self.db.rows(
            "SELECT substr(CAST(s.occurred_at AS TEXT), 1, 7), s.partnership_id, s.currency, "
            "COALESCE(l.party_id, ''), SUM(l.amount_minor) FROM sales s "
            "JOIN allocation_lines l ON l.sale_id = s.id "
            "GROUP BY substr(CAST(s.occurred_at AS TEXT), 1, 7), s.partnership_id, s.currency, "
            "COALESCE(l.party_id, '')")}
        for k in set(kept) | set(lines):
            if kept.get(k, 0) != lines.get(k, 0):
                self.violation("impact-sale-months", f"{k}: monthly total {kept.get(k, 0)}, lines {lines.get(k, 0)}")

    def check_ledger_sessions(self):
        rows = self.db.rows(
            "SELECT es.id, es.exchange_id, es.status, es.minutes, es.taught_by, es.learner_id, "
            "COUNT(t.id), COALESCE(SUM(t.minutes), 0), "
            "COALESCE(SUM(CASE WHEN t.artisan_id = es.taught_by THEN t.minutes ELSE 0 END), 0), "
            "COALESCE(SUM(CASE WHEN t.artisan_id = es.learner_id THEN t.minutes ELSE 0 END), 0) "
            "FROM exchange_sessions es LEFT JOIN time_ledger t ON t.session_id = es.id "
            "GROUP BY es.id, es.exchange_id, es.status, es.minutes, es.taught_by, es.learner_id")
        for sid, eid, status, minutes, teacher, learner, n, total, plus, minus in rows:
            if status == "confirmed":
                if n != 2 or total != 0 or plus != minutes or minus != -minutes:
                    self.violation("ledger-double-entry",
                                   f"confirmed session {sid} ({minutes} min): {n} entries, teacher {plus}, "
                                   f"learner {minus}, sum {total}", ids=[sid, eid])
            elif n != 0:
                self.violation("ledger-double-entry", f"{status} session {sid} has {n} ledger entries", ids=[sid])
        for eid, total in self.db.rows(
                "SELECT es.exchange_id, SUM(t.minutes) FROM time_ledger t "
                "JOIN exchange_sessions es ON es.id = t.session_id GROUP BY es.exchange_id "
                "HAVING SUM(t.minutes) <> 0"):
            self.violation("ledger-zero-per-exchange", f"exchange {eid}: ledger sums to {total} minutes", ids=[eid])

    def check_ledger_totals(self):
        total, n = self.db.one("SELECT COALESCE(SUM(minutes), 0), COUNT(*) FROM time_ledger")
        if total != 0:
            self.violation("ledger-zero-overall", f"time ledger: {n} entries sum to {total} minutes")
        for key, total in self.db.rows(
                "SELECT COALESCE(session_id, registration_id), SUM(minutes) FROM time_ledger "
                "GROUP BY COALESCE(session_id, registration_id) HAVING SUM(minutes) <> 0"):
            self.violation("ledger-zero-per-transfer", f"transfer {key}: sums to {total}", ids=[key])

    def check_ledger_api(self):
        bal = {}
        for n in ("X", "Y"):
            u = self.users[n]
            r = self.call(u, "GET", "/v1/me/time-ledger?limit=1")
            if r.status != 200:
                self.violation("ledger-api", f"GET /v1/me/time-ledger as {n}: {r.status}")
                return
            bal[n] = r.body["balance_hours"]
            (db_min,) = self.db.one(f"SELECT COALESCE(SUM(minutes), 0) FROM time_ledger WHERE artisan_id = '{u.id}'")
            if abs(bal[n] * 60 - db_min) > 1e-9:
                self.violation("ledger-api", f"{n}: API balance {bal[n]} h, database {db_min} min")
        if abs(bal["X"] + bal["Y"]) > 1e-9:
            self.violation("ledger-api", f"balances of the two sides do not cancel: {bal}")

    def check_agreements_in_force(self):
        rows = self.db.rows(
            "SELECT id, partnership_id, kind, status, effective_from, effective_until, superseded_from "
            "FROM agreements WHERE activated_at IS NOT NULL AND kind <> 'termination'")
        windows = {}
        for aid, pid, kind, status, frm, until, sup in rows:
            start = as_date(frm)
            ends = [d for d in (as_date(until), as_date(sup) - dt.timedelta(days=1) if sup else None) if d]
            end = min(ends) if ends else dt.date.max
            if end >= start:
                windows.setdefault(pid, []).append((start, end, aid, status))
        for pid, ws in windows.items():
            ws.sort()
            for (s0, e0, a0, st0), (s1, e1, a1, st1) in zip(ws, ws[1:]):
                if s1 <= e0:
                    self.violation("one-agreement-in-force",
                                   f"partnership {pid}: {a0} ({st0}, {s0}..{e0}) and {a1} ({st1}, {s1}..{e1}) "
                                   f"are both in force on {s1}", ids=[a0, a1])

    def check_agreement_activation(self):
        ags = {r[0]: r for r in self.db.rows(
            "SELECT id, partnership_id, status, revision, content_hash, activated_at, superseded_by, "
            "superseded_from, supersedes FROM agreements")}
        sigs = {}
        for aid, rev, party, h in self.db.rows(
                "SELECT agreement_id, revision, party_id, content_hash FROM agreement_signatures"):
            sigs.setdefault((aid, rev), set()).add((party, h))
        accepted = {}
        for pid, party in self.db.rows("SELECT partnership_id, id FROM partnership_parties WHERE status = 'accepted'"):
            accepted.setdefault(pid, set()).add(party)
        for aid, pid, status, rev, h, activated, sup_by, sup_from, supersedes in ags.values():
            live = status in ("active", "superseded", "terminated")
            if live != (activated is not None):
                self.violation("agreement-activation", f"agreement {aid} is {status} with activated_at {activated}",
                               ids=[aid])
                continue
            if live:
                signed = {p for p, sh in sigs.get((aid, rev), set()) if sh == h}
                missing = accepted.get(pid, set()) - signed
                if missing:
                    self.violation("agreement-activation",
                                   f"agreement {aid} is {status} without the signatures of {sorted(missing)} "
                                   f"on revision {rev}", ids=[aid])
            if status in ("superseded", "terminated"):
                nxt = ags.get(sup_by)
                if nxt is None or sup_from is None or nxt[2] not in ("active", "superseded", "terminated") \
                        or nxt[8] != aid:
                    self.violation("agreement-activation",
                                   f"agreement {aid} is {status} by {sup_by} from {sup_from}, which is "
                                   f"{nxt[2] if nxt else 'missing'}", ids=[aid, sup_by])
            if status == "active" and sup_by is not None:
                self.violation("agreement-activation", f"active agreement {aid} names a successor {sup_by}",
                               ids=[aid, sup_by])
        for aid, pid, status, rev, h, activated, sup_by, sup_from, supersedes in ags.values():
            if supersedes and status in ("active", "superseded", "terminated"):
                prev = ags.get(supersedes)
                if prev is None or prev[2] == "active" or prev[6] != aid:
                    self.violation("agreement-activation",
                                   f"agreement {aid} ({status}) amends {supersedes}, which is "
                                   f"{prev[2] if prev else 'missing'} (superseded_by {prev[6] if prev else None})",
                                   ids=[aid, supersedes])

    def check_workshops(self):
        for wid, cap, reg, wait in self.db.rows(
                "SELECT w.id, w.capacity, "
                "COALESCE(SUM(CASE WHEN r.status = 'registered' THEN 1 ELSE 0 END), 0), "
                "COALESCE(SUM(CASE WHEN r.status = 'waitlisted' THEN 1 ELSE 0 END), 0) "
                "FROM workshops w LEFT JOIN workshop_registrations r ON r.workshop_id = w.id "
                "GROUP BY w.id, w.capacity"):
            if reg > cap:
                self.violation("workshop-capacity", f"workshop {wid}: {reg} registered, capacity {cap}", ids=[wid],
                               rows=self.db.rows(f"SELECT id, artisan_id, status, created_at, updated_at, version "
                                                 f"FROM workshop_registrations WHERE workshop_id = '{wid}' ORDER BY id"))
            elif wait > 0 and reg < cap:
                self.violation("workshop-waitlist", f"workshop {wid}: {wait} waiting while {cap - reg} seat(s) are free",
                               ids=[wid])

    def check_workshop_api(self):
        wid = self.workshop_id
        r = self.call(self.users["H"], "GET", f"/v1/workshops/{wid}")
        if r.status != 200:
            self.violation("workshop-api", f"GET /v1/workshops/{wid}: {r.status}")
            return
        (reg,) = self.db.one(f"SELECT COUNT(*) FROM workshop_registrations WHERE workshop_id = '{wid}' "
                             f"AND status = 'registered'")
        if r.body["seats_taken"] != reg or r.body["seats_taken"] > r.body["capacity"]:
            self.violation("workshop-api", f"workshop {wid}: API seats_taken {r.body['seats_taken']}, "
                           f"capacity {r.body['capacity']}, database {reg} registered", ids=[wid])

    def check_sales_api(self):
        with self.world_lock:
            sample = random.Random(self.cycle).sample(self.sales, min(5, len(self.sales)))
        for s in sample:
            r = self.call(self.users["A"], "GET", f"/v1/sales/{s['id']}")
            if r.status != 200:
                self.violation("sales-api", f"GET /v1/sales/{s['id']}: {r.status}", ids=[s["id"]])
                continue
            b = r.body
            if sum(l["amount_minor"] for l in b["lines"]) != b["amount_minor"] - b["refunded_minor"]:
                self.violation("sales-api", f"sale {s['id']}: lines do not sum to amount - refunded", ids=[s["id"]])

    # ----------------------------------------------------------- evidence
    def evidence(self) -> str:
        path = os.path.join(self.workdir, "evidence.json")
        logs = self.server.log_text().splitlines() if self.server else []
        for v in self.violations:
            needles = set(v["ids"])
            for w in v["writes"]:
                for a in w["attempts"]:
                    needles.add(a["request_id"])
            v["server_log"] = [ln for ln in logs if any(n and n in ln for n in needles)][:80]
            v["server_warnings"] = [ln for ln in logs if " WARN " in ln or " ERROR " in ln][:80]
        data = {
            "args": vars(self.args), "run_id": self.run_id, "kills": self.kill_log,
            "violations": self.violations, "observations": self.observations,
            "server_log": self.server.log_path if self.server else None,
        }
        with open(path, "w") as f:
            json.dump(data, f, indent=2, default=str)
        if self.pg_db_name and shutil.which("pg_dump"):
            subprocess.run(["pg_dump", "-d", self.args.pg_url + self.pg_db_name, "-f",
                            os.path.join(self.workdir, "database.sql")], capture_output=True, timeout=300)
        return path

    def cleanup(self, keep: bool):
        if self.server:
            self.server.stop()
        if self.pg_db_name:
            try:
                psql_admin(self.args.pg_url, f"DROP DATABASE IF EXISTS {self.pg_db_name} WITH (FORCE)")
            except Exception as e:  # noqa: BLE001
                log(f"could not drop database {self.pg_db_name}: {e}")
        if not keep:
            shutil.rmtree(self.workdir, ignore_errors=True)


def during(w: Write, created) -> bool:
    """Whether a row's created_at (UTC, as the database stores it) falls in
    the first attempt of `w` (a second of slack either side)."""
    if created is None:
        return False
    t = dt.datetime.fromisoformat(str(created).replace(" ", "T")[:26]).replace(tzinfo=dt.timezone.utc)
    a = w.first()
    lo = dt.datetime.fromisoformat(a["t_sent"]) - dt.timedelta(seconds=1)
    hi = dt.datetime.fromisoformat(a["t_done"]) + dt.timedelta(seconds=1)
    return lo <= t <= hi


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--binary", default="target/release/artisan-commons")
    ap.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--cycles", type=int, default=3)
    ap.add_argument("--seed", type=int, default=None,
                    help="seeds the workload and kill times (thread interleaving is still the OS's)")
    ap.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432/",
                    help="PostgreSQL server URL ending in '/'; a database crash_<pid>_… is created and dropped")
    ap.add_argument("--retry-fraction", type=float, default=0.7,
                    help="share of unanswered writes the clients retry after a restart")
    ap.add_argument("--replays", type=int, default=6, help="answered writes replayed per cycle")
    ap.add_argument("--pace-ms", type=float, default=8.0,
                    help="each client sleeps up to this long between writes (keeps CPU use modest)")
    ap.add_argument("--request-timeout", type=float, default=30.0)
    ap.add_argument("--keep", action="store_true", help="keep the work directory (log, SQLite file)")
    args = ap.parse_args(argv)
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(1 << 30)
    if not args.pg_url.endswith("/"):
        args.pg_url += "/"

    h = Harness(args)
    t0 = time.monotonic()
    status = 0

    def on_signal(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    failure = None
    try:
        h.start()
        h.setup_world()
        h.check_all("setup")
        for c in range(1, args.cycles + 1):
            res = h.run_cycle(c)
            if "restart_error" in res:
                failure = f"cycle {c}: server failed to restart: {res['restart_error']}"
                log(failure)
                break
            k = res["kill"]
            log(f"cycle {c}/{args.cycles}: SIGKILL after {k['delay_ms']} ms, restarted in {k['restart_s']:.2f} s; "
                f"writes {res['answered']} answered ({res['ok']} 2xx), {res['unanswered']} unanswered "
                f"({res['committed']} had committed, {res['committed_in_flight']} of them with the key left in flight), "
                f"{res['refused']} refused; "
                f"{res['retried']} retried; {res['checks']} checks ({res['verified']} acknowledged writes verified), "
                f"{res['violations']} violations; "
                f"{res['seconds']:.1f} s")
    except KeyboardInterrupt:
        failure = "interrupted"
        log("interrupted")
    except Exception as e:  # noqa: BLE001
        failure = f"{type(e).__name__}: {e}"
        log("error: " + failure)
        traceback.print_exc()
    finally:
        keep = args.keep or bool(h.violations) or failure is not None
        ev = None
        if h.violations or failure:
            try:
                ev = h.evidence()
            except Exception as e:  # noqa: BLE001
                log(f"could not write evidence: {e}")
        final_log = h.server.log_text().splitlines() if h.server else []
        h.cleanup(keep)

    s = h.stats
    elapsed = time.monotonic() - t0
    unanswered = s.get("write_reset") + s.get("write_timeout")
    log("")
    log(f"summary ({args.database}, seed {args.seed}): cycles {len(h.kill_log)}/{args.cycles}, "
        f"writes acknowledged {s.get('write_2xx')} (answered {s.get('write_answered')}), "
        f"writes unanswered {unanswered} (+{s.get('write_refused')} refused before reaching the server; "
        f"committed before the kill: {s.get('committed_key_done')} with the answer stored, "
        f"{s.get('committed_key_in_flight')} with the key left in flight, "
        f"{s.get('committed_key_none')} without a key), "
        f"retries {s.get('retries')} (replayed {s.get('retry_replayed')}, ran {s.get('retry_ran')}, "
        f"refused {s.get('retry_refused')}), "
        f"answered writes replayed {s.get('replays_ok')}/{s.get('replays')}, "
        f"acknowledged writes verified {s.get('acked_verified_last')}, "
        f"checks run {h.checks_run}, violations {len(h.violations)}, "
        f"{elapsed:.0f} s")
    if h.server:
        lines = final_log
        warn = [ln for ln in lines if " WARN " in ln or " ERROR " in ln]
        log(f"server log: {len(lines)} lines, {len(warn)} WARN/ERROR" +
            "".join(f"\n  {ln[:300]}" for ln in warn[:10]))
    for o in h.observations[:20]:
        log(f"  note: {o}")
    if len(h.observations) > 20:
        log(f"  note: … {len(h.observations) - 20} more")
    if s.get("worker_errors"):
        log(f"  harness worker errors: {s.get('worker_errors')}")
        status = 1
    if h.violations:
        log(f"VIOLATIONS: {len(h.violations)}; evidence in {ev}, server log {h.server.log_path if h.server else '-'}")
        status = 1
    if failure:
        log(f"FAILED: {failure}" + (f"; evidence in {ev}" if ev else ""))
        status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
