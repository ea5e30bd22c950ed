#!/usr/bin/env python3
"""The web API end to end: a data dir with generated calls, one account per role, a
running `greffier serve --no-capture`, then logins (ok, wrong, lockout), the role x
endpoint matrix, CSRF, hostile search parameters, audio bytes and ranges against
`greffier audio`, security headers on every response, the audit chain afterwards, and
no file left behind by replays.  Python standard library only."""
import json, os, subprocess, sys, tempfile
import apiclient
from apiclient import BIN, BUILD, check, checks, failures, free_port, run
from apiclient import start_serve, stop_serve

responses = []  # (what, headers) of every response, for the header check


class Client(apiclient.Client):
    def __init__(self, port):
        super().__init__(port, timeout=30)

    def seen(self, method, path, headers):
        responses.append((method + " " + path, headers))


def list_files(*dirs):
    out = set()
    for d in dirs:
        for root, _, files in os.walk(d):
            for f in files:
                out.add(os.path.join(root, f))
    return out


def main():
    tmp = tempfile.mkdtemp(prefix="greffier-web-")
    data = os.path.join(tmp, "data")
    pcap = os.path.join(tmp, "calls.pcap")
    subprocess.run([os.path.join(BUILD, "bench", "gen_calls"), "--calls", "6", "--duration",
                    "8", "-o", pcap], check=True, capture_output=True)
    run("-d", data, "init", check=True)
    run("-d", data, "import", pcap, check=True)
    calls = json.loads(run("-d", data, "calls", "--json", check=True).stdout)
    with_rec = [c["id"] for c in calls if c["recording"]]
    check(with_rec, "the generated capture has calls with recordings")
    rec_id = with_rec[0]

    passwords = {}
    for role in ("admin", "supervisor", "auditor"):
        pwfile = os.path.join(tmp, role + ".pw")
        passwords[role] = role + " password 42"
        with open(pwfile, "w") as f:
            f.write(passwords[role] + "\n")
        r = run("-d", data, "user", "add", role + "1", "--role", role, "--password-file", pwfile)
        check(r.returncode == 0, "user add %s: %s" % (role, r.stderr))
    r = run("-d", data, "user", "add", "shorty", "--role", "admin", input=b"short\n")
    check(r.returncode == 1, "a short password is refused")
    r = run("-d", data, "user", "add", "Bad/Name", "--role", "admin", input=b"long enough pw\n")
    check(r.returncode == 2, "an invalid user name is a usage error")

    port = free_port()
    srv = start_serve(data, port, now="2024-05-01T12:00:00Z")
    try:
        anon = Client(port)
        st, _, b = anon.req("GET", "/healthz")
        check(st == 200 and json.loads(b) == {"status": "ok"}, "healthz")

        # Refusals at start-up.
        r = run("-d", data, "serve", "--no-capture", "--listen", "0.0.0.0:%d" % free_port(),
                timeout=20)
        check(r.returncode != 0 and b"loopback" in r.stderr, "plain HTTP on 0.0.0.0 refused")
        r = run("-d", data, "serve", "--listen", "127.0.0.1:1", "extra", timeout=20)
        check(r.returncode == 2 and b"unexpected argument" in r.stderr,
              "serve with an unexpected argument is a usage error")

        # Logins.
        sup, aud, adm = Client(port), Client(port), Client(port)
        sup.login("supervisor1", passwords["supervisor"])
        st, h, b = sup.last_login
        check(st == 200, "supervisor login")
        cookie = h.get("set-cookie", "")
        check("HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie,
              "session cookie attributes: " + cookie)
        check(len(sup.cookie or "") == 64, "256-bit session token")
        me = json.loads(b)
        check(me["user"] == "supervisor1" and me["role"] == "supervisor", "login reply")
        check(aud.login("auditor1", passwords["auditor"]) == 200, "auditor login")
        check(adm.login("admin1", passwords["admin"]) == 200, "admin login")
        check(Client(port).login("auditor1", "wrong password!") == 401, "bad password 401")
        check(Client(port).login("nobody", "wrong password!") == 401, "unknown user 401")
        st, _, _ = anon.req("POST", "/api/login", raw_body=b"{not json",
                            headers={"Content-Type": "application/json"})
        check(st == 400, "malformed login body 400")
        st, _, _ = anon.req("POST", "/api/login", raw_body=b"x" * 70000)
        check(st == 413, "body over 64 KiB refused (413), got %d" % st)

        # Lockout: 5 failures, then even the right password is refused.
        run("-d", data, "user", "add", "victim", "--role", "auditor",
            "--password-file", os.path.join(tmp, "auditor.pw"), check=True)
        codes = [Client(port).login("victim", "wrong password!") for _ in range(5)]
        check(codes == [401] * 5, "five failures are 401: %s" % codes)
        check(Client(port).login("victim", passwords["auditor"]) == 429, "locked out: 429")

        # /api/me
        st, _, b = sup.req("GET", "/api/me")
        check(st == 200 and json.loads(b)["csrf"] == sup.csrf, "/api/me")
        check(anon.req("GET", "/api/me")[0] == 401, "/api/me without session 401")

        # Role x endpoint matrix.
        matrix = [
            ("/api/calls", {"sup": 200, "aud": 200, "adm": 403, "anon": 401}),
            ("/api/calls/%d" % rec_id, {"sup": 200, "aud": 200, "adm": 403, "anon": 401}),
            ("/api/calls/%d/audio" % rec_id, {"sup": 200, "aud": 200, "adm": 403, "anon": 401}),
            ("/api/calls/%d/peaks" % rec_id, {"sup": 200, "aud": 200, "adm": 403, "anon": 401}),
            ("/api/audit", {"sup": 403, "aud": 200, "adm": 200, "anon": 401}),
        ]
        who = {"sup": sup, "aud": aud, "adm": adm, "anon": anon}
        for path, want in matrix:
            for name, code in want.items():
                st = who[name].req("GET", path)[0]
                check(st == code, "%s as %s: %d, want %d" % (path, name, st, code))

        # CSRF
        st, _, _ = sup.req("POST", "/api/logout", csrf=False)
        check(st == 403, "logout without X-CSRF-Token 403")
        st, _, _ = sup.req("POST", "/api/logout", headers={"X-CSRF-Token": "0" * 64}, csrf=False)
        check(st == 403, "logout with a wrong X-CSRF-Token 403")
        check(sup.req("GET", "/api/me")[0] == 200, "session still alive after refused logout")

        # Filters, hostile values.
        st, _, b = sup.req("GET", "/api/calls?limit=2")
        check(st == 200 and len(json.loads(b)) == 2, "limit=2")
        st, _, b2 = sup.req("GET", "/api/calls?limit=2&offset=2")
        check(st == 200 and json.loads(b2)[0]["id"] not in [c["id"] for c in json.loads(b)],
              "offset pages")
        st, _, b = sup.req("GET", "/api/calls?status=answered")
        check(st == 200 and all(c["status"] == "answered" for c in json.loads(b)), "status")
        num = calls[0]["callee"]
        st, _, b = sup.req("GET", "/api/calls?number=" + num)
        check(st == 200 and any(c["id"] == calls[0]["id"] for c in json.loads(b)), "number")
        hostile = [
            ("number=1'%20OR%20'1'='1", (400, 200)),
            ("number=%27%3B%20DROP%20TABLE%20calls%3B--", (400,)),
            ("number=%ff%fe", (400,)),
            ("limit=99999999999999999999", (400,)),
            ("limit=-1", (400,)),
            ("limit=0", (400,)),
            ("from=yesterday", (400,)),
            ("status=bogus", (400,)),
            ("bogus=1", (400,)),
            ("limit=1&limit=2", (400,)),
            ("from=2030-01-01&to=2020-01-01", (400,)),
        ]
        for q, ok in hostile:
            st, _, b = sup.req("GET", "/api/calls?" + q)
            check(st in ok, "hostile %s: %d" % (q, st))
            if st == 400:
                e = json.loads(b)
                check("parameter" in e, "400 names the parameter: %s" % q)
        check(len(json.loads(sup.req("GET", "/api/calls")[2])) == len(calls),
              "calls table intact after hostile queries")
        for path, ok in [("/api/calls/../1", (400, 404)), ("/api/calls/0", (400,)),
                         ("/api/calls/-1", (400,)), ("/api/calls/abc", (400,)),
                         ("/api/calls/99999", (404,)), ("/api/calls/99999999999999999999", (400,)),
                         ("/api/calls/99999/audio", (404,)), ("/nothing", (404,))]:
            st = sup.req("GET", path)[0]
            check(st in ok, "%s: %d" % (path, st))
        check(sup.req("DELETE", "/api/calls")[0] == 405, "wrong method 405")

        # Audio: whole body equals `greffier audio`, and ranges.
        before = list_files(data, "/tmp")
        ogg = os.path.join(tmp, "ref.ogg")
        r = run("-d", data, "audio", str(rec_id), "-o", ogg)
        check(r.returncode == 0, "greffier audio: %s" % r.stderr)
        ref = open(ogg, "rb").read()
        os.unlink(ogg)
        before = list_files(data, "/tmp")
        st, h, whole = sup.req("GET", "/api/calls/%d/audio" % rec_id)
        check(st == 200 and whole == ref, "audio body equals greffier audio output")
        check(h.get("content-type") == "audio/ogg" and h.get("accept-ranges") == "bytes",
              "audio headers")
        n = len(ref)
        for rng, code, want, crange in [
            ("bytes=0-99", 206, ref[:100], "bytes 0-99/%d" % n),
            ("bytes=100-", 206, ref[100:], "bytes 100-%d/%d" % (n - 1, n)),
            ("bytes=-50", 206, ref[-50:], "bytes %d-%d/%d" % (n - 50, n - 1, n)),
            ("bytes=999999999-", 416, b"", "bytes */%d" % n),
            ("bytes=0-9,20-29", 200, ref, None),
            ("bytes=5-2", 200, ref, None),
            ("bytes=0-99999999", 206, ref, "bytes 0-%d/%d" % (n - 1, n)),
        ]:
            st, h, b = sup.req("GET", "/api/calls/%d/audio" % rec_id, headers={"Range": rng})
            check(st == code and b == want, "Range %s: %d, %d bytes" % (rng, st, len(b)))
            if crange:
                check(h.get("content-range") == crange,
                      "Range %s: Content-Range %s" % (rng, h.get("content-range")))
        after = list_files(data, "/tmp")
        new = {f for f in after - before
               if not f.endswith(("index.sqlite-wal", "index.sqlite-shm"))
               and not f.startswith(tmp)}
        # Other processes may write to /tmp meanwhile; greffier's would be in data or named so.
        suspicious = {f for f in new if f.startswith(data) or "greffier" in f or f.endswith(".ogg")}
        check(not suspicious, "no file written during replay: %s" % sorted(suspicious))

        st, _, b = sup.req("GET", "/api/calls/%d/peaks" % rec_id)
        p = json.loads(b)
        check(st == 200 and p["channels"] == 2 and p["per_second"] > 0 and
              len(p["min_max"]) % 4 == 0 and len(p["min_max"]) > 0, "peaks")
        st, _, b = sup.req("GET", "/api/calls/%d" % rec_id)
        c = json.loads(b)
        check(st == 200 and c["id"] == rec_id and "sip_messages" in c, "call detail")
        no_rec = [x["id"] for x in calls if not x["recording"]]
        if no_rec:
            check(sup.req("GET", "/api/calls/%d/audio" % no_rec[0])[0] == 404,
                  "audio of a call without recording 404")

        # UI files.
        for path, typ in [("/", "text/html"), ("/app.js", "text/javascript"),
                          ("/app.css", "text/css")]:
            st, h, b = anon.req("GET", path)
            check(st == 200 and h.get("content-type", "").startswith(typ) and len(b) > 100,
                  "UI %s" % path)

        # Audit rows of this session (as an auditor).
        st, _, b = aud.req("GET", "/api/audit?limit=1000")
        rows = json.loads(b)
        actions = {r["action"] for r in rows}
        for a in ("login.ok", "login.fail", "login.lockout", "search", "replay", "user.add"):
            check(a in actions, "audit has %s" % a)
        check(all(r["ts"] == "2024-05-01T12:00:00.000Z" for r in rows
                  if r["action"] in ("search", "replay")), "GREFFIER_TEST_NOW used")

        # Logout ends the session.
        st, h, _ = sup.req("POST", "/api/logout")
        check(st == 200 and "Max-Age=0" in h.get("set-cookie", ""), "logout")
        check(sup.req("GET", "/api/me")[0] == 401, "session gone after logout")

        # Security headers on every response seen.
        for what, h in responses:
            ok = (h.get("content-security-policy") == "default-src 'self'; frame-ancestors 'none'"
                  and h.get("x-content-type-options") == "nosniff"
                  and h.get("referrer-policy") == "no-referrer")
            if not check(ok, "security headers on %s" % what):
                break
            if "/api/" in what and not check(h.get("cache-control") == "no-store",
                                             "no-store on %s" % what):
                break
    finally:
        stop_serve(srv)

    r = run("-d", data, "audit", "verify")
    check(r.returncode == 0 and b"intact" in r.stdout, "audit verify: %s" % r.stdout)
    subprocess.run(["rm", "-rf", tmp])
    print("%d of %d checks failed" % (len(failures), checks[0]) if failures
          else "ok: web API, %d checks" % checks[0])
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
