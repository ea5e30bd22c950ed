#!/usr/bin/env python3
"""Recordings against what the generator sent (tests/bench/gen_calls, G.711 u-law and
A-law): each direction carries its own tone, and both carry a 60 ms silent mark two
seconds after the answer.  After `greffier import` and `greffier audio ID -o x.wav`:

- every answered call has a recording whose duration is answer to BYE (within 60 ms);
- the caller's tone is on the left channel and the callee's on the right, each at least
  30 dB above its leak into the other channel;
- each mark is found in its channel within 40 ms of where capture time puts it;
- a call put on hold has a silent right channel while the callee sends nothing, and a
  "hold" event;
- the streams' packet counts are those the generator sent;
- with 5 % of one call's RTP dropped and some packets swapped, the duration is the same
  and the losses and reorderings are counted.
"""
import json, os, random, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mediacheck import (BIN, calls_by_id, check, check_call, failures, generate,  # noqa: E402
                        import_capture, packets_to, read_pcap, run, write_pcap)


def check_capture(tmp, codec):
    cap, truth = generate(tmp, "calls-" + codec, "--calls", "10", "--duration", "12", "--codec",
                          codec, "--seed", "7")
    truth = truth["calls"]
    data, _ = import_capture(tmp, codec, cap)
    ours = calls_by_id(data)
    for t in truth:
        g = ours.get(t["call_id"])
        if not check(g is not None, "%s: call %s not indexed" % (codec, t["call_id"])):
            continue
        if t["status"] != "answered":
            check(g["recording"] is None, "%s: unanswered call %s has a recording" % (codec, t["call_id"]))
            continue
        got = check_call(codec, tmp, data, t, g, 8000, 30)
        if got is None:
            continue
        left, right, detail = got
        if t.get("hold"):
            kinds = [e["kind"] for e in detail["events"]]
            check("hold" in kinds and "resume" in kinds, "%s %s: hold events %s" % (codec, t["call_id"], kinds))
            held = (t["rtp_packets_caller"] - t["rtp_packets_callee"]) * 0.020
            quiet = sum(1 for i in range(0, len(right) - 160, 160)
                        if max(abs(v) for v in right[i:i + 160]) < 50) * 0.020
            check(abs(quiet - held) <= 0.3, "%s %s: right channel silent %.2f s, callee held %.2f s"
                  % (codec, t["call_id"], quiet, held))
    return cap, truth


def check_loss(tmp, cap, truth):
    """Drops 5 % of the first answered call's RTP toward the caller, swaps 10 pairs."""
    t = next(c for c in truth if c["status"] == "answered" and not c.get("hold"))
    head, recs = read_pcap(cap)
    mine = packets_to(recs, t["caller_rtp"])
    rnd = random.Random(3)
    drop = set(rnd.sample(mine[20:-20], len(mine) // 20))
    keep = [i for i in mine[20:-20] if i not in drop]
    swaps = 0
    for k in range(10, len(keep) - 1, len(keep) // 12):
        a, b = keep[k], keep[k + 1]
        # Arrival order swapped: each record keeps its capture time, the bodies trade places.
        recs[a], recs[b] = recs[a][:16] + recs[b][16:], recs[b][:16] + recs[a][16:]
        swaps += 1
    out = os.path.join(tmp, "lossy.pcap")
    write_pcap(out, head, (r for i, r in enumerate(recs) if i not in drop))
    data, _ = import_capture(tmp, "lossy", out)
    g = calls_by_id(data)[t["call_id"]]
    check(g["recording"] and abs(g["recording"]["duration_s"] - (t["end"] - t["answer"])) <= 0.060,
          "lossy: duration changed: %s" % g["recording"])
    detail = json.loads(run(BIN, "-d", data, "call", str(g["id"])))
    s = next(s for s in detail["streams"] if s["channel"] == 1)
    check(s["lost"] == len(drop), "lossy: %d lost counted, %d dropped" % (s["lost"], len(drop)))
    check(s["reordered"] >= swaps - 1, "lossy: %d reordered counted, %d swaps" % (s["reordered"], swaps))
    check(s["packets"] == t["rtp_packets_callee"] - len(drop), "lossy: %d packets, %d sent"
          % (s["packets"], t["rtp_packets_callee"] - len(drop)))


with tempfile.TemporaryDirectory() as tmp:
    cap, truth = check_capture(tmp, "pcmu")
    check_capture(tmp, "pcma")
    check_loss(tmp, cap, truth)

print("media tones: %d failures" % len(failures))
sys.exit(1 if failures else 0)
