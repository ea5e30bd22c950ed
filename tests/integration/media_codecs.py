#!/usr/bin/env python3
"""Recordings of the other codecs, DTMF and SRTP against what the generator sent
(tests/bench/gen_calls; G.711 itself is media_tones.py's).  After `greffier import`:

- G.722, G.729 and Opus (8 calls of ~10 s each): every answered call has a recording
  from answer to BYE (within 60 ms), at 16 kHz for G.722 and Opus and 8 kHz for G.729;
  the caller's tone is the strongest frequency on the left and the callee's on the right,
  each at least 20 dB above its leak into the other channel (lossy twice over: the codec,
  then the Ogg Opus recording); both alignment marks within 40 ms of capture time; the
  streams' packet counts are those sent.  In the G.722 and Opus captures one callee sends
  5000 Hz, which only a wideband recording keeps: it must stand far above every other
  frequency of the right channel.
- DTMF (G.711, the caller keys "123#" as RFC 4733 events): each answered call has the
  four "dtmf" events in order, once each, within 40 ms of when they were sent.
- SRTP (G.711 with SDES keys): recordings as for plain G.711, streams marked srtp with no
  authentication failure; with one byte of one SRTP packet altered, that stream counts
  exactly one failure and the import summary drop_srtp_auth=1.
"""
import json, math, os, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mediacheck import (BIN, calls_by_id, check, check_call, failures, generate,  # noqa: E402
                        goertzel, import_capture, packets_to, probe_freqs, read_pcap,
                        recording_start, run, write_pcap)

WIDEBAND_HZ = 5000
checked = []  # one entry per answered call whose recording was checked


def answered(tmp, label, truth, data, rate, min_sep, band_check=False):
    """Runs check_call on every answered call; yields (truth, index row, result)."""
    ours = calls_by_id(data)
    for t in truth["calls"]:
        g = ours.get(t["call_id"])
        if not check(g is not None, "%s: call %s not indexed" % (label, t["call_id"])):
            continue
        if t["status"] != "answered":
            check(g["recording"] is None, "%s: unanswered call %s has a recording"
                  % (label, t["call_id"]))
            continue
        check(t.get("rate") == rate, "%s: truth rate %s, want %d" % (label, t.get("rate"), rate))
        got = check_call(label, tmp, data, t, g, rate, min_sep, band_check)
        if got is not None:
            checked.append(label)
        yield t, g, got


def check_codec(tmp, codec, rate):
    cap, truth = generate(tmp, codec, "--calls", "8", "--duration", "10", "--codec", codec,
                          "--seed", "21")
    data, _ = import_capture(tmp, codec, cap)
    wideband_seen = False
    for t, g, got in answered(tmp, codec, truth, data, rate, 20, band_check=True):
        if got is None or t["callee_tone_hz"] != WIDEBAND_HZ:
            continue
        wideband_seen = True
        right = got[1][int(0.5 * rate):int(1.5 * rate)]
        at = goertzel(right, rate, WIDEBAND_HZ)
        # band_check made it the strongest; beyond the codecs' noise around it (G.722
        # codes 4-8 kHz with 2 bits), it stands far above the rest of the band.
        worst = max((goertzel(right, rate, f), f) for f in probe_freqs(rate)
                    if abs(f - WIDEBAND_HZ) > 500)
        margin = 10 * math.log10(at / worst[0])
        print("%s %s: 5000 Hz %.1f dB above the strongest probe beyond 500 Hz (%d Hz)"
              % (codec, t["call_id"], margin, worst[1]))
        check(margin >= 20, "%s %s: 5000 Hz only %.1f dB above %d Hz in the right channel"
              % (codec, t["call_id"], margin, worst[1]))
    check(wideband_seen == (rate > 8000), "%s: a call with a %d Hz callee tone: %s"
          % (codec, WIDEBAND_HZ, wideband_seen))


def check_dtmf(tmp):
    digits = "123#"
    cap, truth = generate(tmp, "dtmf", "--calls", "8", "--duration", "10", "--codec", "pcmu",
                          "--dtmf", digits, "--seed", "22")
    data, _ = import_capture(tmp, "dtmf", cap)
    for t, g, got in answered(tmp, "dtmf", truth, data, 8000, 30):
        sent = t["dtmf"]
        check("".join(d["digit"] for d in sent) == digits, "dtmf %s: the generator sent %s"
              % (t["call_id"], sent))
        if got is None:
            continue
        events = [e for e in got[2]["events"] if e["kind"] == "dtmf"]
        check([e["detail"] for e in events] == [d["digit"] for d in sent],
              "dtmf %s: events %s, sent %s" % (t["call_id"], [e["detail"] for e in events],
                                              [d["digit"] for d in sent]))
        start = recording_start(t, g["recording"])
        for e, d in zip(events, sent):
            want = d["at"] - start
            check(e["offset_s"] is not None and abs(e["offset_s"] - want) <= 0.040,
                  "dtmf %s: digit %s at %s s, sent at %.3f s" % (t["call_id"], d["digit"],
                                                                 e["offset_s"], want))


def check_srtp(tmp):
    cap, truth = generate(tmp, "srtp", "--calls", "8", "--duration", "10", "--codec", "pcmu",
                          "--srtp", "--seed", "23")
    data, _ = import_capture(tmp, "srtp", cap)
    first = None
    for t, g, got in answered(tmp, "srtp", truth, data, 8000, 30):
        if got is None:
            continue
        for s in got[2]["streams"]:
            check(s["srtp"] is True and s["srtp_auth_failures"] == 0,
                  "srtp %s: channel %d srtp %s, %s auth failures" % (
                      t["call_id"], s["channel"], s["srtp"], s["srtp_auth_failures"]))
        if first is None and not t.get("hold"):
            first = t

    # One byte of one packet's encrypted payload altered: its tag no longer matches.
    if not check(first is not None, "srtp: no answered call"):
        return
    head, recs = read_pcap(cap)
    mine = packets_to(recs, first["callee_rtp"])  # the caller's stream, channel 0
    k = mine[len(mine) // 2]
    body = bytearray(recs[k])
    body[16 + 42 + 12 + 7] ^= 0x5a
    recs[k] = bytes(body)
    out = os.path.join(tmp, "srtp-altered.pcap")
    write_pcap(out, head, recs)
    data, summary = import_capture(tmp, "srtp-altered", out)
    fields = dict(f.split("=", 1) for f in summary.split() if "=" in f)
    check(fields.get("drop_srtp_auth") == "1", "srtp altered: import summary drop_srtp_auth=%s"
          % fields.get("drop_srtp_auth"))
    g = calls_by_id(data).get(first["call_id"])
    if not check(g is not None, "srtp altered: call %s not indexed" % first["call_id"]):
        return
    detail = json.loads(run(BIN, "-d", data, "call", str(g["id"])))
    fails = {s["channel"]: s["srtp_auth_failures"] for s in detail["streams"]}
    print("srtp altered: auth failures per channel %s" % fails)
    check(fails == {0: 1, 1: 0}, "srtp altered: auth failures per channel %s, want {0: 1, 1: 0}"
          % fails)


with tempfile.TemporaryDirectory() as tmp:
    check_codec(tmp, "g722", 16000)
    check_codec(tmp, "g729", 8000)
    check_codec(tmp, "opus", 16000)
    check_dtmf(tmp)
    check_srtp(tmp)

print("media codecs: %d answered calls checked (%s), %d failures"
      % (len(checked), ", ".join("%s %d" % (k, checked.count(k)) for k in dict.fromkeys(checked)),
         len(failures)))
sys.exit(1 if failures else 0)
