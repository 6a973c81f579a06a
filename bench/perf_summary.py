#!/usr/bin/env python3
"""Where the server's CPU time goes, from a `perf record -g` of it.

    perf record -e cpu-clock -F 999 -g -p SERVER_PID -o perf.data -- sleep 10
    python3 bench/perf_summary.py perf.data

Each sample is put in one bucket: kernel time by what it is spent on
(switching threads, or the system call the server made: sending,
receiving, waiting for PostgreSQL's answer, waking or parking threads),
user time by the code it is in (routing, JWT, JSON, the allocator, diesel
and libpq, the HTTP layer). Prints each bucket's share of the samples.
`bench/run.py --perf` records and summarises the GET-by-id run this way.
"""

import re
import subprocess
import sys
from collections import Counter

# First matching pattern wins; tested against the leaf frame's symbol.
USER = [
    ("routing: actix-router's path regexes", r"regex_lite|actix_router"),
    ("JWT: HS256, base64, claims", r"jsonwebtoken|sha2|hmac|base64|jwt|principal::bearer"),
    ("JSON: serde", r"serde"),
    ("thread hand-offs: condvars and locks", r"parking_lot|condvar|Condvar|blocking"),
    ("allocator: malloc and free", r"malloc|free|realloc|_int_|unlink_chunk|calloc"),
    ("database client: diesel and libpq", r"diesel|^pq|PQ|libpq|r2d2"),
    ("memory copies and string handling", r"memmove|memcpy|memcmp|memset|strlen|strcpy|core::str|alloc::str|fmt"),
    ("HTTP layer and tasks: actix, tokio, mio", r"actix|tokio|mio|h1|http|bytes"),
]
# Kernel samples: by the system call in progress (the first frame outside
# the kernel), unless the kernel was switching tasks.
SYSCALLS = [
    ("kernel: sending (responses to clients, queries to PostgreSQL)", r"send|write"),
    ("kernel: receiving (requests, query results)", r"recv|read"),
    ("kernel: waiting for PostgreSQL's answer (poll)", r"poll"),
    ("kernel: waking and parking threads (futex)", r"^syscall$|futex|pthread|lll_lock|sched_yield"),
    ("kernel: the event loop (epoll)", r"epoll"),
]


def bucket(frames):
    """`frames`: (symbol, dso) from the leaf up."""
    leaf_sym, leaf_dso = frames[0]
    if "kernel" not in leaf_dso:
        for name, pattern in USER:
            if re.search(pattern, leaf_sym):
                return name
        return "user: everything else"
    if any(sym.startswith(("__schedule", "schedule")) for sym, dso in frames if "kernel" in dso):
        return "kernel: switching threads (scheduler)"
    user = next((sym for sym, dso in frames if "kernel" not in dso), "")
    for name, pattern in SYSCALLS:
        if re.search(pattern, user):
            return name
    return "kernel: interrupts and everything else"


def samples(path):
    out = subprocess.run(["perf", "script", "-i", path, "-F", "ip,sym,dso"], check=True, text=True,
                         capture_output=True).stdout
    for block in out.split("\n\n"):
        frames = []
        for line in block.strip().splitlines():
            match = re.match(r"\s*[0-9a-f]+\s+(.*?)\s+\((.*)\)$", line)
            if match:
                frames.append((match.group(1), match.group(2)))
        if frames:
            yield frames


def main():
    counts = Counter(bucket(frames) for frames in samples(sys.argv[1]))
    total = sum(counts.values())
    print(f"  where the server's CPU time went ({total} samples):")
    for name, n in counts.most_common():
        print(f"    {100 * n / total:5.1f} %  {name}")


if __name__ == "__main__":
    main()
