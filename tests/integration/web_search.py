#!/usr/bin/env python3
"""The web search and annotations end to end: a data dir with generated calls, one
account per role, a running `greffier serve --no-capture`, then the new filters (q over
FTS5, direction, min_duration, tag), keyset paging, tags and notes (role x endpoint
matrix, CSRF, validation, authorship, audit rows), GET /api/alarms, hostile q values
(FTS5 syntax, SQL, bad UTF-8, huge), ids with path traversal, Range edge cases, no
plaintext audio ("OggS") written to disk during replay; then TLS: HTTPS with a
self-signed certificate, the Secure cookie, and plain HTTP refused on a non-loopback
address unless allowed.  Python standard library only."""
import http.client, json, os, shutil, subprocess, sys, tempfile
import urllib.parse
from apiclient import BIN, BUILD, Client, check, checks, failures, free_port, run
from apiclient import start_serve, stop_serve

NOW = "2024-05-01T12:00:00Z"


def files_with_oggs(*dirs, start_only=False):
    """Files under dirs (not following links) that hold an Ogg page header (anywhere, or
    at the start: an Ogg file, not a compiler's object file in a shared /tmp)."""
    found = set()
    for d in dirs:
        for root, _, files in os.walk(d):
            for f in files:
                p = os.path.join(root, f)
                try:
                    if os.path.islink(p) or not os.path.isfile(p):
                        continue
                    with open(p, "rb") as fh:
                        head = fh.read(1 << 22)
                        if head.startswith(b"OggS") if start_only else b"OggS" in head:
                            found.add(p)
                except OSError:
                    pass
    return found


