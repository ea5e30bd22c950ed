#!/usr/bin/env python3
"""search_client.py PORT USER PASSWORD SAMPLES RECORDED_IDS [REQUESTS]

The HTTP side of the search benchmark (run.sh, section "search"): one keep-alive
connection, logged in, asks GET /api/calls for each common filter with values drawn
from the samples bench_search wrote, and measures the time to the first audio byte of
replays.  Prints one line per measure: name, requests, p50 ms, p95 ms, max ms, rows."""
import http.client, json, random, sys, time, urllib.parse


def main():
    port, user, password, samples_path, rec_ids = sys.argv[1:6]
    n = int(sys.argv[6]) if len(sys.argv) > 6 else 200
    rnd = random.Random(1)
    samples = {}
    for line in open(samples_path, encoding="utf-8"):
        k, v = line.rstrip("\n").split("\t", 1)
        samples.setdefault(k, []).append(v)
    recorded = [int(x) for x in rec_ids.split(",") if x]

    conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=60)
    conn.request("POST", "/api/login", json.dumps({"user": user, "password": password}),
                 {"Content-Type": "application/json"})
    r = conn.getresponse()
    body = r.read()
    if r.status != 200:
        sys.exit("login failed: %d %s" % (r.status, body))
    cookie = {"Cookie": r.getheader("Set-Cookie").split(";")[0]}

    def timed_get(path, headers=None, first_byte=False):
        h = dict(cookie, **(headers or {}))
        t0 = time.perf_counter()
        conn.request("GET", path, headers=h)
        resp = conn.getresponse()
        if first_byte:
            resp.read(1)
            dt = time.perf_counter() - t0
            resp.read()
        else:
            data = resp.read()
            dt = time.perf_counter() - t0
        if resp.status not in (200, 206):
            sys.exit("%s: %d" % (path, resp.status))
        rows = len(json.loads(data)) if not first_byte else 0
        return dt * 1000, rows

    def q(params):
        return "/api/calls?" + urllib.parse.urlencode(params)

    day = lambda: int(rnd.choice(samples["day"]))
    iso = lambda t: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
    cases = [
        ("no filter (newest 50)", lambda: q({})),
        ("date range (one day)", lambda: (lambda d: q({"from": iso(d), "to": iso(d + 86400)}))(day())),
        ("date range (one month)", lambda: (lambda d: q({"from": iso(d), "to": iso(d + 30 * 86400)}))(day())),
        ("number", lambda: q({"number": rnd.choice(samples["number"])})),
        ("number + one month", lambda: (lambda d: q({"number": rnd.choice(samples["number"]),
                                                     "from": iso(d), "to": iso(d + 30 * 86400)}))(day())),
        ("free text: name", lambda: q({"q": rnd.choice(samples.get("name") or samples["staff"])})),
        ("free text: staff name", lambda: q({"q": rnd.choice(samples["staff"])})),
        ("free text: number prefix", lambda: q({"q": rnd.choice(samples["number"])[:6]})),
        ("free text: full number", lambda: q({"q": rnd.choice(samples["number"])})),
        ("tag", lambda: q({"tag": rnd.choice(samples["tag"])})),
        ("direction + min_duration", lambda: q({"direction": "inbound", "min_duration": "300"})),
    ]
    for name, make in cases:
        for _ in range(3):  # warm the page cache for this kind of query
            timed_get(make())
        lat, rows = [], []
        for _ in range(n):
            ms, nrows = timed_get(make())
            lat.append(ms)
            rows.append(nrows)
        report(name, lat, rows)

    if recorded:
        lat = []
        for i in range(n):
            rid = recorded[i % len(recorded)]
            rng = {"Range": "bytes=0-"} if i % 2 == 0 else {"Range": "bytes=%d-" % (1000 * (i % 7))}
            ms, _ = timed_get("/api/calls/%d/audio" % rid, rng, first_byte=True)
            lat.append(ms)
        report("replay: first audio byte", lat, None)


def report(name, lat, rows):
    lat.sort()
    pct = lambda p: lat[min(len(lat) - 1, int(round(p / 100.0 * (len(lat) - 1))))]
    mean_rows = "%.0f" % (sum(rows) / len(rows)) if rows else "-"
    print("%-28s %5d %9.1f %9.1f %9.1f %6s" % (name, len(lat), pct(50), pct(95), lat[-1], mean_rows))
    sys.stdout.flush()


if __name__ == "__main__":
    print("%-28s %5s %9s %9s %9s %6s" % ("query", "n", "p50 ms", "p95 ms", "max ms", "rows"))
    main()
