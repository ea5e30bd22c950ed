#!/usr/bin/env python3
"""GET /metrics and the per-call log line, without root (serve_live.sh does the live part):

1. an import of generated calls logs one line per call at info level, exactly as
   `greffier calls --json` describes the call (id, Call-ID, parties, status, talk time,
   codec, recording bytes and state);
2. `greffier web` on loopback serves /metrics in the text format 0.0.4 (parsed strictly by
   promtext.py) whose index families agree with the index: calls by status, recordings
   and their bytes; build info, disk free, HTTP requests by code; the capture families are
   absent (no capture ran: greffier_capture_snapshot_present 0), then read from a
   DATA/run/capture.prom snapshot with its age from the frozen clock, and refused when
   incomplete;
3. SIGHUP to `greffier web`: the log level applies, [http] listen needs a restart;
   key_unreadable:private raised by the web side when the private key is missing, cleared
   when it is back;
4. the one-way audio alarm: a generated capture with one direction of one call removed
   (tcpdump filter) raises one_way_audio, seen in /metrics and in the import summary; the
   unfiltered capture does not.
Python standard library, tcpdump, and the gen_calls generator of the build."""
import http.client, json, os, re, shutil, socket, sqlite3, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import promtext  # noqa: E402

BIN = os.environ.get("GREFFIER_BIN", "build/greffier")
BUILD = os.environ.get("GREFFIER_BUILD", os.path.dirname(BIN))
OUT = os.environ.get("TEST_OUT")
failures, checks = [], [0]


def check(cond, what):
    checks[0] += 1
    if not cond:
        failures.append(what)
        print("FAIL", what)
    return cond


def run(*args, **kw):
    return subprocess.run([BIN, *args], capture_output=True, **kw)


