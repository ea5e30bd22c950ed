#!/usr/bin/env python3
"""Imports every capture of ../shared/corpus/public that has an .oracle.json and checks
the calls greffier finds against the oracle (what tshark sees):

- the set of Call-IDs of INVITE dialogs (an INVITE seen, or a response to one) is equal;
- answered in the oracle (a 200 to an INVITE) <=> status "answered";
- otherwise the last final response code to INVITE in the oracle is greffier's sip_code,
  and no final response <=> sip_code null;
- the callee's user part is the oracle's To user;
- every RTP stream the oracle ties to a call is one of that call's streams (same source
  and destination) with the same packet count, and an answered call with RTP has a
  recording (media_state "recorded").
Disagreements that are understood are listed in KNOWN with the reason; anything else
fails the test, and a KNOWN entry that no longer happens fails too (so the list stays
true).  The import summary must not report pcap_read_errors.
"""
import json, os, subprocess, sys, tempfile, glob

BIN = os.environ.get("GREFFIER_BIN", "build/greffier")
SHARED = os.environ.get("SHARED_DIR", os.path.join(os.path.dirname(__file__), "../../../shared"))
CORPUS = os.path.join(SHARED, "corpus", "public")

# (capture, call_id or "*", check) -> reason
KNOWN = {
    ("asterisk11-linphone-pjsua-calls", "390cbc3372b15a0d07903c6a6b66ab6a@172.16.98.180:5060",
     "stream_packets"):
        "tshark stops decoding the stream as RTP after an ICMP port unreachable (frame 18) and "
        "shows the 31 later packets as plain UDP; they are valid RTP (v2, PT 0, same SSRC)",
    ("fax-t38-mgw-megaco", "00e9d4a500e9d48-0015-0001-0000-0000@10.35.40.25", "stream_packets"):
        "the re-INVITE offering T.38 on this port was declined (488), yet tshark decodes the "
        "2010 later packets as T.38; they are RTP (v2, PCMA, same SSRC) and greffier counts them",
    ("honeynet-fc4-asterisk-xlite-dtmf", "MzI4NzE5ZDVmNDk0OTBkN2M2MzVhNDI3NTkxZDgzN2M.",
     "stream_packets"):
        "6 frames whose IP datagram is 8 bytes longer than what was captured: greffier drops "
        "them as drop_truncated (counted), tshark counts them in the stream",
}

def run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, **kw)

def main():
    oracles = sorted(glob.glob(os.path.join(CORPUS, "*.oracle.json")))
    if not oracles:
        print("SKIP: no corpus at %s" % CORPUS)
        return 0
    failures, seen_known, checked_calls = [], set(), 0
    for oracle_path in oracles:
        name = os.path.basename(oracle_path)[: -len(".oracle.json")]
        caps = [p for p in glob.glob(os.path.join(CORPUS, name + ".pcap*"))]
        if not caps:
            failures.append("%s: oracle without capture" % name)
            continue
        oracle = json.load(open(oracle_path))
        with tempfile.TemporaryDirectory() as tmp:
            data = os.path.join(tmp, "data")
            r = run([BIN, "init", "-d", data])
            if r.returncode != 0:
                failures.append("%s: init failed: %s" % (name, r.stderr))
                continue
            r = run([BIN, "-d", data, "import", caps[0]], timeout=120)
            summary = r.stdout.strip()
            if r.returncode != 0:
                failures.append("%s: import exit %d: %s %s" % (name, r.returncode, r.stderr, summary))
                continue
            if r.returncode < 0 or "pcap_read_errors" in summary:
                failures.append("%s: import: %s" % (name, summary))
            r = run([BIN, "-d", data, "calls", "--json"])
            if r.returncode != 0:
                failures.append("%s: calls exit %d: %s" % (name, r.returncode, r.stderr))
                continue
            ours = {c["call_id"]: c for c in json.loads(r.stdout)}
            details = {}
            for c in ours.values():
                r = run([BIN, "-d", data, "call", str(c["id"])])
                if r.returncode == 0:
                    details[c["call_id"]] = json.loads(r.stdout)
        want = {c["call_id"]: c for c in oracle["sip"]["calls"] if c["is_invite_dialog"]}

        def disagree(cid, check, text):
            key = (name, cid, check)
            if key in KNOWN or (name, "*", check) in KNOWN:
                seen_known.add(key if key in KNOWN else (name, "*", check))
            else:
                failures.append("%s: %s: %s" % (name, cid, text))

        for cid in sorted(set(want) - set(ours)):
            disagree(cid, "missing", "call in oracle not found")
        for cid in sorted(set(ours) - set(want)):
            disagree(cid, "extra", "call found but not in oracle")
        for cid in sorted(set(want) & set(ours)):
            o, g = want[cid], ours[cid]
            checked_calls += 1
            if o["answered"] != (g["status"] == "answered"):
                disagree(cid, "status", "oracle answered=%s, greffier status=%s code=%s"
                         % (o["answered"], g["status"], g["sip_code"]))
            elif not o["answered"]:
                last = o["invite_final"][-1] if o["invite_final"] else None
                if last != g["sip_code"]:
                    disagree(cid, "code", "oracle final codes %s, greffier sip_code %s (%s)"
                             % (o["invite_final"], g["sip_code"], g["status"]))
            if o.get("to_user") and g.get("callee") != o["to_user"]:
                disagree(cid, "callee", "oracle To user %r, greffier callee %r"
                         % (o["to_user"], g.get("callee")))
        streams = oracle.get("rtp", {}).get("streams", []) if isinstance(oracle.get("rtp"), dict) else []
        for st in streams:
            cid = st.get("call_id")
            if cid not in ours or cid not in details:
                continue
            mine = [x for x in details[cid]["streams"] if x["src"] == st["src"] and x["dst"] == st["dst"]]
            if not mine:
                disagree(cid, "stream", "oracle stream %s -> %s (%d packets) not among the call's streams"
                         % (st["src"], st["dst"], st["packets"]))
            elif sum(x["packets"] for x in mine) != st["packets"]:
                disagree(cid, "stream_packets", "stream %s -> %s: oracle %d packets, greffier %d"
                         % (st["src"], st["dst"], st["packets"], sum(x["packets"] for x in mine)))
            if ours[cid]["status"] == "answered" and ours[cid].get("media_state") != "recorded":
                disagree(cid, "recording", "answered call with RTP has media_state %s"
                         % ours[cid].get("media_state"))
        print("%-48s oracle %3d calls, greffier %3d  | %s" % (name, len(want), len(ours), summary))
    stale = set(KNOWN) - seen_known
    for k in sorted(stale):
        failures.append("known disagreement no longer happens (remove it from KNOWN): %s" % (k,))
    for f in failures:
        print("FAIL", f)
    print("corpus: %d captures, %d calls compared, %d known disagreements, %d failures"
          % (len(oracles), checked_calls, len(seen_known), len(failures)))
    return 1 if failures else 0

if __name__ == "__main__":
    sys.exit(main())
