#!/usr/bin/env python3
"""Rerunnable benchmark of the artisan endpoints (see BENCHMARKS.md).

    python3 bench/run.py sqlite|postgres [--artisans 100000] [--duration 20]

Builds the release binary, seeds N demo artisans into a fresh database
(SQLite in a temporary directory, or the PostgreSQL database
`artisan_commons_bench` at 127.0.0.1:5432, recreated), starts the server
with rate limits off, and measures with wrk:

  * GET /v1/artisans/{id} (random ids) at 32 connections
  * GET /v1/artisans?craft=weaving at 32 connections
  * GET /v1/artisans?limit=20 at page 1 and at a cursor 90 000 rows deep
  * the server's peak RSS
  * on PostgreSQL, `pgbench -S` at 32 clients on the same server (ceiling)

Needs wrk (Debian package `wrk`) and, for PostgreSQL, psql and pgbench.
Prints a summary; numbers go into BENCHMARKS.md by hand.
"""

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "artisan-commons")
PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"
PG_BENCH = "postgres://postgres@127.0.0.1:5432/artisan_commons_bench"
PORT = 18181
BASE = f"http://127.0.0.1:{PORT}"


def sh(*args, **kw):
    return subprocess.run(args, check=True, text=True, capture_output=True, **kw).stdout


def call(method, path, body=None, token=None):
    req = urllib.request.Request(BASE + path, method=method)
    if body is not None:
        req.add_header("Content-Type", "application/json")
        req.data = json.dumps(body).encode()
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req) as res:
        return json.load(res)


def wrk(path_or_script, connections, duration, env, label):
    args = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", "-s", path_or_script, BASE]
    out = subprocess.run(args, check=True, text=True, capture_output=True, env={**os.environ, **env}).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+\w+)", out, re.M))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    result = {"label": label, "rps": rps, "p50": lat.get("50"), "p99": lat.get("99"),
              "errors": int(non2xx.group(1)) if non2xx else 0}
    print(f"  {label}: {rps:.0f} req/s, p50 {result['p50']}, p99 {result['p99']}, non-2xx {result['errors']}")
    return result


def peak_rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("backend", choices=["sqlite", "postgres"])
    ap.add_argument("--artisans", type=int, default=100_000)
    ap.add_argument("--duration", type=int, default=20)
    ap.add_argument("--reuse", action="store_true",
                    help="PostgreSQL only: keep the already seeded benchmark database")
    opts = ap.parse_args()

    subprocess.run(["cargo", "build", "--release", "--locked", "--bin", "artisan-commons"], cwd=ROOT, check=True)
    work = tempfile.mkdtemp(prefix="ac-bench-")
    env = {"DATA_DIR": os.path.join(work, "data"), "BIND_ADDR": f"127.0.0.1:{PORT}",
           "RATE_LIMIT_PER_MINUTE": "0", "RATE_LIMIT_AUTH_PER_MINUTE": "0", "RUST_LOG": "warn"}
    reuse = opts.reuse and opts.backend == "postgres"
    if opts.backend == "postgres":
        if not reuse:
            sh("psql", PG_ADMIN, "-qc", "DROP DATABASE IF EXISTS artisan_commons_bench WITH (FORCE)")
            sh("psql", PG_ADMIN, "-qc", "CREATE DATABASE artisan_commons_bench")
        env["DATABASE_URL"] = PG_BENCH
    env = {**os.environ, **env}

    if not reuse:
        t0 = time.time()
        subprocess.run([BIN, "seed-demo", "--artisans", str(opts.artisans)], env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        print(f"seeded {opts.artisans} artisans in {time.time() - t0:.0f} s")

    server = subprocess.Popen([BIN, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(BASE + "/readyz")
                break
            except OSError:
                time.sleep(0.1)
        token = call("POST", "/v1/auth/login", {"email": "demo-1@example.org", "password": "demo-password-2026"})["access_token"]

        # Walk 90 000 rows deep with the API itself (and collect ids).
        ids, cursor, walked = [], None, 0
        while walked < 90_000:
            page = call("GET", "/v1/artisans?limit=100" + (f"&cursor={cursor}" if cursor else ""), token=token)
            walked += len(page["data"])
            if len(ids) < 5000:
                ids.extend(a["id"] for a in page["data"])
            cursor = page["next_cursor"]
            if cursor is None:
                break
        random.shuffle(ids)
        ids_file = os.path.join(work, "ids.txt")
        with open(ids_file, "w") as f:
            f.write("\n".join(ids[:2000]) + "\n")

        here = os.path.dirname(os.path.abspath(__file__))
        d = opts.duration
        results = [
            wrk(os.path.join(here, "get_random.lua"), 32, d, {"TOKEN": token, "IDS_FILE": ids_file}, "GET /v1/artisans/{id}, 32 conns"),
            wrk(os.path.join(here, "get_path.lua"), 32, d, {"TOKEN": token, "BENCH_PATH": "/v1/artisans?craft=weaving"}, "GET /v1/artisans?craft=weaving, 32 conns"),
            wrk(os.path.join(here, "get_path.lua"), 8, d, {"TOKEN": token, "BENCH_PATH": "/v1/artisans?limit=20"}, "list page 1, 8 conns"),
            wrk(os.path.join(here, "get_path.lua"), 8, d, {"TOKEN": token, "BENCH_PATH": f"/v1/artisans?limit=20&cursor={cursor}"}, f"list at {walked} rows deep, 8 conns"),
        ]
        print(f"  server peak RSS: {peak_rss_mb(server.pid):.0f} MB")
    finally:
        server.terminate()
        server.wait()

    if opts.backend == "postgres":
        sh("psql", PG_ADMIN, "-qc", "DROP DATABASE IF EXISTS ac_pgbench WITH (FORCE)")
        sh("psql", PG_ADMIN, "-qc", "CREATE DATABASE ac_pgbench")
        sh("pgbench", "-i", "-q", "-s", "10", "-h", "127.0.0.1", "-U", "postgres", "ac_pgbench")
        out = sh("pgbench", "-S", "-c", "32", "-j", "2", "-T", str(d), "-h", "127.0.0.1", "-U", "postgres", "ac_pgbench")
        tps = float(re.search(r"tps = ([\d.]+)", out).group(1))
        print(f"  pgbench -S, 32 clients: {tps:.0f} tps; GET-by-id ratio {results[0]['rps'] / tps:.2f}")
        sh("psql", PG_ADMIN, "-qc", "DROP DATABASE IF EXISTS ac_pgbench WITH (FORCE)")
    print(f"machine: {os.cpu_count()} cores; {sh('uname', '-sr').strip()}")


if __name__ == "__main__":
    sys.exit(main())