def api_tests(tmp, data, calls, passwords):
    port = free_port()
    srv = start_serve(data, port, now=NOW)
    try:
        sup, sup2, aud, adm, anon = (Client(port) for _ in range(5))
        check(sup.login("supervisor1", passwords["supervisor"]) == 200, "supervisor login")
        check(sup2.login("supervisor2", passwords["supervisor"]) == 200, "supervisor2 login")
        check(aud.login("auditor1", passwords["auditor"]) == 200, "auditor login")
        check(adm.login("admin1", passwords["admin"]) == 200, "admin login")
        cid = calls[0]["id"]
        other = calls[1]["id"]

        # Tags: role matrix (POST), validation, idempotence, search by tag and by q.
        for who, name, want in [(sup, "sup", 201), (aud, "aud", 200), (adm, "adm", 403),
                                (anon, "anon", 401)]:
            st, _, _ = who.req("POST", "/api/calls/%d/tags" % cid, {"tag": "litige"})
            check(st == want, "POST tag as %s: %d, want %d" % (name, st, want))
        st, _, _ = sup.req("POST", "/api/calls/%d/tags" % cid, {"tag": "litige"}, csrf=False)
        check(st == 403, "POST tag without CSRF: %d" % st)
        st, _, _ = sup.req("POST", "/api/calls/%d/tags" % cid, {"tag": "x"},
                           headers={"X-CSRF-Token": "f" * 64}, csrf=False)
        check(st == 403, "POST tag with a wrong CSRF token: %d" % st)
        for bad in ["", "has space", "a'b", "x" * 32, "é", "../x", "a;DROP TABLE calls"]:
            st, _, b = sup.json("POST", "/api/calls/%d/tags" % cid, {"tag": bad})
            check(st == 400 and b and b.get("error") == "bad_tag", "bad tag %r: %d" % (bad, st))
        for raw in [b"", b"{", b'{"tag": 5}', b'["litige"]', b'{"other":"x"}']:
            st, _, _ = sup.req("POST", "/api/calls/%d/tags" % cid, raw_body=raw,
                               headers={"Content-Type": "application/json"})
            check(st == 400, "tag body %r: %d" % (raw, st))
        check(sup.req("POST", "/api/calls/999999/tags", {"tag": "x"})[0] == 404,
              "tag on an unknown call 404")
        check(sup.req("POST", "/api/calls/..%2F1/tags", {"tag": "x"})[0] in (400, 404),
              "tag with a traversal id refused")
        st, _, b = sup.json("GET", "/api/calls?tag=litige")
        check(st == 200 and [c["id"] for c in b] == [cid], "search by tag: %s" % b)
        st, _, b = sup.json("GET", "/api/calls?q=litige")
        check(st == 200 and [c["id"] for c in b] == [cid], "q finds the tag")
        st, _, b = sup.json("GET", "/api/calls/%d" % cid)
        check(st == 200 and b["tags"] == ["litige"], "call detail has tags: %s" % b.get("tags"))
        check(sup.req("GET", "/api/calls?tag=bad%20tag")[0] == 400, "tag filter validated")

        # Tag removal.
        check(adm.req("DELETE", "/api/calls/%d/tags/litige" % cid)[0] == 403, "admin DELETE tag")
        check(anon.req("DELETE", "/api/calls/%d/tags/litige" % cid)[0] == 401, "anon DELETE tag")
        check(sup.req("DELETE", "/api/calls/%d/tags/litige" % cid, csrf=False)[0] == 403,
              "DELETE tag without CSRF")
        check(sup.req("DELETE", "/api/calls/%d/tags/bad'tag" % cid)[0] == 400, "DELETE bad tag")
        check(aud.req("DELETE", "/api/calls/%d/tags/litige" % cid)[0] == 200, "auditor DELETE tag")
        check(aud.req("DELETE", "/api/calls/%d/tags/litige" % cid)[0] == 404, "DELETE tag again")
        check(sup.req("DELETE", "/api/calls/999999/tags/litige")[0] == 404, "DELETE tag, no call")
        st, _, b = sup.json("GET", "/api/calls?tag=litige")
        check(st == 200 and b == [], "tag gone from search")
        sup.req("POST", "/api/calls/%d/tags" % cid, {"tag": "suivi"})

        # Notes: add, in detail and search, authorship on delete, admin may delete any.
        text = "Client mécontent, rappeler M. Müller"
        st, _, b = sup.json("POST", "/api/calls/%d/notes" % cid, {"text": text})
        check(st == 201 and b and b.get("id", 0) > 0, "POST note as supervisor: %d" % st)
        note = b["id"] if b else 0
        st, _, b = aud.json("POST", "/api/calls/%d/notes" % other, {"text": "vu par l'audit"})
        check(st == 201, "POST note as auditor")
        note_aud = b["id"] if b else 0
        check(adm.req("POST", "/api/calls/%d/notes" % cid, {"text": "x"})[0] == 403,
              "admin POST note 403")
        check(anon.req("POST", "/api/calls/%d/notes" % cid, {"text": "x"})[0] == 401,
              "anon POST note 401")
        check(sup.req("POST", "/api/calls/%d/notes" % cid, {"text": "x"}, csrf=False)[0] == 403,
              "POST note without CSRF")
        for bad in ["", "   ", "a\rb", "a\x1b[31mb", "a\u202eb", "x" * 4001]:
            st, _, _ = sup.req("POST", "/api/calls/%d/notes" % cid, {"text": bad})
            check(st == 400, "bad note %r: %d" % (bad[:20], st))
        st, _, _ = sup.req("POST", "/api/calls/%d/notes" % cid,
                           raw_body=b'{"text": "\xff\xfe"}',
                           headers={"Content-Type": "application/json"})
        check(st == 400, "note with bad UTF-8: %d" % st)
        check(sup.req("POST", "/api/calls/999999/notes", {"text": "x"})[0] == 404,
              "note on an unknown call 404")
        st, _, b = sup.json("GET", "/api/calls/%d" % cid)
        notes = b.get("notes", []) if b else []
        check(st == 200 and len(notes) == 1 and notes[0]["text"] == text and
              notes[0]["user"] == "supervisor1" and notes[0]["ts"].startswith("2024-05-01T12:00"),
              "call detail has the note: %s" % notes)
        st, _, b = sup.json("GET", "/api/calls?q=" + urllib.parse.quote("mecontent muller"))
        check(st == 200 and [c["id"] for c in b] == [cid], "q finds the note (accents folded)")
        st, _, _ = sup2.req("DELETE", "/api/calls/%d/notes/%d" % (cid, note))
        check(st == 403, "another supervisor cannot delete the note: %d" % st)
        st, _, _ = sup.req("DELETE", "/api/calls/%d/notes/%d" % (other, note))
        check(st == 404, "note id of another call 404: %d" % st)
        for bad in ["0", "-1", "abc", "1e3", "99999999999999999999"]:
            st = sup.req("DELETE", "/api/calls/%d/notes/%s" % (cid, bad))[0]
            check(st == 400, "DELETE note %s: %d" % (bad, st))
        check(sup.req("DELETE", "/api/calls/%d/notes/%d" % (cid, note), csrf=False)[0] == 403,
              "DELETE note without CSRF")
        check(anon.req("DELETE", "/api/calls/%d/notes/%d" % (cid, note))[0] == 401,
              "anon DELETE note")
        check(sup.req("DELETE", "/api/calls/%d/notes/%d" % (cid, note))[0] == 200,
              "author deletes the note")
        check(sup.req("DELETE", "/api/calls/%d/notes/%d" % (cid, note))[0] == 404,
              "note deleted twice: 404")
        check(adm.req("DELETE", "/api/calls/%d/notes/%d" % (other, note_aud))[0] == 200,
              "admin deletes someone else's note")
        st, _, b = sup.json("GET", "/api/calls?q=mecontent")
        check(st == 200 and b == [], "deleted note gone from search")

        # Alarms: any role, none raised.
        for who, name, want in [(sup, "sup", 200), (aud, "aud", 200), (adm, "adm", 200),
                                (anon, "anon", 401)]:
            st, _, b = who.json("GET", "/api/alarms")
            check(st == want, "GET alarms as %s: %d" % (name, st))
            if st == 200:
                check(b == {"alarms": []}, "no alarm: %s" % b)

        # An alarm written by another process (as the capture would) shows for every role.
        import sqlite3
        db = sqlite3.connect(os.path.join(data, "index.sqlite"), timeout=10)
        db.execute("INSERT INTO alarms (name, severity, active, raised_at, message)"
                   " VALUES ('disk_low', 'warning', 1, '2024-05-01T12:00:00Z', '4% free')")
        db.commit()
        db.close()
        st, _, b = adm.json("GET", "/api/alarms")
        check(st == 200 and b and [(a["name"], a["active"]) for a in b["alarms"]] ==
              [("disk_low", True)], "an active alarm is listed: %s" % b)

        # Filters.
        st, _, b = sup.json("GET", "/api/calls?direction=inbound")
        check(st == 200 and all(c["direction"] == "inbound" for c in b), "direction filter")
        check(sup.req("GET", "/api/calls?direction=sideways")[0] == 400, "bad direction 400")
        st, _, b = sup.json("GET", "/api/calls?min_duration=5")
        check(st == 200 and b and all(c["duration_s"] is not None and c["duration_s"] >= 5
                                      for c in b), "min_duration filter")
        st, _, b = sup.json("GET", "/api/calls?min_duration=3600")
        check(st == 200 and b == [], "min_duration above every call: none")
        for bad in ["-1", "abc", "99999999999", "1.5"]:
            check(sup.req("GET", "/api/calls?min_duration=" + bad)[0] == 400,
                  "bad min_duration %s" % bad)
        st, _, b = sup.json("GET", "/api/calls?limit=1")
        check(st == 200 and "tags" in b[0] and "mos_min" in b[0], "results have tags and mos_min")
        num = calls[2]["caller"]
        st, _, b = sup.json("GET", "/api/calls?q=" + urllib.parse.quote(num))
        check(st == 200 and calls[2]["id"] in [c["id"] for c in b], "q finds a number")

        # Keyset paging walks every call once, newest first, and stops.
        seen, cursor, pages = [], None, 0
        while pages < 50:
            path = "/api/calls?limit=2" + ("&cursor=" + cursor if cursor else "")
            st, h, b = sup.json("GET", path)
            check(st == 200, "page %d" % pages)
            seen += [c["id"] for c in b]
            pages += 1
            cursor = h.get("x-next-cursor")
            if not cursor:
                break
        check(seen == [c["id"] for c in calls], "cursor pages = the full list: %s" % seen)
        for bad in ["x", "1", "1.2.3", "-1.2", "1.0"]:
            check(sup.req("GET", "/api/calls?cursor=" + bad)[0] == 400, "bad cursor %s" % bad)
        check(sup.req("GET", "/api/calls?cursor=1.1&offset=2")[0] == 400, "cursor with offset")

        # Hostile q: never a 500, never a crash, the table intact.
        hostile = ['"', '""', "*", "NEAR(", "NEAR(a b, 2)", "a OR b", "OR", "-", ":",
                   "body:x", "^a", "a AND NOT b", "(a", "' OR '1'='1", "'; DROP TABLE calls;--",
                   "%", "_", "\\", "a\tb", "x" * 256, "日本語", "\u202e123"]
        for q in hostile:
            st, _, b = sup.json("GET", "/api/calls?q=" + urllib.parse.quote(q))
            check(st in (200, 400), "hostile q %r: %d" % (q[:30], st))
            if st == 400:
                check(b and b.get("parameter") == "q", "400 names q for %r" % q[:30])
        for raw in ["%ff%fe", "x" * 257, "+".join(["w"] * 9), "%01"]:
            st, _, b = sup.json("GET", "/api/calls?q=" + raw)
            check(st == 400 and b and b.get("parameter") == "q", "q=%s: %d" % (raw[:20], st))
        check(sup.req("GET", "/api/calls?q=" + "x" * 70000)[0] in (400, 414, 431),
              "huge URL refused")
        st, _, b = sup.json("GET", "/api/calls")
        check(st == 200 and len(b) == len(calls), "calls intact after hostile q")
        for path in ["/api/calls/1/../2", "/api/calls/%2e%2e/1", "/api/calls/1%2F..%2F2",
                     "/api/calls/1/tags/..", "/api/calls/1/notes/..%2F..%2Fetc"]:
            st = sup.req("GET", path)[0]
            check(st in (400, 404, 405), "traversal %s: %d" % (path, st))

        # Range edge cases and no plaintext audio on disk.
        rec = next(c["id"] for c in calls if c["recording"])
        before = files_with_oggs(data) | files_with_oggs("/tmp", start_only=True)
        st, h, whole = sup.req("GET", "/api/calls/%d/audio" % rec)
        n = len(whole)
        check(st == 200 and whole[:4] == b"OggS", "audio served as Ogg")
        for rng, code, want in [("bytes=0-", 206, whole), ("bytes=-1", 206, whole[-1:]),
                                ("bytes=%d-" % (n - 1), 206, whole[-1:]),
                                ("bytes=%d-" % n, 416, b""), ("bytes=-%d" % (n + 10), 206, whole),
                                ("bytes=0-0,5-9", 200, whole), ("bytes=x-y", 200, whole),
                                ("items=0-5", 200, whole)]:
            st, h, b = sup.req("GET", "/api/calls/%d/audio" % rec, headers={"Range": rng})
            check(st == code and b == want, "Range %s: %d (%d bytes)" % (rng, st, len(b)))
            if code == 416:
                check(h.get("content-range") == "bytes */%d" % n, "416 Content-Range")
        after = files_with_oggs(data) | files_with_oggs("/tmp", start_only=True)
        new = {f for f in after - before if not f.startswith(tmp)}
        check(not new, "no plaintext Ogg written during replay: %s" % sorted(new))

        # Audit rows.
        st, _, rows = aud.json("GET", "/api/audit?limit=1000")
        actions = [r["action"] for r in rows]
        for a in ("tag.add", "tag.remove", "note.add", "note.remove"):
            check(a in actions, "audit has %s" % a)
        st, _, trail = aud.json("GET", "/api/audit?target=%d" % cid)
        check(st == 200 and trail and all(r["target"] == str(cid) for r in trail) and
              {"tag.add", "note.add", "call.view"} <= {r["action"] for r in trail},
              "audit of one call: %s" % sorted({r["action"] for r in trail or []}))
        check(sup.req("GET", "/api/audit?target=%d" % cid)[0] == 403, "supervisor: no audit")
        for bad in ["", "a%20b", "x" * 65, "1;DROP", "%ff"]:
            check(aud.req("GET", "/api/audit?target=" + bad)[0] == 400, "audit target %r" % bad)
        searches = [json.loads(r["detail"]) for r in rows if r["action"] == "search"]
        check(any(d.get("q") == "litige" for d in searches), "search audit has q")
    finally:
        stop_serve(srv)
    r = run("-d", data, "audit", "verify")
    check(r.returncode == 0, "audit verify: %s" % r.stdout)
    # The CLI gained the same filters.
    r = run("-d", data, "calls", "--json", "--tag", "suivi")
    check(r.returncode == 0 and [c["id"] for c in json.loads(r.stdout)] == [calls[0]["id"]],
          "calls --tag")
    r = run("-d", data, "calls", "--q", '" * : (')
    check(r.returncode == 2, "calls --q with no word is a usage error")
    r = run("-d", data, "calls", "--direction", "nowhere")
    check(r.returncode == 2, "calls --direction checked")


