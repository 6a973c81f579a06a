#!/usr/bin/env python3
"""Rerunnable benchmark (see BENCHMARKS.md).

    python3 bench/run.py sqlite|postgres [--perf] [--shares 50,80]
        [--suite all|artisans|agreements|matching|revenue|sales|events|giving|impact|webhooks]
        [--artisans 100000] [--duration 20] [--agreements 12000] [--participants 500] [--webhook-events 2000]

Builds the release binary (or runs the one BENCH_BIN names), seeds N demo artisans into a fresh database
(SQLite in a temporary directory, or the PostgreSQL database
`artisan_commons_bench` at 127.0.0.1:5432, recreated), starts the server
with rate limits off, WEBHOOKS_POLL_MS=100 and
WEBHOOKS_ALLOW_PRIVATE_NETWORKS=true (in every run, for the webhooks suite),
and measures (with wrk unless oha is named):

  * GET /v1/artisans/{id} (2 000 random ids) with oha at 32 connections,
    after a 5 s warm-up: a closed loop (peak req/s), then open loops at 50 %
    and 80 % of that peak (or at the --shares given, in percent) with
    latencies corrected for coordinated omission (p50/p90/p99/p99.9
    each); for each run (--duration 10 or more), the CPU time per request
    of the server, PostgreSQL (on PostgreSQL), oha and the whole machine
    (from /proc, over each run less its first and last 3 s); for each open
    loop, how the slowest 1 % of its requests bunch in time (windows of
    200 ms) and, as root, what a real-time probe on each core saw of the
    machine meanwhile (how late it woke, how long a fixed piece of work
    took); with --perf, one more closed loop under perf and where the
    server's CPU time went in it (bench/perf_summary.py)
  * GET /v1/artisans?craft=weaving at 32 connections
  * GET /v1/artisans?limit=20 at page 1 and at a cursor 90 000 rows deep
    (or at the last page of a smaller database)
  * the server's peak RSS
  * on PostgreSQL, `pgbench -S` at 32 clients on the same server (ceiling),
    after the server has stopped, with its p50/p99/p99.9 from the
    transaction log and the CPU time per transaction as above; then at the
    same shares of its own peak (`-R`), latencies corrected the same way
    (each transaction timed from when it was due), their slowest 1 % and
    the probe as for the API's open loops

for skill matching (suite `matching`):

  * GET /v1/skill-matches (reciprocal) as 200 different artisans, 8 conns
  * on PostgreSQL, EXPLAIN ANALYZE of the candidate query for one of them

for revenue (suite `revenue`; suite `sales` stops after the first two):

  * POST /v1/partnerships/{id}/sales with a fresh Idempotency-Key each, 8 conns,
    after 3 s of sales (not a result) and, on PostgreSQL, ANALYZE
  * on PostgreSQL, pgbench running the same database work by hand
    (bench/sale.pgbench), 8 clients, its statements sent as text, then
    prepared
  * on PostgreSQL, payouts and a settlement over 1 000 000 sales, against
    the hand-written SUM ... GROUP BY in psql; the settlement also nets
    10 000 approved expenses, against the same figures written by hand

for market events (suite `events`, needs --artisans above 100 + --participants):

  * GET /v1/events/{id}/cost-shares for a fair that --participants
    artisans joined through the API, 8 conns

for collections and campaigns (suite `giving`, needs --artisans above 19):

  * GET /v1/collections/{id}/performance over 100 000 sales of its items
    and GET /v1/campaigns/{id} over 1 000 000 charity lines naming it
    (sales, lines and refunds written directly), 8 conns; next to the same
    figures in hand-written SQL (pgbench, 8 clients, on PostgreSQL; in
    process with python's sqlite3 on SQLite)

for impact figures (suite `impact`):

  * GET /v1/impact?from=2026-01&to=2026-12 with a partner organization's
    API key (made with the binary's create-organization and create-api-key)
    over 1 000 000 sales and 3 000 000 lines written directly (then the
    monthly sale totals rebuilt with migration 000023's statement), round-robin
    over 50 active partnerships of 100 demo artisans from demo-25 on (20 of
    them in PE with weaving as primary craft), 2026-01-02 to 2026-12-01:
    for everyone, for country=PE and for country=PE&craft=weaving, 8 conns
    each, plus one request (median of 5); with --suite all the revenue and
    giving suites' sales are in the figures too

for webhooks (suite `webhooks`, PostgreSQL only):

  * --webhook-events workshops created by 8 threads as fast as they go, each
    a workshop.created event delivered to a receiver in this script on
    127.0.0.1: events/s delivered, the delay from each 201 (the commit) to
    its receipt (p50, p99, max), duplicates and missing; with the one server
    process, then again with a second `serve` (port PORT+1) on the same
    database

and, for partnerships and agreements (suite `agreements`):

  * GET /v1/partnerships?limit=50 for an artisan in 50 partnerships, 16 conns
  * POST /v1/agreements/{id}/signatures at 16 connections, each request a
    fresh draft: first the first party's signature, then the second party's,
    which activates the agreement (one-day windows, so none overlap)

Needs wrk (Debian package `wrk`), oha (`cargo install oha --locked`) and,
for PostgreSQL, psql and pgbench; --perf needs perf (Debian `linux-perf`).
Prints a summary; numbers go into BENCHMARKS.md by hand.
"""

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# BENCH_BIN names a release binary built elsewhere (another commit, to
# compare two builds on one database); without it this checkout's is built.
BIN = os.environ.get("BENCH_BIN") or os.path.join(ROOT, "target", "release", "artisan-commons")
PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"
PG_BENCH = "postgres://postgres@127.0.0.1:5432/artisan_commons_bench"
PORT = 18181
BASE = f"http://127.0.0.1:{PORT}"


def sh(*args, **kw):
    return subprocess.run(args, check=True, text=True, capture_output=True, **kw).stdout


def call(method, path, body=None, token=None, headers=None):
    req = urllib.request.Request(BASE + path, method=method)
    for name, value in (headers or {}).items():
        req.add_header(name, value)
    if body is not None:
        req.add_header("Content-Type", "application/json")
        req.data = json.dumps(body).encode()
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req) as res:
        return json.load(res)


def wrk(path_or_script, connections, duration, env, label, timeout=None):
    """`timeout` (seconds) raises wrk's 2 s request timeout for slow requests
    (timed-out requests are left out of wrk's latencies)."""
    args = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", "-s", path_or_script, BASE]
    if timeout:
        args[1:1] = ["--timeout", f"{timeout}s"]
    out = subprocess.run(args, check=True, text=True, capture_output=True, env={**os.environ, **env}).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+\w+)", out, re.M))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    timeouts = re.search(r"Socket errors:.*timeout (\d+)", out)
    result = {"label": label, "rps": rps, "p50": lat.get("50"), "p99": lat.get("99"),
              "errors": int(non2xx.group(1)) if non2xx else 0, "timeouts": int(timeouts.group(1)) if timeouts else 0}
    print(f"  {label}: {rps:.0f} req/s, p50 {result['p50']}, p99 {result['p99']}, non-2xx {result['errors']}"
          + (f", TIMEOUTS {result['timeouts']}" if result["timeouts"] else ""))
    return result


def cpu_ticks(matches):
    """{(pid, start time): user + system ticks so far} of the processes for
    which `matches(pid, name)` holds (their threads included)."""
    ticks = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        if matches(int(pid), name):
            fields = stat[stat.rindex(")") + 2:].split()
            ticks[(pid, fields[19])] = int(fields[11]) + int(fields[12])
    return ticks


def busy_ticks():
    """The machine's busy time so far, all cores: user, nice, system, irq
    and softirq (idle, iowait and steal left out; guest time is inside
    user time already)."""
    with open("/proc/stat") as f:
        ticks = [int(n) for n in f.readline().split()[1:]]
    return ticks[0] + ticks[1] + ticks[2] + ticks[5] + ticks[6]


MIN_CPU_RUN = 10