def gen(path, *args):
    subprocess.run([os.path.join(BUILD, "bench", "gen_calls"), *args, "-o", path], check=True,
                   capture_output=True)
    return json.load(open(path[:-len(".pcap")] + ".truth.json"))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def get(port, path, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("GET", path, headers=headers or {})
    r = c.getresponse()
    body = r.read()
    ctype = r.getheader("Content-Type")
    c.close()
    return r.status, ctype, body


class Web:
    def __init__(self, data, conf, now):
        self.port = free_port()
        env = dict(os.environ, GREFFIER_TEST_NOW=now)
        self.log = open(os.path.join(os.path.dirname(data), "web-%d.log" % self.port), "wb")
        self.p = subprocess.Popen([BIN, "-c", conf, "-d", data, "web", "--listen",
                                   "127.0.0.1:%d" % self.port], env=env, stderr=self.log)
        for _ in range(100):
            try:
                get(self.port, "/healthz")
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("greffier web did not answer")

    def metrics(self, what):
        st, ctype, body = get(self.port, "/metrics")
        check(st == 200, "%s: /metrics status %d" % (what, st))
        check(ctype == "text/plain; version=0.0.4; charset=utf-8",
              "%s: Content-Type %s" % (what, ctype))
        try:
            return promtext.parse(body.decode())
        except ValueError as e:
            check(False, "%s: /metrics is not valid text format 0.0.4: %s" % (what, e))
            return {}, {}

    def stop(self):
        self.p.terminate()
        check(self.p.wait(timeout=20) == 0, "greffier web exit status")
        self.log.close()


LINE = re.compile(r"^<6>call (\d+) (.*): (.*) -> (.*), (\w+)(?: \((\d+)\))?, duration (-|\d+\.\d{3} s), "
                  r"codec (\S+), MOS (-|\d+\.\d\d), recording (?:(\d+) bytes \((\w+)\)|- \((\w+)\))$")


def check_call_lines(stderr, calls):
    lines = [l for l in stderr.splitlines() if l.startswith("<6>call ")]
    check(len(lines) == len(calls), "%d call lines logged for %d calls" % (len(lines), len(calls)))
    by_id = {c["id"]: c for c in calls}
    for line in lines:
        m = LINE.match(line)
        if not check(m, "call line format: " + line):
            continue
        c = by_id.get(int(m.group(1)))
        if not check(c, "call line of an unknown id: " + line):
            continue
        want_duration = "-" if c["duration_s"] is None else "%.3f s" % c["duration_s"]
        rec = c["recording"]
        got = (m.group(2), m.group(3), m.group(4), m.group(5), m.group(6), m.group(7))
        want = (c["call_id"], c["caller"] or "-", c["callee"] or "-", c["status"],
                str(c["sip_code"]) if c["sip_code"] else None, want_duration)
        check(got == want, "call line %s: %s, want %s" % (m.group(1), got, want))
        if rec:
            check((m.group(10), m.group(11), m.group(8)) == (str(rec["bytes"]), rec["state"],
                                                            rec["codec_in"]),
                  "call line %s: recording %s" % (m.group(1), line))
            check(m.group(9) != "-", "call line %s: a recorded call has a MOS" % m.group(1))
        else:
            check(m.group(12) == c["media_state"], "call line %s: media state" % m.group(1))


def main():
    tmp = tempfile.mkdtemp(prefix="greffier-metrics-", dir=OUT)
    conf = os.path.join(tmp, "greffier.conf")
    with open(conf, "w") as f:
        f.write("[http]\nmetrics_token = s3cret-token\n[log]\nlevel = info\n")

    # 1. the call lines of an import
    data = os.path.join(tmp, "data")
    pcap = os.path.join(tmp, "mix.pcap")
    gen(pcap, "--calls", "24", "--duration", "6", "--seed", "7")
    run("-d", data, "init", check=True)
    r = run("-c", conf, "-d", data, "import", pcap)
    check(r.returncode == 0, "import: %s" % r.stderr[-500:])
    calls = json.loads(run("-d", data, "calls", "--json", check=True).stdout)
    check(len(calls) == 24, "24 calls indexed, got %d" % len(calls))
    check_call_lines(r.stderr.decode(), calls)
    summary = r.stdout.decode()

    # 2. /metrics against the index
    web = Web(data, conf, "2023-11-14T22:15:20Z")  # 1700000120
    try:
        s, types = web.metrics("after an import")
        by_status = {}
        for c in calls:
            by_status[c["status"]] = by_status.get(c["status"], 0) + 1
        got = {dict(k)["status"]: v for k, v in promtext.series(s, "greffier_calls_indexed").items()}
        check(all(got.get(k) == v for k, v in by_status.items()) and sum(got.values()) == len(calls),
              "greffier_calls_indexed %s, the index says %s" % (got, by_status))
        recs = [c["recording"] for c in calls if c["recording"]]
        check(promtext.value(s, "greffier_recordings_stored", state="complete") ==
              len([x for x in recs if x["state"] == "complete"]) and recs,
              "greffier_recordings_stored{state=complete}")
        check(promtext.value(s, "greffier_recordings_stored_bytes") == sum(x["bytes"] for x in recs),
              "greffier_recordings_stored_bytes = the recordings' bytes")
        check(promtext.value(s, "greffier_capture_snapshot_present") == 0,
              "no capture ran: snapshot_present 0")
        check(promtext.value(s, "greffier_packets_total") is None, "no capture counters yet")
        check(promtext.value(s, "greffier_disk_free_bytes") > 0, "disk free")
        check(len(promtext.series(s, "greffier_build_info")) == 1 and
              list(promtext.series(s, "greffier_build_info").values()) == [1.0], "build_info")
        check(promtext.value(s, "greffier_purged_calls_total", reason="retention") == 0,
              "purges by reason")
        check(types.get("greffier_http_requests_total") == "counter", "http requests family")
        st, _, _ = get(web.port, "/no/such/page")
        check(st == 404, "a 404")
        s, _ = web.metrics("after a 404")
        check(promtext.value(s, "greffier_http_requests_total", code="404") == 1,
              "the 404 is counted")
        check(promtext.value(s, "greffier_http_requests_total", code="200") >= 2,
              "the 200s are counted")

        # The capture process's snapshot, as it writes it, then one cut short.
        snap = os.path.join(data, "run")
        os.makedirs(snap, exist_ok=True)
        with open(os.path.join(snap, "capture.prom"), "w") as f:
            f.write("# HELP greffier_packets_total packets read\n"
                    "# TYPE greffier_packets_total counter\ngreffier_packets_total 12345\n"
                    "# HELP greffier_capture_snapshot_timestamp_seconds written at\n"
                    "# TYPE greffier_capture_snapshot_timestamp_seconds gauge\n"
                    "greffier_capture_snapshot_timestamp_seconds 1700000000.000\n")
        s, _ = web.metrics("with a snapshot")
        check(promtext.value(s, "greffier_capture_snapshot_present") == 1, "snapshot present")
        check(promtext.value(s, "greffier_packets_total") == 12345, "snapshot counters passed on")
        check(promtext.value(s, "greffier_capture_snapshot_age_seconds") == 120,
              "snapshot age from the frozen clock: %s" %
              promtext.value(s, "greffier_capture_snapshot_age_seconds"))
        with open(os.path.join(snap, "capture.prom"), "w") as f:
            f.write("# HELP greffier_packets_total packets read\n"
                    "# TYPE greffier_packets_total counter\ngreffier_packets_total 1")
        s, _ = web.metrics("with a snapshot cut short")
        check(promtext.value(s, "greffier_capture_snapshot_present") == 0 and
              promtext.value(s, "greffier_packets_total") is None,
              "a snapshot cut short is not passed on")
    finally:
        web.stop()

    # SIGHUP to the web process: the log level applies, a listen address needs a restart.
    web = Web(data, conf, "2023-11-14T22:15:20Z")
    try:
        with open(conf, "w") as f:
            f.write("[http]\nmetrics_token = s3cret-token\nlisten = 127.0.0.1:1\n"
                    "[log]\nlevel = notice\n")
        web.p.send_signal(1)
        for _ in range(100):
            log = open(web.log.name).read()
            if "setting" in log and "read," in log:
                break
            time.sleep(0.1)
        check("reload: [log] level changed: applied" in log and
              "reload: [http] listen changed: needs a restart" in log and
              "2 settings changed" in log, "web SIGHUP: %s" % log[-400:])
    finally:
        web.stop()
    with open(conf, "w") as f:
        f.write("[http]\nmetrics_token = s3cret-token\n[log]\nlevel = info\n")

    # The private key out of reach: the web side raises key_unreadable:private at start.
    key = sorted(f for f in os.listdir(os.path.join(data, "keys")) if f.endswith(".key")
                 and f.startswith("recording-"))[-1]
    os.rename(os.path.join(data, "keys", key), os.path.join(tmp, key))
    web = Web(data, conf, "2023-11-14T22:15:20Z")
    try:
        s, _ = web.metrics("private key moved away")
        check(promtext.value(s, "greffier_alarm_active", name="key_unreadable:private") == 1,
              "key_unreadable:private raised when the private key is missing")
    finally:
        web.stop()
    os.rename(os.path.join(tmp, key), os.path.join(data, "keys", key))
    web = Web(data, conf, "2023-11-14T22:15:20Z")
    try:
        s, _ = web.metrics("private key back")
        check(promtext.value(s, "greffier_alarm_active", name="key_unreadable:private") == 0,
              "key_unreadable:private cleared once the key is back")
    finally:
        web.stop()

    # 3. one-way audio
    both = os.path.join(tmp, "both.pcap")
    truth = gen(both, "--calls", "3", "--duration", "15", "--scenario", "answered", "--seed", "3")
    victim = truth["calls"][1]
    host, port = victim["callee_rtp"].rsplit(":", 1)
    oneway = os.path.join(tmp, "oneway.pcap")
    subprocess.run(["tcpdump", "-r", both, "-w", oneway,
                    "not (src host %s and udp src port %s)" % (host, port)], check=True,
                   capture_output=True)
    for name, path, want in (("both ways", both, 0), ("one way", oneway, 1)):
        d = os.path.join(tmp, "data-" + name.replace(" ", "-"))
        run("-d", d, "init", check=True)
        r = run("-c", conf, "-d", d, "import", path)
        check(r.returncode == 0, "import %s" % name)
        check(("calls_one_way_audio=%d" % want).encode() in r.stdout,
              "%s: summary says calls_one_way_audio=%d: %s" % (name, want, r.stdout))
        db = sqlite3.connect(os.path.join(d, "index.sqlite"))
        rows = db.execute("SELECT active, message FROM alarms WHERE name = 'one_way_audio'").fetchall()
        db.close()
        if want:
            check(rows and rows[0][0] == 1 and rows[0][1].startswith(
                "1 call with audio in one direction only in the last hour"),
                "one way: alarm one_way_audio raised: %s" % rows)
            check(b"alarm one_way_audio: 1 call" in r.stderr, "the alarm is logged")
            web = Web(d, conf, "2023-11-14T22:15:20Z")
            try:
                s, _ = web.metrics("one-way alarm")
                check(promtext.value(s, "greffier_alarm_active", name="one_way_audio") == 1,
                      "greffier_alarm_active{name=one_way_audio} 1")
            finally:
                web.stop()
        else:
            check(not rows, "both ways: no one_way_audio alarm: %s" % rows)

    print("metrics: %d checks, %d failed" % (checks[0], len(failures)))
    if not failures:
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        print("logs kept in", tmp)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