def tls_tests(tmp, data, passwords):
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    r = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
                        "-days", "2", "-subj", "/CN=localhost", "-addext",
                        "subjectAltName=DNS:localhost,IP:127.0.0.1"], capture_output=True)
    if not check(r.returncode == 0, "openssl req: %s" % r.stderr):
        return
    conf = os.path.join(tmp, "tls.conf")
    with open(conf, "w") as f:
        f.write("[http]\ntls_cert = %s\ntls_key = %s\n" % (cert, key))
    port = free_port()
    srv = start_serve(data, port, conf, tls_ca=cert, now=NOW)
    try:
        c = Client(port, tls_ca=cert)
        st, _, b = c.req("GET", "/healthz")
        check(st == 200, "HTTPS healthz")
        check(c.login("supervisor1", passwords["supervisor"]) == 200, "login over HTTPS")
        check("Secure" in (c.set_cookie or ""), "cookie Secure under TLS: %s" % c.set_cookie)
        check("HttpOnly" in (c.set_cookie or ""), "cookie HttpOnly under TLS")
        check(c.req("GET", "/api/calls?limit=1")[0] == 200, "search over HTTPS")
        # Plain HTTP to the TLS port gets no answer.
        try:
            p = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            p.request("GET", "/healthz")
            plain = p.getresponse().status
        except (OSError, http.client.HTTPException):
            plain = None
        check(plain != 200, "plain HTTP to the TLS port does not work")
    finally:
        stop_serve(srv)

    # Non-loopback: plain refused, allowed by the explicit key, TLS accepted.
    def serve_briefly(conf_text, addr):
        cf = os.path.join(tmp, "nl.conf")
        with open(cf, "w") as f:
            f.write(conf_text)
        p = subprocess.Popen([BIN, "-c", cf, "-d", data, "serve", "--no-capture", "--listen",
                              "%s:%d" % (addr, free_port())], stderr=subprocess.PIPE)
        try:
            _, err = p.communicate(timeout=3)
            return p.returncode, err
        except subprocess.TimeoutExpired:
            p.terminate()
            _, err = p.communicate(timeout=20)
            return "running", err

    rc, err = serve_briefly("[http]\n", "0.0.0.0")
    check(rc not in ("running", 0) and b"loopback" in err, "plain on 0.0.0.0 refused: %s" % rc)
    rc, err = serve_briefly("[http]\nallow_plain_non_loopback = yes\n", "0.0.0.0")
    check(rc == "running", "plain on 0.0.0.0 allowed explicitly: %s %s" % (rc, err[-200:]))
    rc, err = serve_briefly("[http]\ntls_cert = %s\ntls_key = %s\n" % (cert, key), "0.0.0.0")
    check(rc == "running", "TLS on 0.0.0.0 accepted: %s %s" % (rc, err[-200:]))
    rc, err = serve_briefly("[http]\ntls_cert = %s\n" % cert, "127.0.0.1")
    check(rc not in ("running", 0), "tls_cert without tls_key refused")


