#!/usr/bin/env python3
"""On-demand recording end to end (docs/RULES.md "On demand").

A generated capture of 7 answered calls, imported under one rule whose action is
on_demand (grace 20 s of packet time), with RFC 4733 keys placed by gen_calls --dtmf-call:

  call 0  inbound, the agent (callee) dials *1       -> kept by dtmf, recorded from the start
  call 1  internal, the callee dials *9              -> kept, tagged malicious, on legal
                                                        hold, alarm active and logged
  call 2  internal, no key                           -> discarded by grace during the import
  call 3  inbound, the OUTSIDE party (caller) dials *1 -> ignored: still pending at the end
                                                        of the import, then discarded by
                                                        grace when a later capture moves
                                                        packet time past its deadline
  call 4  outbound, the agent (caller) dials *0      -> discarded by dtmf during the call
  call 5  outbound, no key, pending at the end       -> kept through POST /api/calls/5/keep
  call 6  last, no key, pending at the end           -> discarded through the API

Then: every discarded call left no file (its recording name, the .part name) in the data
directory, /tmp or /var/tmp, and no file there holds the first bytes of the sealed file
that was destroyed by the API (read while it was pending), nor an Ogg page of any of the
discarded calls' streams (plaintext); the audit chain holds each decision with who made
it; `greffier keep/discard` refuse a call already decided; roles are enforced.  A
recorded call's agent marks it malicious by DTMF; SIP INFO keys (application/dtmf-relay)
count from the agent's side and not from the outside party's.
Python standard library only."""
import json, os, sqlite3, struct, subprocess, sys, tempfile, time
from apiclient import BIN, BUILD, Client, check, checks, failures, free_port, run
from apiclient import start_serve, stop_serve

GEN = os.path.join(BUILD, "bench", "gen_calls")


def fnv1a64(s):
    h = 0xcbf29ce484222325
    for b in s.encode():
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def fnv1a32(s):
    h = 2166136261
    for b in s.encode():
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    return h


def files_under(*dirs, newer_than=0.0):
    out = []
    for d in dirs:
        for root, _, names in os.walk(d, onerror=lambda e: None):
            for n in names:
                p = os.path.join(root, n)
                try:
                    st = os.lstat(p)
                except OSError:
                    continue
                if os.path.isfile(p) and not os.path.islink(p) and st.st_mtime >= newer_than:
                    out.append(p)
    return out


def by_index(calls, truth):
    """The calls JSON objects in the truth file's order (matched by Call-ID)."""
    m = {c["call_id"]: c for c in calls}
    return [m.get(t["call_id"]) for t in truth]


