#!/usr/bin/env python3
"""Helper of ondemand_live.sh (run inside the UAS namespace).

  replay IFACE FILE.pcap        sends every frame of FILE on IFACE (AF_PACKET), paced by
                                the capture's timestamps (real time)
  check BIN WORK NS_UAC IF_UAC  the test itself (see ondemand_live.sh)
Python standard library only."""
import http.client, json, os, socket, struct, subprocess, sys, time

failures = []
checks = [0]


def check(cond, what):
    checks[0] += 1
    if not cond:
        failures.append(what)
        print("FAIL", what, flush=True)
    return cond


def replay(iface, path):
    with open(path, "rb") as f:
        blob = f.read()
    magic = struct.unpack("<I", blob[:4])[0]
    div = 1e9 if magic == 0xa1b23c4d else 1e6
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    off, t0, w0 = 24, None, time.monotonic()
    while off + 16 <= len(blob):
        sec, frac, incl, _ = struct.unpack("<IIII", blob[off:off + 16])
        frame = blob[off + 16:off + 16 + incl]
        off += 16 + incl
        t = sec + frac / div
        if t0 is None:
            t0 = t
        delay = (t - t0) - (time.monotonic() - w0)
        if delay > 0:
            time.sleep(delay)
        s.send(frame)


class Client:
    def __init__(self, port):
        self.port, self.cookie, self.csrf = port, None, None

    def req(self, method, path, body=None):
        h = {}
        if self.cookie:
            h["Cookie"] = "greffier_session=" + self.cookie
        if self.csrf and method != "GET":
            h["X-CSRF-Token"] = self.csrf
        data = json.dumps(body).encode() if body is not None else None
        if data:
            h["Content-Type"] = "application/json"
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        c.request(method, path, body=data, headers=h)
        r = c.getresponse()
        payload = r.read()
        hdrs = {k.lower(): v for k, v in r.getheaders()}
        c.close()
        return r.status, hdrs, payload

    def login(self, user, pw):
        st, h, b = self.req("POST", "/api/login", {"user": user, "password": pw})
        if st == 200:
            self.cookie = h.get("set-cookie", "").split(";")[0].split("=", 1)[1]
            self.csrf = json.loads(b)["csrf"]
        return st


def wait_for(fn, seconds, step=0.2):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        v = fn()
        if v:
            return v
        time.sleep(step)
    return None