def main():
    tmp = tempfile.mkdtemp(prefix="greffier-websearch-")
    data = os.path.join(tmp, "data")
    pcap = os.path.join(tmp, "calls.pcap")
    subprocess.run([os.path.join(BUILD, "bench", "gen_calls"), "--calls", "8", "--duration",
                    "8", "--seed", "7", "-o", pcap], check=True, capture_output=True)
    run("-d", data, "init", check=True)
    run("-d", data, "import", pcap, check=True)
    calls = json.loads(run("-d", data, "calls", "--json", check=True).stdout)
    check(len(calls) >= 4, "the generated capture has calls")
    passwords = {}
    for role, names in (("admin", ["admin1"]), ("supervisor", ["supervisor1", "supervisor2"]),
                        ("auditor", ["auditor1"])):
        pwfile = os.path.join(tmp, role + ".pw")
        passwords[role] = role + " password 42"
        with open(pwfile, "w") as f:
            f.write(passwords[role] + "\n")
        for n in names:
            r = run("-d", data, "user", "add", n, "--role", role, "--password-file", pwfile)
            check(r.returncode == 0, "user add %s: %s" % (n, r.stderr))
    api_tests(tmp, data, calls, passwords)
    tls_tests(tmp, data, passwords)
    shutil.rmtree(tmp, ignore_errors=True)
    print("%d of %d checks failed" % (len(failures), checks[0]) if failures
          else "ok: web search, annotations, TLS, %d checks" % checks[0])
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