def run_measuring_cpu(args, duration, processes):
    """Runs `args` (about `duration` s long, at least MIN_CPU_RUN) and reads
    the CPU time of `processes` ({label: matches}, see cpu_ticks) and of the
    whole machine over a window inside the run, from 3 s after its start to
    3 s before its end, so that the load is steady and processes starting
    and ending with the run are alive throughout. A process counts for the
    part of the window it was alive at the end of (one that exited inside
    the window is not counted). Returns its stdout, {label: seconds} with
    "the machine" added, and the window's length in seconds."""
    hz = os.sysconf("SC_CLK_TCK")
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        run = subprocess.Popen(args, stdout=out, stderr=err, text=True)
        try:
            time.sleep(3)
            before = {label: cpu_ticks(m) for label, m in processes.items()}
            busy, started = busy_ticks(), time.time()
            time.sleep(duration - 6)
            after = {label: cpu_ticks(m) for label, m in processes.items()}
            used = {label: sum(t - before[label].get(key, 0) for key, t in after[label].items()) / hz
                    for label in processes}
            used["the machine"] = (busy_ticks() - busy) / hz
            window = time.time() - started
            if run.poll() is not None:
                raise RuntimeError(f"{args[0]} ended inside the measuring window")
            run.wait()
        finally:
            if run.poll() is None:
                run.kill()
        out.seek(0)
        err.seek(0)
        if run.returncode != 0:
            raise subprocess.CalledProcessError(run.returncode, args, out.read(), err.read())
        return out.read(), used, window


def print_cpu_per(unit, used, count, window):
    """One line: each process's and the machine's CPU time per `unit`, and
    how busy the machine's cores were over the `window` (s)."""
    print(f"    CPU per {unit}: " + ", ".join(f"{label} {seconds / count * 1e6:.1f} µs"
                                           for label, seconds in used.items())
          + f"; cores busy {used['the machine'] / window / os.cpu_count():.0%}")


PERCENTILES = (("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("p99.9", 0.999))


# Runs on one core as a real-time (SCHED_FIFO) process, so that nothing of
# the benchmark delays it and only the machine itself can: every 5 ms it
# sleeps and notes how late it woke, and every 50 ms it times a fixed piece
# of work (how fast the core was then). Prints its worst lateness and its
# work's median and slowest times.
PROBE = """
import sys, time
end = time.time() + float(sys.argv[1])
late, work, n = [], [], 0
while time.time() < end:
    t = time.perf_counter(); time.sleep(0.005); late.append(time.perf_counter() - t - 0.005)
    n += 1
    if n % 10 == 0:
        t = time.perf_counter(); s = 0
        for i in range(3000): s += i
        work.append(time.perf_counter() - t)
work.sort()
print(max(late) * 1000, work[len(work) // 2] * 1000, work[-1] * 1000)
"""


def start_probes(duration):
    """One PROBE per core for `duration` s, or none where real-time
    scheduling is not allowed (not root, or no chrt)."""
    if os.geteuid() != 0 or not shutil.which("chrt"):
        return []
    return [subprocess.Popen(["taskset", "-c", str(core), "chrt", "-f", "50", sys.executable, "-c", PROBE,
                              str(duration)], stdout=subprocess.PIPE, text=True)
            for core in range(os.cpu_count())]


def print_probes(probes):
    """How the machine itself behaved under the run, from start_probes."""
    if not probes:
        return
    seen = [[float(v) for v in probe.communicate()[0].split()] for probe in probes]
    print("    the machine under it (a real-time probe on each core): woke at most "
          f"{max(late for late, _, _ in seen):.1f} ms late; a fixed piece of work took "
          + " / ".join(f"{median:.2f} ms (slowest {worst:.2f})" for _, median, worst in seen))


def tail_shape(starts, durations, p99, window=0.2):
    """Where the slowest 1 % of an open loop's requests fall in time: how
    many of the run's `window`-second windows they started in, and the
    longest run of consecutive such windows (a queue that built up and
    drained) and when each such run began (seconds into the run), as text."""
    slow_set = {int(start / window) for start, took in zip(starts, durations) if took >= p99}
    slow = sorted(slow_set)
    windows = int(max(starts) / window) + 1
    longest, current, previous = 0, 0, None
    for w in slow:
        current = current + 1 if previous is not None and w == previous + 1 else 1
        longest, previous = max(longest, current), w
    episodes = [w for w in slow if w - 1 not in slow_set]
    return (f"the slowest 1 % started in {len(slow)} of the run's {windows} windows of {window * 1000:.0f} ms, "
            f"at most {longest} in a row, from {', '.join(f'{w * window:.1f}' for w in episodes)} s")


def oha(target, connections, duration, headers, label, rate=None, cpu=None):
    """One oha run: closed loop at `connections`, or with `rate` (req/s) an
    open loop whose latencies are corrected for coordinated omission (each
    request timed from when it was due, not from when a connection was
    free). `target` is a URL or a file of URLs (one picked at random per
    request). Prints and returns req/s and p50/p90/p99/p99.9 in ms. With
    `cpu` ({label: matches}, see cpu_ticks) and a run of MIN_CPU_RUN s or
    more, also prints the CPU time of those processes, of oha and of the
    machine per request. An open loop's figures come from each request's
    record (oha's CSV), which also shows when its slowest requests came
    (tail_shape) while a probe watches the machine (start_probes)."""
    args = ["oha", "--no-tui", "--output-format", "csv" if rate else "json", "-z", f"{duration}s",
            "-c", str(connections)]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    if rate:
        args += ["-q", str(rate), "--latency-correction"]
    if os.path.isfile(target):
        args += ["--urls-from-file"]
    probes = start_probes(duration) if rate else []
    cpu = cpu if duration >= MIN_CPU_RUN else None
    if cpu:
        out, used, window = run_measuring_cpu(args + [target], duration,
                                              {**cpu, "oha": lambda pid, name: name == "oha"})
    else:
        out = subprocess.run(args + [target], check=True, text=True, capture_output=True).stdout
    shape = None
    if rate:
        # request-start (s), DNS, DNS+dialup, Response-delay,
        # request-duration (s, corrected), bytes, status; answered requests.
        records = [line.split(",") for line in out.splitlines()[1:]]
        starts = [float(r[0]) for r in records]
        took = sorted(float(r[4]) for r in records)
        at = lambda q: took[min(len(took) - 1, int(q * len(took)))] * 1000
        result = {"label": label, "rps": len(records) / max(starts), **{k: at(q) for k, q in PERCENTILES},
                  "errors": sum(1 for r in records if not r[6].startswith("2"))}
        shape = tail_shape(starts, [float(r[4]) * 1000 for r in records], result["p99"])
    else:
        report = json.loads(out)
        pct = report["latencyPercentiles"]
        codes = report.get("statusCodeDistribution", {})
        result = {"label": label, "rps": report["summary"]["requestsPerSec"],
                  **{k: pct[k] * 1000 for k, _ in PERCENTILES},
                  "errors": sum(n for code, n in codes.items() if not code.startswith("2"))}
    print(f"  {label}: {result['rps']:.0f} req/s, p50 {result['p50']:.2f} ms, p90 {result['p90']:.2f} ms, "
          f"p99 {result['p99']:.2f} ms, p99.9 {result['p99.9']:.2f} ms (p99/p50 {result['p99'] / result['p50']:.1f}), "
          f"non-2xx {result['errors']}")
    if cpu:
        print_cpu_per("request", used, result["rps"] * window, window)
    if shape:
        print(f"    {shape}")
    print_probes(probes)
    return result


POSTGRES = {"PostgreSQL (all its processes)": lambda pid, name: name == "postgres"}


def pgbench_select_only(d, work, shares):
    """`pgbench -S` at 32 clients on a scale-10 database of its own, with
    each transaction's latency logged: a closed loop (tps, p50/p99/p99.9
    in ms, CPU per transaction), then open loops at each of `shares` of
    that rate (`-R`), each transaction timed from when it was due (its logged
    time plus its schedule lag), as the API's open loops are. Returns the
    closed loop's tps."""
    sh("psql", PG_ADMIN, "-qc", "DROP DATABASE IF EXISTS ac_pgbench WITH (FORCE)")
    sh("psql", PG_ADMIN, "-qc", "CREATE DATABASE ac_pgbench")
    sh("pgbench", "-i", "-q", "-s", "10", "-h", "127.0.0.1", "-U", "postgres", "ac_pgbench")
    tps = None
    for share in (None, *shares):
        logs = os.path.join(work, "pgbench")
        shutil.rmtree(logs, ignore_errors=True)
        os.makedirs(logs)
        args = ["pgbench", "-S", "-c", "32", "-j", "2", "-T", str(d), "-l", "--log-prefix", os.path.join(logs, "tx"),
                "-h", "127.0.0.1", "-U", "postgres", "ac_pgbench"]
        if share:
            args[2:2] = ["-R", str(round(tps * share))]
        used = None
        probes = start_probes(d) if share else []
        if d >= MIN_CPU_RUN:
            out, used, window = run_measuring_cpu(args, d, {**POSTGRES, "pgbench": lambda pid, name: name == "pgbench"})
        else:
            out = sh(*args)
        # Log lines: client, transaction, time (µs), script, epoch s, µs,
        # and with -R the schedule lag (µs).
        fields = [line.split() for name in os.listdir(logs) for line in open(os.path.join(logs, name))]
        took = [(int(f[2]) + (int(f[6]) if share else 0)) / 1000 for f in fields]
        latencies = sorted(took)
        at = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]
        rate = float(re.search(r"tps = ([\d.]+)", out).group(1))
        label = f"at {share:.0%} of that rate, 32 clients (corrected)" if share else "32 clients"
        print(f"  pgbench -S, {label}: {rate:.0f} tps, p50 {at(0.5):.2f} ms, p90 {at(0.9):.2f} ms, "
              f"p99 {at(0.99):.2f} ms, p99.9 {at(0.999):.2f} ms (p99/p50 {at(0.99) / at(0.5):.1f})")
        if used:
            print_cpu_per("transaction", used, rate * window, window)
        if share:
            # When each transaction was due: its end (epoch s, µs) less its
            # corrected latency.
            due = [int(f[4]) + int(f[5]) / 1e6 - t / 1000 for f, t in zip(fields, took)]
            first = min(due)
            print(f"    {tail_shape([t - first for t in due], took, at(0.99))}")
        print_probes(probes)
        tps = tps or rate
    sh("psql", PG_ADMIN, "-qc", "DROP DATABASE IF EXISTS ac_pgbench WITH (FORCE)")
    return tps


def call_all(requests, workers=8):
    """Runs (method, path, body, token) calls on a few threads, in order."""
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(lambda r: call(*r), requests))


