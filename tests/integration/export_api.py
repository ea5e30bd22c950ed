#!/usr/bin/env python3
"""POST /api/export end to end (docs/API.md): an auditor gets a zip that `greffier
verify-bundle` accepts, with the download named after the sanitised case reference; the
calls are held ("hold": "false" holds none); a supervisor and an admin get 403, no case
400, malformed ids 400, an unknown id 404, no CSRF token 403; every export and refusal is
audited and the chain verifies.  Started by export.sh; Python standard library only."""
import json, os, sqlite3, subprocess, sys, tempfile, zipfile
from apiclient import BIN, BUILD, Client, check, checks, failures, free_port, run
from apiclient import start_serve, stop_serve


def main():
    tmp = tempfile.mkdtemp(prefix="greffier-export-api-")
    data = os.path.join(tmp, "data")
    pcap = os.path.join(tmp, "calls.pcap")
    subprocess.run([os.path.join(BUILD, "bench", "gen_calls"), "--calls", "4", "--duration",
                    "6", "-o", pcap], check=True, capture_output=True)
    run("-d", data, "init", check=True)
    run("-d", data, "import", pcap, check=True)
    calls = json.loads(run("-d", data, "calls", "--json", check=True).stdout)
    rec = sorted(c["id"] for c in calls if c["recording"])
    if not check(len(rec) >= 2, "two recorded calls"):
        return 1
    pw = "export test password 42"
    pwfile = os.path.join(tmp, "pw")
    with open(pwfile, "w") as f:
        f.write(pw + "\n")
    for role in ("admin", "supervisor", "auditor"):
        check(run("-d", data, "user", "add", role + "1", "--role", role, "--password-file",
                  pwfile).returncode == 0, "user add " + role)

    port = free_port()
    srv = start_serve(data, port, now="2024-05-01T12:00:00Z")
    try:
        anon = Client(port)
        aud, sup, adm = Client(port), Client(port), Client(port)
        check(aud.login("auditor1", pw) == 200, "auditor login")
        check(sup.login("supervisor1", pw) == 200, "supervisor login")
        check(adm.login("admin1", pw) == 200, "admin login")
        ids = "%d,%d" % (rec[0], rec[1])
        body = {"ids": ids, "case": "TJ Lyon 24/01234 \"x\"", "hold": "true"}

        check(anon.req("POST", "/api/export", body)[0] == 401, "no session 401")
        check(sup.req("POST", "/api/export", body)[0] == 403, "supervisor 403")
        check(adm.req("POST", "/api/export", body)[0] == 403, "admin 403")
        check(aud.req("POST", "/api/export", body, csrf=False)[0] == 403, "no CSRF token 403")
        for bad_body, param in (({"ids": ids}, "case"), ({"ids": ids, "case": ""}, "case"),
                                ({"case": "K"}, "ids"), ({"ids": "1,,2", "case": "K"}, "ids"),
                                ({"ids": "1 2", "case": "K"}, "ids"), ({"ids": "-1", "case": "K"}, "ids"),
                                ({"ids": ids, "case": "K", "hold": "yes"}, "hold"),
                                ({"ids": ids, "case": "K\u0001"}, "case")):
            st, _, b = aud.req("POST", "/api/export", bad_body)
            check(st == 400 and json.loads(b).get("parameter") == param,
                  "%s: want 400 on %s, got %d %s" % (bad_body, param, st, b[:200]))
        st, _, b = aud.req("POST", "/api/export", None, raw_body=b"")
        check(st == 400, "empty body 400 (%d)" % st)
        st, _, b = aud.req("POST", "/api/export", {"ids": "%d,999999" % rec[0], "case": "K"})
        check(st == 404 and json.loads(b)["error"] == "not_found", "unknown id 404: %d %s" % (st, b))

        st, h, b = aud.req("POST", "/api/export", body)
        check(st == 200, "auditor export 200 (%d %s)" % (st, b[:300]))
        check(h.get("content-type") == "application/zip", "content-type %s" % h.get("content-type"))
        check(h.get("content-disposition") ==
              'attachment; filename="greffier-export-TJ_Lyon_24_01234__x_.zip"',
              "content-disposition %s" % h.get("content-disposition"))
        check(h.get("cache-control") == "no-store", "no-store on the export")
        zpath = os.path.join(tmp, "web.zip")
        with open(zpath, "wb") as f:
            f.write(b)
        r = run("verify-bundle", zpath, "--pubkey", os.path.join(data, "keys", "signing.pub"))
        check(r.returncode == 0, "verify-bundle of the web zip: %s" % r.stdout.decode()[-2000:])
        z = zipfile.ZipFile(zpath)
        man = json.loads(z.read("manifest.json"))
        check(man["exported_by"] == "auditor1" and man["case"] == body["case"],
              "manifest names the auditor and the case")
        check("call-%d/recording.wav" % rec[1] in z.namelist(), "the zip holds the recordings")

        st, _, b = aud.req("POST", "/api/export", {"ids": str(rec[-1]), "case": "nohold",
                                                     "hold": "false"})
        check(st == 200, "export with hold false")
    finally:
        stop_serve(srv)

    db = sqlite3.connect(os.path.join(data, "index.sqlite"))
    held = sorted(r[0] for r in db.execute("SELECT call_ref FROM legal_holds"))
    check(held == [rec[0], rec[1]] if rec[-1] not in (rec[0], rec[1]) else True,
          "held calls %s, want %s" % (held, [rec[0], rec[1]]))
    rows = [(a, t, u) for a, t, u in db.execute("SELECT action, target, user FROM audit")]
    check(("export", ids, "auditor1") in rows, "export audited: %s" % rows)
    check(any(a == "export.refused" and u == "auditor1" for a, _, u in rows), "refusal audited")
    db.close()
    r = run("-d", data, "audit", "verify")
    check(r.returncode == 0 and b"intact" in r.stdout, "audit verify: %s" % r.stdout)
    subprocess.run(["rm", "-rf", tmp])
    print("%d of %d checks failed" % (len(failures), checks[0]) if failures
          else "ok: export API, %d checks" % checks[0])
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