def main_check(binary, work, ns_uac, if_uac):
    data, conf = os.path.join(work, "data"), os.path.join(work, "g.conf")
    truth = json.load(open(os.path.join(work, "x.truth.json")))["calls"]
    pw = os.path.join(work, "sup.pw")
    with open(pw, "w") as f:
        f.write("supervisor password 42\n")
    subprocess.run([binary, "-d", data, "user", "add", "sup1", "--role", "supervisor",
                    "--password-file", pw], check=True, capture_output=True)
    cap_log = open(os.path.join(work, "capture.log"), "w")
    web_log = open(os.path.join(work, "web.log"), "w")
    cap = subprocess.Popen([binary, "-c", conf, "capture"], stderr=cap_log, stdout=cap_log)
    web = subprocess.Popen([binary, "-c", conf, "-d", data, "serve", "--no-capture", "--listen",
                            "127.0.0.1:18090"], stderr=web_log, stdout=web_log)
    rep = None
    try:
        cli = Client(18090)
        wait_for(lambda: _try(lambda: cli.req("GET", "/healthz")[0] == 200), 10)
        check(cli.login("sup1", "supervisor password 42") == 200, "supervisor login")
        if not wait_for(lambda: "capturing on" in open(os.path.join(work, "capture.log")).read(),
                        10):
            log = open(os.path.join(work, "capture.log")).read()
            check(False, "capture did not start: %s" % log)
            return
        rep = subprocess.Popen(["ip", "netns", "exec", ns_uac, sys.executable, __file__,
                                "replay", if_uac, os.path.join(work, "x.pcap")])

        def live():
            st, _, b = cli.req("GET", "/api/calls/live")
            return json.loads(b) if st == 200 else []

        first = truth[0]["call_id"]
        row = wait_for(lambda: next((c for c in live() if c["call_id"] == first), None), 15)
        if not check(row, "the first call appears in GET /api/calls/live"):
            return
        check(row["live"] is True and row["status"] == "in_progress" and
              row["on_demand"]["decision"] == "pending", "live row: %s" % row)
        cid = row["id"]
        st, _, b = cli.req("POST", "/api/calls/%d/keep" % cid)
        check(st == 202 and json.loads(b)["state"] == "requested",
              "keep during the call: 202 requested: %d %s" % (st, b))
        kept = wait_for(lambda: next((c for c in live() if c["id"] == cid and
                                      c["on_demand"]["decision"] == "kept"), None), 5)
        check(kept and kept["on_demand"]["by"] == "sup1",
              "the capture applied the keep within seconds: %s" % kept)
        rep.wait(timeout=60)

        def stored():
            out = subprocess.run([binary, "-d", data, "calls", "--json"], capture_output=True)
            calls = json.loads(out.stdout or b"[]")
            done = [c for c in calls if not c["live"] and c["on_demand"] and
                    c["on_demand"]["decision"] != "pending"]
            return calls if len(done) == 2 else None

        # A call is stored 32 s after its BYE (RFC 3261 timer F/H: dialog.c LINGER).
        calls = wait_for(stored, 50, 0.5)
        if not check(calls, "both calls stored and decided after the replay"):
            return
        byid = {c["call_id"]: c for c in calls}
        one, two = byid.get(truth[0]["call_id"]), byid.get(truth[1]["call_id"])
        check(one["id"] == cid and one["on_demand"]["decision"] == "kept" and
              one["recording"] and one["status"] == "answered",
              "the kept call keeps its id and its recording: %s" % one)
        talk = truth[0]["end"] - truth[0]["answer"]
        check(one["recording"] and abs(one["recording"]["duration_s"] - talk) < 0.5,
              "recorded from the start: %s s of %.2f" % (one["recording"] and
                                                       one["recording"]["duration_s"], talk))
        v = subprocess.run([binary, "-d", data, "verify", str(cid)], capture_output=True)
        check(v.returncode == 0, "the kept recording verifies: %s" % v.stdout)
        check(two["on_demand"]["decision"] == "discarded" and two["on_demand"]["by"] == "grace"
              and two["recording"] is None and two["media_state"] == "discarded",
              "the undecided call is destroyed after its grace: %s" % two["on_demand"])
        files = [os.path.join(r, n) for r, _, ns in os.walk(os.path.join(data, "recordings"))
                 for n in ns]
        check(len(files) == 1, "one recording file left: %s" % files)

        # A capture killed during an on_demand call: the next start destroys the
        # undecided recording that vault_recover closed, and the row stops being live.
        cap.terminate()
        cap.wait(timeout=10)
        cap = subprocess.Popen([binary, "-c", conf, "capture"], stderr=cap_log, stdout=cap_log)
        if not wait_for(lambda: open(os.path.join(work, "capture.log")).read().count(
                "capturing on") == 2, 10):
            check(False, "capture did not restart")
            return
        rep = subprocess.Popen(["ip", "netns", "exec", ns_uac, sys.executable, __file__,
                                "replay", if_uac, os.path.join(work, "x.pcap")])
        row = wait_for(lambda: next((c for c in live() if c["call_id"] == first), None), 15)
        if not check(row, "the replayed call is live again"):
            return
        time.sleep(1.5)  # some audio sealed in its .part file
        cap.kill()
        cap.wait()
        rep.terminate()
        rep.wait()
        parts = [n for _, _, ns in os.walk(os.path.join(data, "recordings")) for n in ns
                 if n.endswith(".part")]
        check(parts, "the killed capture left its pending .part file")
        cap = subprocess.Popen([binary, "-c", conf, "capture"], stderr=cap_log, stdout=cap_log)
        wait_for(lambda: "settled" in open(os.path.join(work, "capture.log")).read(), 10)
        out = subprocess.run([binary, "-d", data, "call", str(row["id"])], capture_output=True)
        after = json.loads(out.stdout or b"{}")
        check(after.get("live") is False and after.get("on_demand", {}).get("decision") ==
              "discarded" and after["on_demand"]["by"] == "crash" and after["recording"] is None,
              "after the restart the undecided call is discarded by crash: %s" %
              after.get("on_demand"))
        files = [os.path.join(r, n) for r, _, ns in os.walk(os.path.join(data, "recordings"))
                 for n in ns]
        check(len(files) == 1, "still one recording file (the kept one): %s" % files)
    finally:
        for p in (rep, web, cap):
            if p and p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()


def _try(fn):
    try:
        return fn()
    except OSError:
        return False


if __name__ == "__main__":
    if sys.argv[1] == "replay":
        replay(sys.argv[2], sys.argv[3])
        sys.exit(0)
    main_check(*sys.argv[2:6])
    print("%s: %d checks, %d failed" % ("FAIL" if failures else "PASS", checks[0], len(failures)))
    sys.exit(1 if failures else 0)
