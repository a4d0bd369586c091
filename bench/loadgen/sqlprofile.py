#!/usr/bin/env python3
"""Which SQL statements each API action runs, how many, and how long they take.

Run the portal with sqlx's statement log on (every statement is logged with its elapsed time):

    locportal serve --database-url URL --bind 127.0.0.1:18080 \
        --log 'info,sqlx::query=debug' > serve-sql.log 2>&1 &

then:

    bench/loadgen/sqlprofile.py serve-sql.log /tmp/loadgen-sqlite/manifest.json [N]

It sends N (default 10) requests of each action one at a time, as random seeded users (the same
kinds of choices as `loadgen run`), and prints per action the wall time per request, the SQL
statements per request and the time they account for, and the statements that cost the most.
Wall time minus SQL time is what the statements' round trips, the application and HTTP add.
"""

import json
import random
import re
import sys
import time
import urllib.parse
import urllib.request
from collections import defaultdict

BASE = "http://127.0.0.1:18080"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
LINE = re.compile(r'db\.statement="(.*?)" rows_affected=(\d+) rows_returned=(\d+) .*?elapsed_secs=([0-9.e-]+)')
SUMMARY = re.compile(r'summary="(.*?)" db\.statement')


def request(method, path, token, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(BASE + path, data=data, method=method)
    req.add_header("Authorization", "Bearer " + token)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=120) as r:
        return r.status, r.read()


def statements(log, start):
    with open(log, "rb") as f:
        f.seek(start)
        text = f.read().decode("utf-8", "replace")
    out = []
    for raw in text.splitlines():
        line = ANSI.sub("", raw)
        m = LINE.search(line)
        if not m:
            continue
        stmt = m.group(1).replace("\\n", " ")
        stmt = " ".join(stmt.split()) or (SUMMARY.search(line).group(1) if SUMMARY.search(line) else "?")
        out.append((stmt, int(m.group(3)), float(m.group(4))))
    return out


def main():
    log, manifest_path = sys.argv[1], sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 10
    m = json.load(open(manifest_path))
    rng = random.Random(3)
    users, groups, channels, projects = m["users"], m["groups"], m["channels"], m["projects"]
    studio = [i for i, u in enumerate(users) if groups[u["group"]]["studio"] and i != m["bench_user"]]
    partner = [i for i, u in enumerate(users) if not groups[u["group"]]["studio"]]

    def readable(u):
        g = users[u]["group"]
        return [c for p in users[u]["follows"] for c in projects[p]["channels"] if g in channels[c]["readers"]]

    def postable(u):
        g = users[u]["group"]
        return [c for p in users[u]["follows"] for c in projects[p]["channels"] if g in channels[c]["posters"]]

    def view(pool):
        u = rng.choice(pool)
        c = rng.choice(readable(u))
        return ("GET", f"/api/v1/channels/{channels[c]['id']}/messages", users[u]["token"], None)

    def post(mention):
        while True:
            u = rng.choice(studio + partner)
            cs = postable(u)
            if cs:
                break
        c = rng.choice(cs)
        body = "Please send the updated glossary for reel 3 by Friday."
        if mention:
            readers = [x for g in channels[c]["readers"] for x in groups[g]["members"] if x != u]
            body = "@" + users[rng.choice(readers)]["email"] + " " + body
        return ("POST", f"/api/v1/channels/{channels[c]['id']}/messages", users[u]["token"], {"body": body})

    def search(pool):
        q = rng.choice(["glossary", "retake Aldous", "traduccion", '"locked picture"', "字幕", "Mireille"])
        u = rng.choice(pool)
        return ("GET", "/api/v1/search?" + urllib.parse.urlencode({"q": q, "limit": 50}), users[u]["token"], None)

    bench = users[m["bench_user"]]["token"]
    actions = [
        ("post, no mention", lambda: post(False)),
        ("post with @mention", lambda: post(True)),
        ("channel view (partner user)", lambda: view(partner)),
        ("channel view (studio user)", lambda: view(studio)),
        ("unread check: my-projects (partner user)", lambda: ("GET", "/api/v1/my-projects", users[rng.choice(partner)]["token"], None)),
        ("unread check: my-projects (studio user)", lambda: ("GET", "/api/v1/my-projects", users[rng.choice(studio)]["token"], None)),
        ("My Projects, 200 followed", lambda: ("GET", "/api/v1/my-projects", bench, None)),
        ("search (studio user)", lambda: search(studio)),
        ("search (partner user)", lambda: search(partner)),
    ]
    # Warm up every token once so the once-a-minute "last used" update stays out of the figures.
    for u in set(studio[:50] + partner[:50] + [m["bench_user"]]):
        request("GET", "/api/v1/me", users[u]["token"])
    for name, make in actions:
        reqs = [make() for _ in range(n)]
        time.sleep(0.5)
        with open(log, "rb") as f:
            f.seek(0, 2)
            start = f.tell()
        wall = 0.0
        for method, path, token, body in reqs:
            t0 = time.perf_counter()
            request(method, path, token, body)
            wall += time.perf_counter() - t0
        time.sleep(0.5)
        stmts = statements(log, start)
        by = defaultdict(lambda: [0, 0.0, 0])
        for s, rows, secs in stmts:
            e = by[s]
            e[0] += 1
            e[1] += secs
            e[2] += rows
        total = sum(e[1] for e in by.values())
        print(f"\n## {name}: {wall / n * 1000:.1f} ms per request, "
              f"{len(stmts) / n:.1f} statements and {total / n * 1000:.1f} ms of SQL per request")
        for s, (count, secs, rows) in sorted(by.items(), key=lambda kv: -kv[1][1])[:6]:
            print(f"  {count / n:7.1f}× {secs / n * 1000:8.2f} ms  {rows / max(count, 1):8.1f} rows  {s[:150]}")


if __name__ == "__main__":
    main()
