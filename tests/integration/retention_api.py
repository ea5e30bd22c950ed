#!/usr/bin/env python3
"""The retention endpoints over HTTP: a data dir with generated calls 200 days before a
frozen "now", one account per role, two `greffier serve --no-capture` (purges without
approval, then a public body where they need it); the role matrix (admin for retention
and purges, auditor for legal holds), CSRF on every state-changing route, 404 for unknown
ids, 409 when approval is required, the slips, the visa, and the "retention" member of
GET /api/calls/{id}.  Python standard library only."""
import json, os, subprocess, sys, tempfile, time
from apiclient import BIN, BUILD, Client, check, checks, failures, free_port, run

NOW = "2024-06-01T12:00:00Z"


def make_data(tmp, name, conf_text):
    data = os.path.join(tmp, name)
    conf = os.path.join(tmp, name + ".conf")
    with open(conf, "w") as f:
        f.write(conf_text)
    pcap = os.path.join(tmp, "calls.pcap")
    if not os.path.exists(pcap):
        start = 1717243200 - 200 * 86400
        subprocess.run([os.path.join(BUILD, "bench", "gen_calls"), "--calls", "8", "--duration",
                        "4", "--start", str(start), "-o", pcap], check=True, capture_output=True)
    run("-d", data, "init", check=True)
    run("-c", conf, "-d", data, "import", pcap, check=True)
    for role in ("admin", "supervisor", "auditor"):
        run("-d", data, "user", "add", role + "1", "--role", role, input=b"a long password 42\n",
            check=True)
    return data, conf


class Server:
    def __init__(self, data, conf):
        self.port = free_port()
        env = dict(os.environ, GREFFIER_TEST_NOW=NOW)
        self.p = subprocess.Popen([BIN, "-c", conf, "-d", data, "serve", "--no-capture",
                                   "--listen", "127.0.0.1:%d" % self.port], env=env,
                                  stderr=subprocess.DEVNULL)
        anon = Client(self.port)
        for _ in range(100):
            try:
                if anon.req("GET", "/healthz")[0] == 200:
                    return
            except OSError:
                time.sleep(0.1)
        check(False, "server did not answer /healthz")

    def clients(self):
        out = {}
        for role in ("admin", "supervisor", "auditor"):
            c = Client(self.port)
            check(c.login(role + "1", "a long password 42") == 200, "login " + role + "1")
            out[role] = c
        out["anon"] = Client(self.port)
        return out

    def stop(self):
        self.p.terminate()
        self.p.wait(timeout=10)


def matrix(cl, call_id):
    """Who may do what: (method, path, body, roles allowed).  Only read-only or
    harmless requests here (a dry run, a hold then its lift by the auditor)."""
    routes = [
        ("GET", "/api/retention", None, {"admin"}),
        ("POST", "/api/purge", {"dry_run": "true"}, {"admin"}),
        ("GET", "/api/purge/proposals/999/slip.csv", None, {"admin"}),
        ("POST", "/api/calls/%d/hold" % call_id, {"reason": "matrix"}, {"auditor"}),
        ("DELETE", "/api/calls/%d/hold" % call_id, None, {"auditor"}),
    ]
    for method, path, body, allowed in routes:
        for role in ("anon", "supervisor", "auditor", "admin"):
            st, _, _ = cl[role].req(method, path, body)
            if role == "anon":
                check(st == 401, "%s %s as anon: %d, want 401" % (method, path, st))
            elif role in allowed:
                want = 404 if "999" in path else 200
                check(st == want, "%s %s as %s: %d, want %d" % (method, path, role, st, want))
            else:
                check(st == 403, "%s %s as %s: %d, want 403" % (method, path, role, st))
    # CSRF: every state-changing route refuses a request without the token.
    for method, path, body, role in [
            ("POST", "/api/purge", {"dry_run": "true"}, "admin"),
            ("POST", "/api/purge/proposals", None, "admin"),
            ("POST", "/api/purge/proposals/1/approve", {"visa": "x"}, "admin"),
            ("POST", "/api/calls/%d/hold" % call_id, {"reason": "x"}, "auditor"),
            ("DELETE", "/api/calls/%d/hold" % call_id, None, "auditor")]:
        st, _, b = cl[role].req(method, path, body, csrf=False)
        check(st == 403 and b"csrf" in b, "%s %s without CSRF token: %d" % (method, path, st))