def artisans_suite(work, here, d, server_pid, profile, backend, shares):
    """The artisan reads: by id, filtered, page 1 and deep."""
    token = call("POST", "/v1/auth/login", {"email": "demo-1@example.org", "password": "demo-password-2026"})["access_token"]

    # Walk 90 000 rows deep with the API itself (and collect ids); on a
    # smaller database, to the start of the last page.
    ids, cursor, walked = [], None, 0
    while walked < 90_000:
        page = call("GET", "/v1/artisans?limit=100" + (f"&cursor={cursor}" if cursor else ""), token=token)
        if len(ids) < 5000:
            ids.extend(a["id"] for a in page["data"])
        if page["next_cursor"] is None:
            break
        walked += len(page["data"])
        cursor = page["next_cursor"]
    random.shuffle(ids)
    ids_file = os.path.join(work, "ids.txt")
    with open(ids_file, "w") as f:
        f.write("\n".join(ids[:2000]) + "\n")

    urls_file = os.path.join(work, "urls.txt")
    with open(urls_file, "w") as f:
        f.write("".join(f"{BASE}/v1/artisans/{i}\n" for i in ids[:2000]))
    bearer = {"Authorization": f"Bearer {token}"}
    oha(urls_file, 32, 5, bearer, "warm-up (not a result)")
    cpu = {"the server": lambda pid, name: pid == server_pid, **(POSTGRES if backend == "postgres" else {})}
    peak = oha(urls_file, 32, d, bearer, "GET /v1/artisans/{id}, 32 conns (closed loop)", cpu=cpu)
    for share in shares:
        oha(urls_file, 32, d, bearer, f"GET /v1/artisans/{{id}} at {share:.0%} of that rate, 32 conns (corrected)",
            rate=round(peak["rps"] * share), cpu=cpu)
    if profile:
        # One more closed loop, with perf sampling the server (which slows
        # it: not a result).
        recording = subprocess.Popen(["perf", "record", "-e", "cpu-clock", "-F", "999", "-g", "-p", str(server_pid),
                                      "-o", os.path.join(work, "perf.data"), "--", "sleep", str(max(1, d - 4))],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        oha(urls_file, 32, d, bearer, "the same closed loop under perf (not a result)")
        recording.wait()
        print(sh(sys.executable, os.path.join(here, "perf_summary.py"), os.path.join(work, "perf.data")), end="")
    results = [
        peak,
        wrk(os.path.join(here, "get_path.lua"), 32, d, {"TOKEN": token, "BENCH_PATH": "/v1/artisans?craft=weaving"}, "GET /v1/artisans?craft=weaving, 32 conns"),
        wrk(os.path.join(here, "get_path.lua"), 8, d, {"TOKEN": token, "BENCH_PATH": "/v1/artisans?limit=20"}, "list page 1, 8 conns"),
        wrk(os.path.join(here, "get_path.lua"), 8, d, {"TOKEN": token, "BENCH_PATH": f"/v1/artisans?limit=20&cursor={cursor}"}, f"list at {walked} rows deep, 8 conns"),
    ]
    return results


def agreements_suite(work, here, d, sign_d, count):
    """50 partnerships of demo-10 and demo-11, `count` one-day drafts spread
    over them; measures the partnership list and both signatures."""
    login = lambda n: call("POST", "/v1/auth/login", {"email": f"demo-{n}@example.org", "password": "demo-password-2026"})["access_token"]
    a, b = login(10), login(11)
    b_id = call("GET", "/v1/me", token=b)["id"]
    made = call_all([("POST", "/v1/partnerships", {"title": f"Bench {i}", "kind": "market_event",
                                                   "invitees": [{"artisan_id": b_id}]}, a) for i in range(50)])
    parties = []
    for p in made:
        mine, theirs = p["parties"][0]["id"], p["parties"][1]["id"]
        parties.append((p["id"], mine, theirs))
    call_all([("POST", f"/v1/partnerships/{pid}/invitations/{theirs}/accept", None, b) for pid, _, theirs in parties])
    import datetime
    start = datetime.date(2030, 1, 1)
    requests = []
    for i in range(count):
        pid, mine, theirs = parties[i % 50]
        day = (start + datetime.timedelta(days=i)).isoformat()
        requests.append(("POST", f"/v1/partnerships/{pid}/agreements", {
            "commitments": [{"party_id": mine, "description": "Bring the stall"}],
            "revenue_split": {"currency": "PEN", "shares": [
                {"recipient": {"party_id": mine}, "share_bps": 6000},
                {"recipient": {"party_id": theirs}, "share_bps": 3500},
                {"recipient": {"beneficiary": {"name": "Escuela Taller"}}, "share_bps": 500}]},
            "promotion_plan": {"summary": "Flyers", "channels": ["flyers"]},
            "effective_from": day, "effective_until": day}, a))
    t0 = time.time()
    drafts = call_all(requests)
    print(f"  drafted {count} agreements in {time.time() - t0:.0f} s")
    sign_file = os.path.join(work, "sign.txt")
    with open(sign_file, "w") as f:
        f.write("".join(f"{x['id']} {x['content_hash']}\n" for x in drafts))
    results = [
        wrk(os.path.join(here, "get_path.lua"), 16, d, {"TOKEN": a, "BENCH_PATH": "/v1/partnerships?limit=50"},
            "GET /v1/partnerships?limit=50 (artisan in 50), 16 conns"),
        wrk(os.path.join(here, "sign.lua"), 16, sign_d, {"TOKEN": a, "SIGN_FILE": sign_file, "THREADS": "2"},
            "sign (first party), 16 conns"),
        wrk(os.path.join(here, "sign.lua"), 16, sign_d, {"TOKEN": b, "SIGN_FILE": sign_file, "THREADS": "2"},
            "sign (last party, activates when the first signed), 16 conns"),
    ]
    active = 0
    for pid, _, _ in parties:
        cursor = None
        while True:
            page = call("GET", f"/v1/partnerships/{pid}/agreements?status=active&limit=100"
                        + (f"&cursor={cursor}" if cursor else ""), token=a)
            active += len(page["data"])
            cursor = page["next_cursor"]
            if cursor is None:
                break
    print(f"  agreements activated by the last-party run: {active}")
    if any(r["errors"] for r in results):
        print("  WARNING: non-2xx responses above; for signing they mean the drafts ran out (raise --agreements)")
    return results


def explain_matching(token):
    """What one reciprocal request reads on PostgreSQL, statement by
    statement, for the first signed-in artisan: the bitmaps of their skills
    and country, then the ids of the best tier (the tiers are counted from
    the bitmaps here the way domain::matching does it)."""
    me = call("GET", "/v1/me", token=token)
    profile = call("GET", f"/v1/artisans/{me['id']}", token=token)
    q = lambda xs: ", ".join("'" + x + "'" for x in xs)
    keys = (f"(kind = 'skill_offered' AND value IN ({q(profile['skills_wanted'])})) OR "
            f"(kind = 'skill_wanted' AND value IN ({q(profile['skills_offered'])})) OR "
            f"(kind = 'country' AND value = '{profile.get('country') or ''}')")
    rows = [line.split("|") for line in
            sh("psql", PG_BENCH, "-qAt", "-c", f"SELECT kind, encode(bits, 'hex') FROM skill_postings WHERE {keys}").split()]
    members = lambda hexbits: {i * 8 + b for i, byte in enumerate(bytes.fromhex(hexbits)) for b in range(8) if byte >> b & 1}
    teach, learn, compatriots = {}, {}, set()
    for kind, hexbits in rows:
        if kind == "country":
            compatriots = members(hexbits)
            continue
        counts = teach if kind == "skill_offered" else learn
        for o in members(hexbits):
            counts[o] = counts.get(o, 0) + 1
    mine = int(sh("psql", PG_BENCH, "-qAt", "-c", f"SELECT ordinal FROM artisan_ordinals WHERE artisan_id = '{me['id']}'"))
    tiers = {}
    for o in (teach.keys() & learn.keys()) - {mine}:
        tiers.setdefault((teach[o] + learn[o], o in compatriots), []).append(o)
    # The tiers page 1 (limit 20, 21 rows fetched) reaches, best first.
    reached, rows_before = [], 0
    for key in sorted(tiers, reverse=True):
        reached.append((key, len(tiers[key]), rows_before))
        rows_before += len(tiers[key])
        if rows_before >= 21:
            break
    print(f"  {len(rows)} bitmaps, {sum(len(h) // 2 for _, h in rows)} bytes; "
          f"{sum(map(len, tiers.values()))} reciprocal candidates in {len(tiers)} tiers; "
          f"page 1 reaches {', '.join(f'tier {k} ({n} artisans)' for k, n, _ in reached)}")
    last, _, before = reached[-1]
    for label, sql in [
        ("the bitmaps", f"SELECT bits FROM skill_postings WHERE {keys}"),
        (f"the ids of the last tier on page 1 {last}", "SELECT artisan_id FROM artisan_ordinals WHERE ordinal IN "
         f"({', '.join(map(str, sorted(tiers[last])))}) ORDER BY artisan_id LIMIT {21 - before}"),
    ]:
        print(f"  query plan, {label}:")
        plan = sh("psql", PG_BENCH, "-qAt", "-c", f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {sql}")
        print("    " + plan.replace("\n", "\n    "))


def matching_suite(work, here, d, artisans, backend):
    """Reciprocal matching as many different artisans (skills drawn from a
    300-skill vocabulary by the seed)."""
    picks = [25 + i * (artisans - 25) // 200 for i in range(200)]
    logins = [("POST", "/v1/auth/login", {"email": f"demo-{n}@example.org", "password": "demo-password-2026"}, None)
              for n in picks]
    tokens = [r["access_token"] for r in call_all(logins, workers=2)]
    tokens_file = os.path.join(work, "tokens.txt")
    with open(tokens_file, "w") as f:
        f.write("\n".join(tokens) + "\n")
    sizes = [len(call("GET", "/v1/skill-matches?limit=100", token=t)["data"]) for t in tokens[:20]]
    print(f"  reciprocal matches on the first page (limit 100) for 20 of them: {sizes}")
    results = [
        wrk(os.path.join(here, "matches.lua"), 8, d, {"TOKENS_FILE": tokens_file, "BENCH_PATH": "/v1/skill-matches"},
            "GET /v1/skill-matches (reciprocal), 200 artisans, 8 conns"),
        wrk(os.path.join(here, "matches.lua"), 8, d, {"TOKENS_FILE": tokens_file, "BENCH_PATH": "/v1/skill-matches?mode=learn"},
            "GET /v1/skill-matches?mode=learn, 200 artisans, 8 conns"),
    ]
    profile_edits(tokens[:100])
    if backend == "postgres":
        explain_matching(tokens[0])
    return results


def profile_edits(tokens):
    """What keeping the matching index costs a profile edit: sequential
    PATCHes that replace the offered skills (bitmaps move) against ones that
    change only the bio (no index work)."""
    sets = [[f"{s}-{f}" for s in skills for f in ("basics", "repair", "history")]
            for skills in (("weaving", "pottery", "carving"), ("pricing", "branding", "photography"))]
    # Nine skills, none of them held before (so every run moves bitmaps).
    fresh = lambda held: sets[1] if set(held) & set(sets[0]) else sets[0]
    for label, body in [
        ("bio only", lambda i, profile: {"bio": f"Edited {i} times."}),
        ("skills_offered replaced by 9 new ones", lambda i, profile: {"skills_offered": fresh(profile["skills_offered"])}),
    ]:
        times = []
        for i, token in enumerate(tokens):
            me = call("GET", "/v1/me", token=token)
            profile = call("GET", f"/v1/artisans/{me['id']}", token=token)
            t0 = time.perf_counter()
            call("PATCH", f"/v1/artisans/{me['id']}", body(i, profile), token=token,
                 headers={"If-Match": f'"{profile["version"]}"'})
            times.append((time.perf_counter() - t0) * 1000)
        times.sort()
        print(f"  PATCH /v1/artisans/{{id}} ({label}), {len(times)} sequential: "
              f"p50 {times[len(times) // 2]:.1f} ms, p99 {times[int(len(times) * 0.99) - 1]:.1f} ms")


def active_partnership(a, b, a_n, campaign=None):
    """A partnership of the two signed-in artisans with an active agreement
    from 2026-01-01 splitting 60/35/5 (the last to a charity, feeding
    `campaign` if given) in PEN."""
    b_id = call("GET", "/v1/me", token=b)["id"]
    p = call("POST", "/v1/partnerships", {"title": f"Revenue bench {a_n}", "kind": "market_event",
                                          "invitees": [{"artisan_id": b_id}]}, a)
    mine, theirs = p["parties"][0]["id"], p["parties"][1]["id"]
    call("POST", f"/v1/partnerships/{p['id']}/invitations/{theirs}/accept", None, b)
    draft = call("POST", f"/v1/partnerships/{p['id']}/agreements", {
        "revenue_split": {"currency": "PEN", "shares": [
            {"recipient": {"party_id": mine}, "share_bps": 6000},
            {"recipient": {"party_id": theirs}, "share_bps": 3500},
            {"recipient": {"beneficiary": {"name": "Escuela Taller", "campaign_id": campaign}}, "share_bps": 500}]},
        "effective_from": "2026-01-01"}, a)
    for who in (a, b):
        call("POST", f"/v1/agreements/{draft['id']}/signatures", {"content_hash": draft["content_hash"]}, who)
    return p["id"], draft["id"], mine, theirs


def psql_ms(sql, runs=5):
    """Median server-side time of `sql` over `runs` runs (psql \\timing)."""
    script = "\\timing on\n" + "\n".join([sql] * runs)
    out = subprocess.run(["psql", PG_BENCH, "-qAt"], input=script, text=True, capture_output=True, check=True).stdout
    times = sorted(float(t) for t in re.findall(r"Time: ([\d.]+) ms", out))
    return times[len(times) // 2]


def http_ms(path, token, runs=5, headers=None):
    times = []
    for _ in range(runs):
        t0 = time.time()
        call("GET", path, token=token, headers=headers)
        times.append((time.time() - t0) * 1000)
    return sorted(times)[len(times) // 2]


def bulk_sales_sql(backend, prefix, n, parts, uid, minutes=300_000):
    """`n` sales (amounts 1000-1996) with their three lines split 60/35/5 as
    active_partnership agrees (the last to Escuela Taller), round-robin over
    `parts` ((partnership, agreement, party 0, party 1) tuples), one a
    minute from 2026-01-02 for `minutes` minutes and around again. Sale ids
    are `prefix` and a number, line ids that and `-` share index."""
    if backend == "postgres":
        gen, src = "", f"generate_series(1, {n}) AS g(x)"
        at = f"timestamp '2026-01-02' + (x % {minutes}) * interval '1 minute'"
        created = "now()"
    else:
        gen = f"WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < {n}) "
        src = "g"
        at = f"strftime('%Y-%m-%d %H:%M:%S', '2026-01-02', '+' || (x % {minutes}) || ' minutes')"
        created = "'2026-11-26 00:00:00'"
    rows = " UNION ALL ".join(f"SELECT {k} AS k, '{pid}' AS pid, '{aid}' AS aid, '{q0}' AS q0, '{q1}' AS q1"
                              for k, (pid, aid, q0, q1) in enumerate(parts))
    # CROSS JOIN: SQLite keeps the generated series as the outer loop.
    each, pick = f"{src} CROSS JOIN ({rows}) p", f"p.k = x % {len(parts)}"
    return f"""{gen}INSERT INTO sales (id, partnership_id, agreement_id, content_hash, amount_minor, refunded_minor,
                   currency, occurred_at, description, channel, recorded_by, created_at)
SELECT '{prefix}' || x, p.pid, p.aid, 'hash', 1000 + x % 997, 0, 'PEN', {at}, 'bulk', 'online', '{uid}', {created}
FROM {each} WHERE {pick};
{gen}INSERT INTO allocation_lines (id, sale_id, agreement_id, content_hash, share_index, party_id, beneficiary_name,
                              amount_minor, currency, created_at)
SELECT '{prefix}' || x || '-' || v.i, '{prefix}' || x, p.aid, 'hash', v.i,
       CASE v.i WHEN 0 THEN p.q0 WHEN 1 THEN p.q1 END, CASE WHEN v.i = 2 THEN 'Escuela Taller' END,
       (1000 + x % 997) * v.bps / 10000, 'PEN', {created}
FROM {each} CROSS JOIN (SELECT 0 AS i, 6000 AS bps UNION ALL SELECT 1, 3500 UNION ALL SELECT 2, 500) v
WHERE {pick};"""


def run_bulk(backend, work, script, tables=("sales", "allocation_lines")):
    """Runs `script` in one transaction, then refreshes planner statistics
    (and, on PostgreSQL, the visibility map) of `tables`."""
    if backend == "postgres":
        sh("psql", PG_BENCH, "-qc", f"BEGIN;\n{script}\nCOMMIT;")
        for table in tables:
            sh("psql", PG_BENCH, "-qc", f"VACUUM ANALYZE {table}")
    else:
        db = os.path.join(work, "data", "artisan-commons.db")
        subprocess.run(["sqlite3", db], input=f"PRAGMA busy_timeout = 60000;\nBEGIN;\n{script}\nCOMMIT;\nANALYZE;",
                       text=True, check=True, capture_output=True)


def sqlite_million(work, login, uid, a):
    """SQLite: 1 000 000 sales written with sqlite3, payouts and a settlement
    over them, against the hand-written SUM ... GROUP BY in sqlite3."""
    c = login(14)
    pid, aid, q0, q1 = active_partnership(c, login(15), 14)
    db = os.path.join(work, "data", "artisan-commons.db")
    t0 = time.time()
    run_bulk("sqlite", work, bulk_sales_sql("sqlite", "bulk-", 1_000_000, [(pid, aid, q0, q1)], uid))
    print(f"  wrote 1 000 000 sales and 3 000 000 lines in {time.time() - t0:.0f} s")
    hand = f"""SELECT l.currency, l.party_id, l.beneficiary_name, SUM(l.amount_minor)
FROM allocation_lines l JOIN sales s ON s.id = l.sale_id
WHERE s.partnership_id = '{pid}' AND l.refund_id IS NULL
  AND s.occurred_at >= '2026-01-01' AND s.occurred_at < '2027-01-01'
GROUP BY l.currency, l.party_id, l.beneficiary_name;"""
    times = []
    for _ in range(5):
        t0 = time.time()
        subprocess.run(["sqlite3", db], input=hand, text=True, check=True, capture_output=True)
        times.append((time.time() - t0) * 1000)
    by_hand = sorted(times)[2]
    api = http_ms(f"/v1/partnerships/{pid}/payouts?from=2026-01-01&to=2026-12-31", c)
    print(f"  payouts over 1 000 000 sales: API {api:.0f} ms (median of 5), hand-written SUM ... GROUP BY "
          f"in sqlite3 {by_hand:.0f} ms (median of 5, including starting sqlite3); ratio {api / by_hand:.2f}")
    script = f"""PRAGMA busy_timeout = 60000;
WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < 10000)
INSERT INTO expenses (id, partnership_id, amount_minor, currency, description, category, incurred_on,
                      paid_by, status, decided_by, recorded_by, created_at, updated_at, version)
SELECT 'bulk-x-' || x, '{pid}', 500 + x % 4999, 'PEN', 'bulk', 'materials',
       date('2026-01-02', '+' || (x % 200) || ' days'), CASE WHEN x % 2 = 0 THEN '{q0}' ELSE '{q1}' END,
       'approved', '{uid}', '{uid}', '2026-11-26 00:00:00', '2026-11-26 00:00:00', 1 FROM g;
ANALYZE;"""
    subprocess.run(["sqlite3", db], input=script, text=True, check=True, capture_output=True)
    times = []
    for _ in range(5):
        t0 = time.time()
        subprocess.run(["sqlite3", db], input=netting_by_hand(pid, q0, q1, "date('now')"), text=True,
                       check=True, capture_output=True)
        times.append((time.time() - t0) * 1000)
    timed_settlement(pid, c, sorted(times)[2], "in sqlite3, including starting it")


EXPENSES_SPENT = sum(500 + g % 4999 for g in range(1, 10001))


def netting_by_hand(pid, q0, q1, today):
    """The settlement's figures in one statement: allocations per recipient,
    expenses per payer and each recipient's part of them (floor only)."""
    return f"""WITH alloc AS (
  SELECT l.party_id, l.beneficiary_name, SUM(l.amount_minor) AS allocated
  FROM allocation_lines l JOIN sales s ON s.id = l.sale_id
  WHERE s.partnership_id = '{pid}' AND l.refund_id IS NULL AND s.occurred_at < {today}
  GROUP BY l.party_id, l.beneficiary_name),
paid AS (
  SELECT paid_by, SUM(amount_minor) AS reimbursed FROM expenses
  WHERE partnership_id = '{pid}' AND status = 'approved' AND incurred_on < {today} GROUP BY paid_by),
total AS (
  SELECT SUM(amount_minor) AS spent FROM expenses
  WHERE partnership_id = '{pid}' AND status = 'approved' AND incurred_on < {today})
SELECT a.party_id, a.beneficiary_name, a.allocated,
       COALESCE(p.reimbursed, 0) - (SELECT spent FROM total) * v.bps / 10000
FROM alloc a LEFT JOIN paid p ON p.paid_by = a.party_id
JOIN (SELECT '{q0}' AS party, 6000 AS bps UNION ALL SELECT '{q1}', 3500) v ON v.party = a.party_id;"""


def timed_settlement(pid, token, by_hand, how):
    """Times one settlement up to today over the bulk sales and expenses and
    checks that it netted every expense."""
    t0 = time.time()
    settled = call("POST", f"/v1/partnerships/{pid}/settlements", {"period_end": time.strftime("%Y-%m-%d")}, token,
                   headers={"Idempotency-Key": f"bench-settle-{time.time()}"})
    took = (time.time() - t0) * 1000
    assert sum(l["reimbursed_minor"] for l in settled["lines"]) == EXPENSES_SPENT, "every expense was netted"
    assert sum(l["expenses_share_minor"] for l in settled["lines"]) == EXPENSES_SPENT
    print(f"  settlement over 1 000 000 sales netting 10 000 expenses: {took:.0f} ms (one run); "
          f"the same figures by hand {by_hand:.0f} ms (median of 5, {how}); ratio {took / by_hand:.2f}")


def revenue_suite(work, here, d, backend, sales_only=False):
    login = lambda n: call("POST", "/v1/auth/login", {"email": f"demo-{n}@example.org", "password": "demo-password-2026"})["access_token"]
    a, b = login(12), login(13)
    pid, aid, p0, p1 = active_partnership(a, b, 12)
    script = os.path.join(here, "sales.lua")
    env = {"TOKEN": a, "PARTNERSHIP": pid, "OCCURRED_AT": "2026-06-01T10:00:00Z"}
    # The tables a sale writes hold only the seed's few rows, analyzed after
    # seeding. After a foreign-key check's first few uses, a PostgreSQL
    # connection keeps a plan for it made by the tables' statistics then: on
    # a nearly empty `sales` one that scans it whole, which the server's
    # connections would keep as the table grows (pgbench's, opened later,
    # would not). So some sales first, then ANALYZE, as autovacuum does on a
    # live database, which makes every connection plan again.
    wrk(script, 8, 3, env, "warm-up (not a result)")
    if backend == "postgres":
        sh("psql", PG_BENCH, "-qc", "ANALYZE")
    results = [wrk(script, 8, d, env, "POST /v1/partnerships/{id}/sales (Idempotency-Key), 8 conns")]
    uid = call("GET", "/v1/me", token=a)["id"]
    if backend != "postgres":
        if not sales_only:
            sqlite_million(work, login, uid, a)
        return results
    # pgbench's statements sent as text (parsed and planned each time, the
    # reference of the targets), then prepared once per connection as the
    # API's are: its variables are then parameters, not text inside quotes.
    by_hand = os.path.join(here, "sale.pgbench")
    prepared = os.path.join(work, "sale-prepared.pgbench")
    with open(by_hand) as text, open(prepared, "w") as parameters:
        parameters.write(re.sub(r"':(\w+)'", r":\1", text.read()))
    for mode, path, how in (("simple", by_hand, ""), ("prepared", prepared, ", statements prepared")):
        out = sh("pgbench", "-n", "-M", mode, "-c", "8", "-j", "2", "-T", str(d), "-f", path,
                 "-D", f"pid={pid}", "-D", f"aid={aid}", "-D", f"uid={uid}", "-D", f"p0={p0}", "-D", f"p1={p1}",
                 "-h", "127.0.0.1", "-U", "postgres", "artisan_commons_bench")
        tps = float(re.search(r"tps = ([\d.]+)", out).group(1))
        print(f"  pgbench, the same sale transaction by hand{how}, 8 clients: {tps:.0f} tps; "
              f"API ratio {results[0]['rps'] / tps:.2f}")
    if sales_only:
        return results

    # 1 000 000 sales (3 lines each) on a second partnership, written directly.
    c = login(14)
    pid2, aid2, q0, q1 = active_partnership(c, login(15), 14)
    t0 = time.time()
    run_bulk("postgres", work, bulk_sales_sql("postgres", "bulk-", 1_000_000, [(pid2, aid2, q0, q1)], uid))
    print(f"  wrote 1 000 000 sales and 3 000 000 lines in {time.time() - t0:.0f} s")
    hand = f"""SELECT l.currency, l.party_id, l.beneficiary_name, SUM(l.amount_minor)
FROM allocation_lines l JOIN sales s ON s.id = l.sale_id
WHERE s.partnership_id = '{pid2}' AND l.refund_id IS NULL
  AND s.occurred_at >= '2026-01-01' AND s.occurred_at < '2027-01-01'
GROUP BY l.currency, l.party_id, l.beneficiary_name;"""
    by_hand = psql_ms(hand)
    api = http_ms(f"/v1/partnerships/{pid2}/payouts?from=2026-01-01&to=2026-12-31", c)
    print(f"  payouts over 1 000 000 sales: API {api:.0f} ms (median of 5), hand-written SUM ... GROUP BY "
          f"{by_hand:.0f} ms; ratio {api / by_hand:.2f}")
    # 10 000 approved expenses over the same period, paid by either party.
    sh("psql", PG_BENCH, "-qc", f"""
INSERT INTO expenses (id, partnership_id, amount_minor, currency, description, category, incurred_on,
                      paid_by, status, decided_by, recorded_by, created_at, updated_at, version)
SELECT 'bulk-x-' || g, '{pid2}', 500 + g % 4999, 'PEN', 'bulk', 'materials',
       date '2026-01-02' + (g % 200), CASE WHEN g % 2 = 0 THEN '{q0}' ELSE '{q1}' END,
       'approved', '{uid}', '{uid}', now(), now(), 1
FROM generate_series(1, 10000) g;""")
    sh("psql", PG_BENCH, "-qc", "VACUUM ANALYZE expenses")
    timed_settlement(pid2, c, psql_ms(netting_by_hand(pid2, q0, q1, "current_date")), "psql \\timing")
    return results


def events_suite(here, d, participants):
    """A fair with `participants` taking part: its cost shares at 8 conns."""
    login = lambda n: call("POST", "/v1/auth/login", {"email": f"demo-{n}@example.org", "password": "demo-password-2026"})["access_token"]
    a, b = login(16), login(17)
    pid = active_partnership(a, b, 16)[0]
    event = call("POST", "/v1/events", {
        "name": "Bench fair", "kind": "fair", "venue": "Plaza", "city": "Lima", "country": "PE",
        "starts_at": "2099-01-01T10:00:00Z", "ends_at": "2099-01-02T10:00:00Z",
        "organizer": {"partnership_id": pid}, "booth_cost": {"amount_minor": 1_000_003, "currency": "PEN"}}, a)
    t0 = time.time()
    tokens = call_all([("POST", "/v1/auth/login", {"email": f"demo-{n}@example.org", "password": "demo-password-2026"})
                       for n in range(100, 100 + participants)], workers=4)
    call_all([("POST", f"/v1/events/{event['id']}/participants", None, t["access_token"]) for t in tokens])
    print(f"  {participants} artisans signed in and joined in {time.time() - t0:.0f} s")
    shares = call("GET", f"/v1/events/{event['id']}/cost-shares", token=a)["shares"]
    assert len(shares) == participants and sum(s["amount_minor"] for s in shares) == 1_000_003
    return [wrk(os.path.join(here, "get_path.lua"), 8, d,
                {"TOKEN": a, "BENCH_PATH": f"/v1/events/{event['id']}/cost-shares"},
                f"GET /v1/events/{{id}}/cost-shares ({participants} participants), 8 conns")]


def bulk_giving_sql(backend, pid, aid, q0, q1, uid, campaign):
    """1 000 000 sales (the first 100 000 naming one of the skus B-0, B-1,
    B-2; every 20th refunded in full, every 7th by 100) with their three
    lines, the charity's line naming `campaign`; a refund and its negative
    charity line for each full refund; and the campaign's day totals, as
    the server keeps them when it writes lines."""
    if backend == "postgres":
        series = "generate_series(1, {n}) AS g(x)"
        at = "timestamp '2026-01-02' + (x % 300000) * interval '1 minute'"
        head = ""
        day = "CAST(s.occurred_at AS DATE)"
    else:
        series = "g"
        at = "strftime('%Y-%m-%d %H:%M:%S', '2026-01-02', '+' || (x % 300000) || ' minutes')"
        head = "WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < {n}) "
        day = "date(s.occurred_at)"
    gen = lambda n: head.format(n=n)
    src = lambda n: series.format(n=n)
    amount = "(1000 + x % 997)"
    refunded = f"CASE WHEN x % 20 = 0 THEN {amount} WHEN x % 7 = 0 THEN 100 ELSE 0 END"
    sku = "CASE WHEN x <= 100000 THEN 'B-' || (x % 3) ELSE NULL END"
    return f"""{gen(1000000)}INSERT INTO sales (id, partnership_id, agreement_id, content_hash, amount_minor, refunded_minor,
                   currency, occurred_at, description, channel, item_sku, recorded_by, created_at)
SELECT 'give-' || x, '{pid}', '{aid}', 'hash', {amount}, {refunded}, 'PEN', {at}, 'bulk', 'online', {sku},
       '{uid}', '2026-11-26 00:00:00' FROM {src(1000000)};
{gen(1000000)}INSERT INTO allocation_lines (id, sale_id, agreement_id, content_hash, share_index, party_id,
                              beneficiary_name, amount_minor, currency, created_at, campaign_id)
SELECT 'give-' || x || '-' || v.i, 'give-' || x, '{aid}', 'hash', v.i, v.party, v.name,
       {amount} * v.bps / 10000, 'PEN', '2026-11-26 00:00:00', v.campaign
FROM {src(1000000)}, (SELECT 0 AS i, '{q0}' AS party, NULL AS name, 6000 AS bps, NULL AS campaign
       UNION ALL SELECT 1, '{q1}', NULL, 3500, NULL
       UNION ALL SELECT 2, NULL, 'Escuela Taller', 500, '{campaign}') v;
{gen(50000)}INSERT INTO refunds (id, sale_id, amount_minor, reason, recorded_by, created_at)
SELECT 'give-r-' || x, 'give-' || (20 * x), 1000 + (20 * x) % 997, 'bulk', '{uid}', '2026-11-26 00:00:00'
FROM {src(50000)};
{gen(50000)}INSERT INTO allocation_lines (id, sale_id, refund_id, agreement_id, content_hash, share_index,
                              beneficiary_name, amount_minor, currency, created_at, campaign_id)
SELECT 'give-r-' || x, 'give-' || (20 * x), 'give-r-' || x, '{aid}', 'hash', 2, 'Escuela Taller',
       -((1000 + (20 * x) % 997) * 500 / 10000), 'PEN', '2026-11-26 00:00:00', '{campaign}'
FROM {src(50000)};
INSERT INTO campaign_days (campaign_id, partnership_id, anonymous, currency, day, amount_minor)
SELECT l.campaign_id, s.partnership_id, l.anonymous, l.currency, {day}, SUM(l.amount_minor)
FROM allocation_lines l JOIN sales s ON s.id = l.sale_id WHERE l.campaign_id = '{campaign}'
GROUP BY l.campaign_id, s.partnership_id, l.anonymous, l.currency, {day};"""


def giving_suite(work, here, d, backend):
    """A collection's performance over 100 000 sales of its items and a
    campaign's `raised` over 1 000 000 charity lines, at 8 conns, each next
    to the same figures in hand-written SQL."""
    login = lambda n: call("POST", "/v1/auth/login", {"email": f"demo-{n}@example.org", "password": "demo-password-2026"})["access_token"]
    a = login(18)
    campaign = call("POST", "/v1/campaigns", {
        "title": "Bench drive", "cause": "Looms", "beneficiary_name": "Escuela Taller",
        "goal": {"amount_minor": 100_000_000, "currency": "PEN"},
        "starts_on": "2026-01-01", "ends_on": "2026-06-30"}, a)["id"]
    pid, aid, q0, q1 = active_partnership(a, login(19), 18, campaign)
    item = lambda n: {"sku": f"B-{n}", "name": f"Piece {n}", "price": {"amount_minor": 1500, "currency": "PEN"},
                      "contributors": [q0, q1]}
    collection = call("POST", f"/v1/partnerships/{pid}/collections",
                      {"name": "Bench", "items": [item(0), item(1), item(2)]}, a)["id"]
    uid = call("GET", "/v1/me", token=a)["id"]
    t0 = time.time()
    run_bulk(backend, work, bulk_giving_sql(backend, pid, aid, q0, q1, uid, campaign),
             ("sales", "allocation_lines", "refunds"))
    print(f"  wrote 1 000 000 sales (100 000 of the collection), 3 050 000 lines in {time.time() - t0:.0f} s")
    performance = f"""SELECT item_sku, currency, COUNT(*),
       SUM(CASE WHEN refunded_minor = amount_minor THEN 1 ELSE 0 END), SUM(amount_minor), SUM(refunded_minor)
FROM sales WHERE partnership_id = '{pid}' AND item_sku IN ('B-0', 'B-1', 'B-2')
GROUP BY item_sku, currency ORDER BY item_sku, currency;"""
    raised = f"""SELECT CASE WHEN l.anonymous THEN NULL ELSE s.partnership_id END, l.currency, SUM(l.amount_minor)
FROM allocation_lines l JOIN sales s ON s.id = l.sale_id
WHERE l.campaign_id = '{campaign}' AND s.occurred_at >= '2026-01-01' AND s.occurred_at < '2026-07-01'
GROUP BY CASE WHEN l.anonymous THEN NULL ELSE s.partnership_id END, l.currency;"""
    report = call("GET", f"/v1/campaigns/{campaign}", token=a)
    print(f"  campaign raised {report['raised']}")
    sold = call("GET", f"/v1/collections/{collection}/performance", token=a)["items"]
    assert sum(i["units_sold"] for i in sold) == 100_000
    for path, sql, label in [
        (f"/v1/collections/{collection}/performance", performance, "collection performance, 100 000 sales"),
        (f"/v1/campaigns/{campaign}", raised, "campaign raised, 1 000 000 charity lines (86 % inside its dates)"),
    ]:
        api = wrk(os.path.join(here, "get_path.lua"), 8, d, {"TOKEN": a, "BENCH_PATH": path},
                  f"GET {label}, 8 conns")
        if backend == "postgres":
            script_file = os.path.join(work, "hand.sql")
            with open(script_file, "w") as f:
                f.write(sql.replace("\n", " ") + "\n")
            out = sh("pgbench", "-n", "-c", "8", "-j", "2", "-T", str(d), "-f", script_file,
                     "-h", "127.0.0.1", "-U", "postgres", "artisan_commons_bench")
            tps = float(re.search(r"tps = ([\d.]+)", out).group(1))
            lat = float(re.search(r"latency average = ([\d.]+) ms", out).group(1))
            print(f"    hand-written SQL, pgbench 8 clients: {tps:.1f} tps, latency average {lat:.1f} ms; "
                  f"API throughput ratio {api['rps'] / tps:.2f}")
        else:
            import sqlite3
            conn = sqlite3.connect(os.path.join(work, "data", "artisan-commons.db"))
            times = []
            for _ in range(5):
                t0 = time.time()
                conn.execute(sql).fetchall()
                times.append((time.time() - t0) * 1000)
            conn.close()
            by_hand = sorted(times)[2]
            one = http_ms(path, a)
            print(f"    hand-written SQL in-process (python sqlite3) {by_hand:.1f} ms (median of 5); "
                  f"API one request {one:.1f} ms (median of 5); ratio {one / by_hand:.2f}")


def partner_key(env, name, scopes):
    """A new partner organization and an API key for it with `scopes`, made
    with the binary's CLI commands (same environment, so the same server
    secret as the running server)."""
    org = sh(BIN, "create-organization", "--name", name, "--description", "bench", env=env).split()[-1]
    return sh(BIN, "create-api-key", "--organization", org, "--scopes", scopes, "--name", "bench", env=env).split()[-1]


def query_lines(backend, work, sql):
    """The output of `sql` run by hand, one value a line."""
    if backend == "postgres":
        return sh("psql", PG_BENCH, "-qAt", "-c", sql).split()
    return sh("sqlite3", "-cmd", ".timeout 60000", os.path.join(work, "data", "artisan-commons.db"), sql).split()


def impact_artisans(backend, work, artisans, count=100, cell=20):
    """`count` demo artisans beyond the first 24 (the named ones and those
    other suites sign in as): first `cell` from Peru whose primary craft is
    weaving (so the filtered cell has enough contributors not to be all
    suppressed), then others spread over the population."""
    emails = query_lines(backend, work, "SELECT u.email FROM users u JOIN artisans a ON a.id = u.id "
                         "WHERE a.country = 'PE' AND a.primary_craft = 'weaving' AND u.email LIKE 'demo-%'")
    weavers = sorted(n for n in (int(e[len("demo-"):e.index("@")]) for e in emails) if n > 24)[:cell]
    step = max(1, (artisans - 25) // count)
    others = [n for n in range(25, artisans + 1, step) if n not in weavers]
    return weavers, others[:count - len(weavers)]


def impact_june(report):
    """Two of the report's figures for 2026-06, as a sanity check."""
    june = next(m for m in report["months"] if m["month"] == "2026-06")
    shown = lambda figure, field="value": "suppressed" if figure["suppressed"] else figure[field]
    pen = [r for r in june["revenue"] if r["currency"] == "PEN"]
    return (f"2026-06: artisans active {shown(june['artisans_active'])}, "
            f"gross {shown(pen[0], 'gross_minor') if pen else 0} PEN minor units")


def sale_months_backfill(here):
    """The INSERT of migration 000023 that fills impact_sale_months from
    every sale's allocation lines."""
    up = os.path.join(here, "..", "migrations", "postgres", "2026-12-04-000023_impact_sale_months", "up.sql")
    with open(up) as f:
        text = f.read()
    return text[text.index("INSERT INTO impact_sale_months"):]


def impact_suite(work, here, d, backend, artisans, env):
    """GET /v1/impact as a partner organization over 1 000 000 sales (written
    directly) of 50 partnerships of 100 artisans, 20 of them Peruvian
    weavers: everyone, one country, one country and craft, at 8 conns."""
    key = partner_key(env, "Bench Impact", "impact:read")
    weavers, others = impact_artisans(backend, work, artisans)
    ns = weavers + others
    logins = [("POST", "/v1/auth/login", {"email": f"demo-{n}@example.org", "password": "demo-password-2026"}, None)
              for n in ns]
    tokens = [r["access_token"] for r in call_all(logins, workers=4)]
    pairs = [(tokens[i], tokens[i + 1], f"impact {ns[i]}") for i in range(0, len(tokens) - 1, 2)]
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(4) as pool:
        parts = list(pool.map(lambda pair: active_partnership(*pair), pairs))
    print(f"  {len(parts)} active partnerships of {2 * len(parts)} artisans ({len(weavers)} of them PE, weaving)")
    uid = call("GET", "/v1/me", token=tokens[0])["id"]
    t0 = time.time()
    # 480 000 minutes: 2026-01-02 to 2026-12-01.
    run_bulk(backend, work, bulk_sales_sql(backend, "impact-", 1_000_000, parts, uid, minutes=480_000))
    print(f"  wrote 1 000 000 sales and 3 000 000 lines, round-robin over them, in {time.time() - t0:.0f} s")
    # Lines written directly bypass the monthly sale totals that recording a
    # sale keeps; rebuild them with the migration's own statement. Then
    # planner statistics for what the suite made through the API, as
    # autovacuum would have them on a live database.
    t0 = time.time()
    run_bulk(backend, work, "DELETE FROM impact_sale_months;\n" + sale_months_backfill(here),
             ("impact_sale_months", "partnerships", "partnership_parties", "agreements", "agreement_signatures"))
    print(f"  rebuilt the monthly sale totals in {time.time() - t0:.0f} s")
    headers = {"X-API-Key": key}
    base = "/v1/impact?from=2026-01&to=2026-12"
    results = []
    for query in ["", "&country=PE", "&country=PE&craft=weaving"]:
        path = base + query
        print(f"  {path}: {impact_june(call('GET', path, headers=headers))}")
        results.append(wrk(os.path.join(here, "api_key_get.lua"), 8, d, {"API_KEY": key, "BENCH_PATH": path},
                           f"GET {path}, 8 conns", timeout=60))
    print(f"  GET {base}: one request {http_ms(base, None, headers=headers):.0f} ms (median of 5)")
    return results


def start_receiver(arrivals):
    """A webhook receiver on a free local port: 204 to every POST, appending
    (arrival time, data.workshop_id) to `arrivals`."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Hook(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            at = time.time()
            arrivals.append((at, json.loads(body).get("data", {}).get("workshop_id")))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    class Receiver(ThreadingHTTPServer):
        request_queue_size = 1024  # the listen backlog (5 by default) for bursts of new connections

    receiver = Receiver(("127.0.0.1", 0), Hook)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    return receiver


def start_server(env, port):
    """`BIN serve` on `port`, once it answers /readyz (or after 10 s)."""
    server = subprocess.Popen([BIN, "serve"], env={**env, "BIND_ADDR": f"127.0.0.1:{port}"},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz")
            break
        except OSError:
            time.sleep(0.1)
    return server


def delivery_run(label, tokens, arrivals, count, first):
    """`count` workshops created by 8 threads as fast as they go; waits for
    their workshop.created deliveries and prints throughput and the delay
    from each 201 (the commit, at the latest) to its receipt."""
    import datetime
    from concurrent.futures import ThreadPoolExecutor
    starts = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")

    def create(i):
        made = call("POST", "/v1/workshops", {
            "title": f"Bench workshop {first + i}", "skill": "natural-dyeing", "description": "bench",
            "capacity": 8, "starts_at": starts, "duration_hours": 2, "location": "Cusco"}, tokens[i % len(tokens)])
        return made["id"], time.time()

    t0 = time.time()
    with ThreadPoolExecutor(8) as pool:
        committed = dict(pool.map(create, range(count)))
    made_in = time.time() - t0
    deadline = time.time() + 120
    while time.time() < deadline and len({w for _, w in list(arrivals) if w in committed}) < count:
        time.sleep(0.1)
    time.sleep(1)  # for late duplicates
    received, duplicates = {}, 0
    for at, workshop in list(arrivals):
        if workshop in received:
            duplicates += 1
        elif workshop in committed:
            received[workshop] = at
    print(f"  {label}: {count} workshops created in {made_in:.1f} s ({count / made_in:.0f}/s, 8 threads); "
          f"received {len(received)}, duplicates {duplicates}, missing {count - len(received)}")
    if not received:
        return
    delays = sorted((at - committed[w]) * 1000 for w, at in received.items())
    span = max(received.values()) - min(committed.values())
    print(f"    delivered {len(received) / span:.0f} events/s (first commit to last receipt, {span:.1f} s); "
          f"delay commit to receipt p50 {delays[len(delays) // 2]:.0f} ms, "
          f"p99 {delays[max(0, int(len(delays) * 0.99) - 1)]:.0f} ms, max {delays[-1]:.0f} ms")


def webhooks_suite(env, backend, count):
    """Outbox to a local receiver: `count` workshop.created events with the
    one server process, then `count` more with a second one on the same
    database (PostgreSQL; the workers share the work through SKIP LOCKED)."""
    if backend != "postgres":
        print("  webhooks: skipped on SQLite (one server process per database file)")
        return
    key = partner_key(env, "Bench Webhooks", "webhooks:manage")
    arrivals = []
    receiver = start_receiver(arrivals)
    try:
        call("POST", "/v1/webhook-endpoints", {"url": f"http://127.0.0.1:{receiver.server_address[1]}/hook",
                                               "events": ["workshop.created"]}, headers={"X-API-Key": key})
        logins = [("POST", "/v1/auth/login", {"email": f"demo-{n}@example.org", "password": "demo-password-2026"}, None)
                  for n in range(30, 38)]
        tokens = [r["access_token"] for r in call_all(logins, workers=4)]
        delivery_run("one server process", tokens, arrivals, count, 0)
        second = start_server(env, PORT + 1)
        try:
            delivery_run("two server processes (workshops created through the first)", tokens, arrivals, count, count)
        finally:
            second.terminate()
            second.wait()
    finally:
        receiver.shutdown()
        receiver.server_close()


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
    ap.add_argument("--suite", choices=["all", "artisans", "agreements", "matching", "revenue", "sales", "events", "giving",
                                        "impact", "webhooks"], default="all")
    ap.add_argument("--participants", type=int, default=500, help="artisans joining the events suite's fair")
    ap.add_argument("--agreements", type=int, default=20000,
                    help="drafts to create for the signing runs (more than req/s x --sign-duration)")
    ap.add_argument("--sign-duration", type=int, default=5)
    ap.add_argument("--webhook-events", type=int, default=2000, help="workshops per run of the webhooks suite")
    ap.add_argument("--shares", type=lambda v: [int(p) / 100 for p in v.split(",")], default=[0.5, 0.8],
                    help="the open loops of GET-by-id and pgbench -S, in percent of the closed loop's rate "
                         "(default 50,80)")
    ap.add_argument("--perf", action="store_true",
                    help="record the server with perf during the GET-by-id run and print where its CPU time went")
    ap.add_argument("--reuse", action="store_true",
                    help="PostgreSQL only: keep the already seeded benchmark database")
    opts = ap.parse_args()

    if "BENCH_BIN" not in os.environ:
        subprocess.run(["cargo", "build", "--release", "--locked", "--bin", "artisan-commons"], cwd=ROOT, check=True)
    work = tempfile.mkdtemp(prefix="ac-bench-")
    env = {"DATA_DIR": os.path.join(work, "data"), "BIND_ADDR": f"127.0.0.1:{PORT}",
           "RATE_LIMIT_PER_MINUTE": "0", "RATE_LIMIT_AUTH_PER_MINUTE": "0", "RUST_LOG": "warn",
           "WEBHOOKS_ALLOW_PRIVATE_NETWORKS": "true", "WEBHOOKS_POLL_MS": "100"}
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
        if opts.backend == "postgres":
            # What autovacuum would have done by now on a live database: the
            # visibility map (index-only scans) and planner statistics. Then
            # the seed's dirty pages are written out, so that no checkpoint
            # of the seed runs under the first measurement (and not under
            # the PostgreSQL reference that follows it).
            sh("psql", PG_BENCH, "-qc", "VACUUM ANALYZE")
            sh("psql", PG_BENCH, "-qc", "CHECKPOINT")

    server = start_server(env, PORT)
    try:
        here = os.path.dirname(os.path.abspath(__file__))
        d = opts.duration
        results = []
        if opts.suite in ("all", "artisans"):
            results = artisans_suite(work, here, d, server.pid, opts.perf, opts.backend, opts.shares)
        if opts.suite in ("all", "matching"):
            matching_suite(work, here, d, opts.artisans, opts.backend)
        if opts.suite in ("all", "revenue", "sales"):
            revenue_suite(work, here, d, opts.backend, sales_only=opts.suite == "sales")
        if opts.suite in ("all", "agreements"):
            agreements_suite(work, here, d, opts.sign_duration, opts.agreements)
        if opts.suite in ("all", "events"):
            events_suite(here, d, opts.participants)
        if opts.suite in ("all", "giving"):
            giving_suite(work, here, d, opts.backend)
        if opts.suite in ("all", "impact"):
            impact_suite(work, here, d, opts.backend, opts.artisans, env)
        if opts.suite in ("all", "webhooks"):
            webhooks_suite(env, opts.backend, opts.webhook_events)
        print(f"  server peak RSS: {peak_rss_mb(server.pid):.0f} MB")
    finally:
        server.terminate()
        server.wait()

    if opts.backend == "postgres" and results:
        tps = pgbench_select_only(d, work, opts.shares)
        print(f"  GET-by-id / pgbench -S: {results[0]['rps'] / tps:.2f}")
    print(f"machine: {os.cpu_count()} cores; {sh('uname', '-sr').strip()}")


if __name__ == "__main__":
    sys.exit(main())