def main():
    tmp = tempfile.mkdtemp(prefix="greffier-ondemand-")
    started = time.time() - 2
    data = os.path.join(tmp, "data")
    pcap = os.path.join(tmp, "x.pcap")
    conf = os.path.join(tmp, "g.conf")
    keys = ["0:callee:*1", "1:callee:*9", "3:caller:*1", "4:caller:*0"]
    args = [GEN, "--calls", "7", "--duration", "8", "--scenario", "answered", "--seed", "4",
            "--concurrency", "2", "-o", pcap]
    for k in keys:
        args += ["--dtmf-call", k]
    subprocess.run(args, check=True, capture_output=True)
    truth = json.load(open(os.path.join(tmp, "x.truth.json")))["calls"]
    dirs = [t["direction"] for t in truth]
    if not check(dirs[:5] == ["inbound", "internal", "internal", "inbound", "outbound"],
                 "gen_calls seed 4 gives the directions this test is written for: %s" % dirs):
        return
    with open(conf, "w") as f:
        f.write("[numbers]\ninternal = 2xxx\ntrunks = 192.0.2.1\n\n"
                "[rules]\non_demand_grace = 20\n\n"
                "[rule agents]\naction = on_demand\nretention = 60\ntags = agents\n")
    r = run("-c", conf, "config", "check")
    check(r.returncode == 0, "config check: %s" % r.stderr.decode())
    run("-d", data, "init", check=True)
    imp = run("-c", conf, "-d", data, "import", pcap)
    log = imp.stderr.decode()
    check(imp.returncode == 0, "import: %s" % log)
    calls = json.loads(run("-d", data, "calls", "--json", check=True).stdout)
    c = by_index(calls, truth)
    if not check(all(c), "every generated call is indexed"):
        return
    ids = [x["id"] for x in c]

    def od(i):
        return (c[i]["on_demand"] or {}).get("decision"), (c[i]["on_demand"] or {}).get("by")

    for i in range(7):
        check(c[i]["rule"] == "agents" and c[i]["rule_action"] == "on_demand" and
              c[i]["retention_days"] == 60 and "agents" in c[i]["tags"] and
              c[i]["live"] is False,
              "call %d: rule, action, retention, tags in the calls JSON: %s" % (i, c[i]))
    # Kept by the agent's key, recorded from the start of the call (its answer).
    check(od(0) == ("kept", "dtmf"), "call 0 kept by dtmf: %s" % (od(0),))
    rec = c[0]["recording"]
    if check(rec is not None and c[0]["media_state"] == "recorded", "call 0 has its recording"):
        talk = truth[0]["end"] - truth[0]["answer"]
        check(abs(rec["duration_s"] - talk) < 0.3,
              "call 0 recorded from its start: %.3f s of %.3f s" % (rec["duration_s"], talk))
        check(rec["answer_offset_s"] is not None and abs(rec["answer_offset_s"]) < 0.05,
              "call 0 recording starts at the answer: %s" % rec["answer_offset_s"])
        v = run("-d", data, "verify", str(ids[0]))
        check(v.returncode == 0 and b" ok " in v.stdout, "call 0 verifies: %s" % v.stdout)
        wav = os.path.join(tmp, "c0.wav")
        a = run("-d", data, "audio", str(ids[0]), "-o", wav)
        check(a.returncode == 0 and os.path.getsize(wav) > 8000 * 2 * 2 * 6,
              "call 0 decrypts to its audio")
        os.unlink(wav)
    # Malicious: kept, tagged, held, alarm active and logged at error.
    check(od(1) == ("kept", "dtmf") and "malicious" in c[1]["tags"] and c[1]["recording"],
          "call 1 kept and tagged malicious: %s %s" % (od(1), c[1]["tags"]))
    db = sqlite3.connect(os.path.join(data, "index.sqlite"))
    hold = db.execute("SELECT user, reason FROM legal_holds WHERE call_ref = ?",
                      (ids[1],)).fetchall()
    check(hold == [("dtmf", "malicious call")], "call 1 on legal hold: %s" % hold)
    alarm = db.execute("SELECT severity, active FROM alarms WHERE name = ?",
                       ("malicious_call:%d" % ids[1],)).fetchall()
    check(alarm == [("error", 1)], "alarm malicious_call:%d active: %s" % (ids[1], alarm))
    check(("<3>alarm malicious_call:%d:" % ids[1]) in log, "the alarm is logged at error")
    # No decision: destroyed after the grace period (packet time).
    check(od(2) == ("discarded", "grace") and c[2]["recording"] is None and
          c[2]["media_state"] == "discarded", "call 2 discarded by grace: %s" % (od(2),))
    # The outside party's code is ignored: still pending.
    check(od(3) == ("pending", None) and c[3]["recording"] is not None,
          "call 3: the caller's *1 is ignored, still pending: %s" % (od(3),))
    check(od(4) == ("discarded", "dtmf") and c[4]["recording"] is None and
          c[4]["media_state"] == "discarded", "call 4 discarded by dtmf: %s" % (od(4),))
    check(any(e for e in json.loads(run("-d", data, "call", str(ids[4])).stdout)["events"]
              if e["kind"] == "dtmf" and e["detail"] == "0"), "call 4 keeps its DTMF events")
    for i in (5, 6):
        check(od(i) == ("pending", None) and c[i]["recording"] is not None and
              c[i]["on_demand"]["deadline"], "call %d pending at the end of the import" % i)
    pending6 = os.path.join(data, c[6]["recording"]["path"])
    with open(pending6, "rb") as f:
        sealed6 = f.read(64)

    # The web API: roles, keep, discard, malicious, conflicts.
    for role in ("admin", "supervisor", "auditor"):
        pw = os.path.join(tmp, role + ".pw")
        with open(pw, "w") as f:
            f.write(role + " password 42\n")
        run("-d", data, "user", "add", role + "1", "--role", role, "--password-file", pw,
            check=True)
    port = free_port()
    srv = start_serve(data, port, conf)
    try:
        sup, aud, adm = Client(port), Client(port), Client(port)
        check(sup.login("supervisor1", "supervisor password 42") == 200, "supervisor login")
        check(aud.login("auditor1", "auditor password 42") == 200, "auditor login")
        check(adm.login("admin1", "admin password 42") == 200, "admin login")
        st, _, b = sup.req("GET", "/api/calls/live")
        check(st == 200 and json.loads(b) == [], "no call in progress after an import: %s" % b)
        for page, kind, holds in (("/live.html", "text/html", b'src="/live.js"'),
                                  ("/live.js", "text/javascript", b"/api/calls/live")):
            st, h, b = Client(port).req("GET", page)
            check(st == 200 and h.get("content-type", "").startswith(kind) and
                  "content-security-policy" in h and holds in b,
                  "the page of calls in progress is served: %s %d" % (page, st))
        check(aud.req("POST", "/api/calls/%d/keep" % ids[5])[0] == 403, "an auditor cannot keep")
        check(aud.req("GET", "/api/calls/live")[0] == 403, "an auditor cannot list live calls")
        st, _, b = sup.req("POST", "/api/calls/%d/keep" % ids[5])
        check(st == 200 and json.loads(b) == {"id": ids[5], "action": "keep", "state": "kept"},
              "POST keep on an ended pending call: %d %s" % (st, b))
        st, _, b = sup.req("POST", "/api/calls/%d/discard" % ids[5])
        check(st == 409, "discarding a kept call is refused: %d %s" % (st, b))
        st, _, b = adm.req("POST", "/api/calls/%d/discard" % ids[6])
        check(st == 200 and json.loads(b)["state"] == "discarded",
              "POST discard by an admin: %d %s" % (st, b))
        st, _, b = sup.req("POST", "/api/calls/%d/keep" % 999999)
        check(st == 404, "keep on an unknown call: %d" % st)
        st, _, b = sup.req("POST", "/api/calls/%d/malicious" % ids[0])
        check(st == 200 and json.loads(b)["state"] == "marked", "POST malicious: %d %s" % (st, b))
        st, _, b = sup.req("GET", "/api/calls/%d" % ids[5])
        one = json.loads(b) if st == 200 else {}
        check(st == 200 and one["on_demand"]["decision"] == "kept" and
              one["on_demand"]["by"] == "supervisor1" and one["on_demand"]["at"],
              "GET /api/calls/ID shows the decision: %s" % one.get("on_demand"))
        st, _, b = sup.req("GET", "/api/calls?limit=100")
        listed = {x["id"]: x for x in json.loads(b)} if st == 200 else {}
        check(listed.get(ids[6], {}).get("on_demand", {}).get("decision") == "discarded" and
              "malicious" in listed.get(ids[0], {}).get("tags", []),
              "GET /api/calls shows decisions and tags")
    finally:
        stop_serve(srv)
    check(os.path.exists(os.path.join(data, c[5]["recording"]["path"])), "call 5's file stays")
    check(not os.path.exists(pending6), "call 6's file is destroyed")
    alarm = db.execute("SELECT active FROM alarms WHERE name = ?",
                       ("malicious_call:%d" % ids[0],)).fetchall()
    check(alarm == [(1,)], "the API's malicious mark raised its alarm")
    hold = db.execute("SELECT user FROM legal_holds WHERE call_ref = ?", (ids[0],)).fetchall()
    check(hold == [("supervisor1",)], "the API's malicious mark put the call on hold")

    # Packet time moves on: a later capture settles call 3 (its grace is over).  It is
    # imported under a plain record rule, and its agent (the caller of an outbound
    # call) dials the malicious code: a recorded call is marked too.
    later = os.path.join(tmp, "later.pcap")
    subprocess.run([GEN, "--calls", "1", "--duration", "6", "--scenario", "answered",
                    "--seed", "9", "--start", str(int(truth[-1]["end"]) + 60),
                    "--dtmf-call", "0:caller:*9", "-o", later], check=True, capture_output=True)
    later_id = json.load(open(os.path.join(tmp, "later.truth.json")))["calls"][0]["call_id"]
    conf2 = os.path.join(tmp, "g2.conf")
    with open(conf2, "w") as f:
        f.write("[numbers]\ninternal = 2xxx\ntrunks = 192.0.2.1\n\n"
                "[rules]\non_demand_grace = 20\n\n[rule all]\naction = record\n")
    imp = run("-c", conf2, "-d", data, "import", later)
    check(imp.returncode == 0, "second import: %s" % imp.stderr)
    calls = json.loads(run("-d", data, "calls", "--json", check=True).stdout)
    c = by_index(calls, truth)
    check(od(3) == ("discarded", "grace") and c[3]["recording"] is None,
          "call 3 discarded once its grace is over: %s" % (od(3),))
    lc = next((x for x in calls if x["call_id"] == later_id), None)
    check(lc and lc["rule_action"] == "record" and lc["on_demand"] is None and
          "malicious" in lc["tags"] and lc["recording"],
          "a recorded call's agent marks it malicious by DTMF: %s" % (lc and lc["tags"]))
    if lc:
        alarm = db.execute("SELECT active FROM alarms WHERE name = ?",
                           ("malicious_call:%d" % lc["id"],)).fetchall()
        check(alarm == [(1,)], "its alarm is active")

    # The command line: a decided call is not decided again.
    r = run("-c", conf, "-d", data, "keep", str(ids[4]))
    check(r.returncode == 1 and b"already discarded" in r.stderr, "keep a discarded call: %s" %
          r.stderr)
    r = run("-c", conf, "-d", data, "discard", str(ids[0]))
    check(r.returncode == 1 and b"already kept" in r.stderr, "discard a kept call")
    r = run("-c", conf, "-d", data, "keep", "x1")
    check(r.returncode == 2, "keep with a bad id is a usage error")

    # The audit chain: every decision, by whom.
    audit = db.execute("SELECT user, action, target FROM audit").fetchall()
    for who, action, i in (("dtmf", "call.kept", 0), ("dtmf", "call.malicious", 1),
                           ("grace", "call.discarded", 2), ("grace", "call.discarded", 3),
                           ("dtmf", "call.discarded", 4), ("supervisor1", "call.kept", 5),
                           ("admin1", "call.discarded", 6), ("supervisor1", "call.keep", 5),
                           ("supervisor1", "call.malicious", 0)):
        check((who, action, str(ids[i])) in audit, "audit: %s %s call %d" % (who, action, i))
    v = run("-d", data, "audit", "verify")
    check(v.returncode == 0, "the audit chain is intact: %s" % v.stdout)

    # Nothing of a discarded call anywhere: names, sealed bytes, plaintext Ogg pages.
    discarded = [2, 3, 4, 6]
    names = ["%016x.gfv" % fnv1a64(truth[i]["call_id"]) for i in discarded]
    pages = [b"OggS\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00" + struct.pack("<I",
             fnv1a32(truth[i]["call_id"])) for i in discarded]
    everywhere = files_under(data) + files_under("/tmp", "/var/tmp", newer_than=started)
    leaks = []
    for p in everywhere:
        if any(n in os.path.basename(p) for n in names):
            leaks.append(p)
            continue
        if p.startswith(tmp) and not p.startswith(data):
            continue  # this test's own inputs (the captures)
        try:
            if os.path.getsize(p) > 64 << 20:
                continue
            with open(p, "rb") as f:
                blob = f.read()
        except OSError:
            continue
        if sealed6 in blob or any(pg in blob for pg in pages):
            leaks.append(p)
    check(not leaks, "no trace of the discarded calls on disk: %s" % leaks[:5])
    kept_files = files_under(os.path.join(data, "recordings"))
    check(len(kept_files) == 4 and not any(p.endswith(".part") for p in kept_files),
          "4 recordings left (calls 0, 1, 5 and the later call), no .part: %s" % kept_files)

    # SIP INFO keys (application/dtmf-relay): the agent's count, the outside party's not.
    info, data2 = os.path.join(tmp, "info.pcap"), os.path.join(tmp, "data2")
    subprocess.run([GEN, "--calls", "2", "--duration", "8", "--scenario", "answered", "--seed",
                    "2", "--dtmf-call", "0:callee:*1:3:info", "--dtmf-call", "1:caller:*1:3:info",
                    "-o", info], check=True, capture_output=True)
    itruth = json.load(open(os.path.join(tmp, "info.truth.json")))["calls"]
    conf3 = os.path.join(tmp, "g3.conf")
    with open(conf3, "w") as f:
        f.write("[numbers]\ninternal = 2xxx\ntrunks = 192.0.2.1\n\n"
                "[rules]\non_demand_grace = 0\n\n[rule agents]\naction = on_demand\n")
    run("-d", data2, "init", check=True)
    imp = run("-c", conf3, "-d", data2, "import", info)
    check(imp.returncode == 0 and [t["direction"] for t in itruth] == ["inbound", "inbound"],
          "import of the SIP INFO capture")
    ic = by_index(json.loads(run("-d", data2, "calls", "--json", check=True).stdout), itruth)
    if check(all(ic), "both SIP INFO calls indexed"):
        check(ic[0]["on_demand"]["decision"] == "kept" and ic[0]["on_demand"]["by"] == "dtmf" and
              ic[0]["recording"], "SIP INFO *1 from the agent (callee) keeps the call")
        check(ic[1]["on_demand"]["decision"] == "discarded" and ic[1]["recording"] is None,
              "SIP INFO *1 from the outside party (caller) is ignored: discarded")
        ev = json.loads(run("-d", data2, "call", str(ic[0]["id"])).stdout)["events"]
        check([(e["detail"], e["channel"]) for e in ev if e["kind"] == "dtmf"] ==
              [("*", 1), ("1", 1)], "SIP INFO keys are dtmf events of the callee's channel")

    subprocess.run(["rm", "-rf", tmp])


if __name__ == "__main__":
    main()
    print("%s: %d checks, %d failed" % ("FAIL" if failures else "PASS", checks[0], len(failures)))
    sys.exit(1 if failures else 0)