def main():
    tmp = tempfile.mkdtemp(prefix="greffier-retention-api-")
    data, conf = make_data(tmp, "plain", "[retention]\npurge_approval = none\n")
    calls = json.loads(run("-d", data, "calls", "--json", check=True).stdout)
    ids = sorted(c["id"] for c in calls)
    srv = Server(data, conf)
    try:
        cl = srv.clients()
        matrix(cl, ids[0])
        st, h, b = cl["anon"].req("GET", "/retention.js")
        check(st == 200 and h.get("content-type", "").startswith("text/javascript")
              and b"function retentionRoute" in b, "GET /retention.js: %d" % st)
        st, h, b = cl["anon"].req("GET", "/")
        check(st == 200 and b'src="/retention.js"' in b and b'id="view-retention"' in b,
              "the page loads retention.js and has its view")
        adm, aud = cl["admin"], cl["auditor"]

        st, _, b = adm.req("GET", "/api/retention")
        o = json.loads(b) if st == 200 else {}
        check(o.get("default_days") == 180 and o.get("approval_required") is False,
              "retention overview: defaults")
        check(len(o.get("next", [])) == len(ids) and all(n["expired"] for n in o["next"]),
              "retention overview: every call listed as expired")
        check(any(g["rule"] == "default" and g["calls"] == len(ids) for g in o.get("by_rule", [])),
              "retention overview: by rule")

        # Legal hold over HTTP, then GET /api/calls/{id} shows it.
        st, _, b = aud.req("POST", "/api/calls/%d/hold" % ids[0], {"reason": "plainte 7"})
        check(st == 200 and json.loads(b)["legal_hold"] is True, "hold: %d %s" % (st, b))
        st, _, b = aud.req("POST", "/api/calls/999999/hold", {"reason": "x"})
        check(st == 404, "hold of an unknown call: %d" % st)
        st, _, b = aud.req("DELETE", "/api/calls/%d/hold" % ids[1])
        check(st == 404, "lifting a hold that is not there: %d" % st)
        st, _, b = aud.req("POST", "/api/calls/%d/hold" % ids[0], None, csrf=True)
        check(st == 200 and json.loads(b)["changed"] is False, "holding twice: %d %s" % (st, b))
        st, _, b = aud.req("GET", "/api/calls/%d" % ids[0])
        r = json.loads(b).get("retention") if st == 200 else None
        check(r and r["legal_hold"] and r["legal_hold"]["reason"] == "plainte 7"
              and r["legal_hold"]["user"] == "auditor1" and r["expires"] is None
              and r["days"] == 180 and r["rule"] == "default",
              "GET /api/calls/{id}: retention with the hold: %s" % r)
        st, _, b = aud.req("GET", "/api/calls/%d" % ids[1])
        r = json.loads(b).get("retention") if st == 200 else None
        check(r and r["legal_hold"] is None and r["expires"].startswith("2024-05-12T")
              and r["days"] == 180, "GET /api/calls/{id}: retention: %s" % r)

        st, _, b = adm.req("POST", "/api/purge", {"dry_run": "maybe"})
        check(st == 400, "purge with a bad dry_run: %d" % st)
        st, _, b = adm.req("POST", "/api/purge", {"dry_run": "false"})
        res = json.loads(b) if st == 200 else {}
        check(st == 200 and res.get("purged") == len(ids) - 1 and res.get("skipped_held") == 0,
              "purge: %d %s" % (st, b))
        left = [c["id"] for c in json.loads(run("-d", data, "calls", "--json").stdout)]
        check(left == [ids[0]], "after the web purge only the held call is left: %s" % left)
        st, _, b = adm.req("GET", "/api/retention")
        hist = json.loads(b)["history"] if st == 200 else []
        check(any(h["reason"] == "retention" and h["calls"] == len(ids) - 1 for h in hist),
              "purge history from the tombstones: %s" % hist)
        st, _, _ = adm.req("POST", "/api/purge/proposals/5/approve", {"visa": "x"})
        check(st == 404, "approving an unknown proposal: %d" % st)
        st, _, _ = adm.req("GET", "/api/purge/proposals/0/slip.csv")
        check(st == 400, "proposal id 0: %d" % st)
    finally:
        srv.stop()

    # A public body: plain purges are refused (409), a proposal and its visa go through.
    data, conf = make_data(tmp, "public", "[retention]\npublic_body = yes\n")
    n = len(json.loads(run("-d", data, "calls", "--json", check=True).stdout))
    srv = Server(data, conf)
    try:
        cl = srv.clients()
        adm = cl["admin"]
        st, _, b = adm.req("POST", "/api/purge", {"dry_run": "false"})
        check(st == 409 and b"approval_required" in b, "public body: purge %d, want 409" % st)
        st, _, b = adm.req("POST", "/api/purge/proposals")
        p = json.loads(b) if st == 200 else {}
        check(st == 200 and p.get("id") and p.get("calls") == n, "proposal: %d %s" % (st, b))
        pid = p.get("id") or 1
        st, h, b = adm.req("GET", "/api/purge/proposals/%d/slip.csv" % pid)
        check(st == 200 and h.get("content-type", "").startswith("text/csv")
              and b.count(b"\r\n") >= n + 3, "slip.csv: %d" % st)
        st, h, b = adm.req("GET", "/api/purge/proposals/%d/slip.html" % pid)
        check(st == 200 and "Bordereau d'élimination".encode() in b, "slip.html: %d" % st)
        st, _, b = cl["supervisor"].req("GET", "/api/purge/proposals/%d/slip.html" % pid)
        check(st == 403, "slip as supervisor: %d" % st)
        st, _, b = adm.req("POST", "/api/purge/proposals/%d/approve" % pid, {})
        check(st == 400, "approve without a visa: %d" % st)
        st, _, b = adm.req("POST", "/api/purge/proposals/%d/approve" % pid, {"visa": "AD-2024-1"})
        check(st == 200 and json.loads(b).get("purged") == n, "approve: %d %s" % (st, b))
        st, _, b = adm.req("POST", "/api/purge/proposals/%d/approve" % pid, {"visa": "AD-2024-1"})
        check(st == 409, "approving twice: %d, want 409" % st)
        st, _, b = adm.req("GET", "/api/retention")
        props = json.loads(b)["proposals"] if st == 200 else []
        check(props and props[0]["state"] == "executed" and props[0]["visa"] == "AD-2024-1"
              and props[0]["approved_by"] == "admin1", "proposal executed: %s" % props)
    finally:
        srv.stop()
    r = run("-d", data, "audit", "verify")
    check(r.returncode == 0, "audit verify after the web purges")
    r = run("-d", data, "audit", "list")
    actions = [x["action"] for x in json.loads(r.stdout)]
    for a in ("purge_propose", "purge_approve", "purge", "purge.slip"):
        check(a in actions, "audited: " + a)

    print("retention_api: %d checks, %d failed" % (checks[0], len(failures)))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
