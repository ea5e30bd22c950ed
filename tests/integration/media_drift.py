#!/usr/bin/env python3
"""Clock drift between a sender and the capture is corrected: a long call stays aligned.

The requirement: "clock drift between sender and capture is corrected so that a one-hour
call stays aligned within 40 ms".  The generator (tests/bench/gen_calls --drift-ppm N)
makes the callee's sender clock run N ppm off the capture clock: its packets go out every
20 ms * (1 + N/1e6) of capture time while its RTP timestamps step by 160.  Over a
20-minute call 300 ppm is 360 ms, as much as 100 ppm gives in an hour.  With
--marks-every 60 both directions carry 60 ms of digital silence every minute.

For +300 and -300 ppm, one answered G.711 u-law call: after `greffier import` and
`greffier audio ID -o x.wav`,
- the recording lasts from answer to BYE (within 60 ms);
- every mark is found in its channel (caller left, callee right) within 40 ms of where
  capture time puts it, and where it is found the channel is silent;
- the streams' packet counts are those the generator sent.
The largest error per channel is printed for each run.

GREFFIER_DRIFT_MINUTES and GREFFIER_DRIFT_PPM change the call's length and the drift
(the drift is then applied both ways, + and -).
"""
import json, math, os, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mediacheck import (BIN, calls_by_id, check, failures, find_mark, generate,  # noqa: E402
                        import_capture, read_wav, recording_start, run)

MINUTES = int(os.environ.get("GREFFIER_DRIFT_MINUTES", "20"))
PPM = int(os.environ.get("GREFFIER_DRIFT_PPM", "300"))
MARK_S = 0.060
TOLERANCE = 0.040
# Uncorrected, the last mark is off by the whole drift; search far enough to find it
# there, so that a failure reports where the mark really is.
SPAN = max(0.25, MINUTES * 60 * abs(PPM) / 1e6 * 1.5)


def rms(x):
    return math.sqrt(sum(v * v for v in x) / len(x)) if len(x) else 0.0


def check_drift(tmp, ppm):
    label = "drift%+d" % ppm
    cap, truth = generate(tmp, label, "--calls", "1", "--duration", str(MINUTES * 60),
                          "--scenario", "answered", "--codec", "pcmu", "--seed", "11",
                          "--drift-ppm", str(ppm), "--marks-every", "60")
    t = truth["calls"][0]
    data, _ = import_capture(tmp, label, cap)
    g = calls_by_id(data).get(t["call_id"])
    if not check(g is not None and g["recording"] is not None,
                 "%s: call %s not recorded (%s)" % (label, t["call_id"], g and g.get("media_state"))):
        return
    rec = g["recording"]
    talk = t["end"] - t["answer"]
    check(abs(rec["duration_s"] - talk) <= 0.060, "%s: recording %.3f s, answer to BYE %.3f s"
          % (label, rec["duration_s"], talk))
    wav = os.path.join(tmp, label + ".wav")
    run(BIN, "-d", data, "audio", str(g["id"]), "-o", wav)
    rate, left, right = read_wav(wav)
    check(rate == 8000, "%s: rate %d" % (label, rate))
    wav_s = len(left) / rate
    check(abs(wav_s - talk) <= 0.060, "%s: WAV lasts %.3f s, answer to BYE %.3f s"
          % (label, wav_s, talk))
    start = recording_start(t, rec)
    win = int(0.020 * rate)
    tone = {0: rms(left[rate:2 * rate]), 1: rms(right[rate:2 * rate])}
    worst = {}
    for ch, x, side in ((0, left, "caller"), (1, right, "callee")):
        errs = []
        for j, m in enumerate(t["marks"]):
            if m[side] is None:
                continue
            want = m[side] + MARK_S / 2 - start  # the middle of the 60 ms mark
            got = find_mark(x, rate, want, SPAN)
            if not check(got is not None, "%s %s mark %d (%.3f s): not found" % (label, side, j, want)):
                continue
            err = got - want
            errs.append(err)
            at = int(got * rate) - win // 2
            level = rms(x[at:at + win])
            check(abs(err) <= TOLERANCE and level < tone[ch] / 100,
                  "%s %s mark %d: found at %.3f s, expected %.3f s (%+.0f ms), level %.0f "
                  "(tone %.0f)" % (label, side, j, got, want, err * 1000, level, tone[ch]))
        worst[side] = max(errs, key=abs) if errs else None
        print("%s %s: %d marks, errors (ms) %s" % (label, side, len(errs),
              " ".join("%+.0f" % (e * 1000) for e in errs)))
    print("%s: %d min, recording %.3f s (answer to BYE %.3f s), largest mark error caller "
          "%+.0f ms, callee %+.0f ms" % (label, MINUTES, rec["duration_s"], talk,
                                         (worst["caller"] or 0) * 1000,
                                         (worst["callee"] or 0) * 1000))
    check(len(t["marks"]) >= MINUTES - 3, "%s: only %d marks in the truth" % (label, len(t["marks"])))
    detail = json.loads(run(BIN, "-d", data, "call", str(g["id"])))
    by_channel = {s["channel"]: s for s in detail["streams"]}
    check(by_channel.get(0, {}).get("packets") == t["rtp_packets_caller"] and
          by_channel.get(1, {}).get("packets") == t["rtp_packets_callee"],
          "%s: stream packets %s, sent %d/%d" % (label, {k: v["packets"] for k, v in by_channel.items()},
                                                 t["rtp_packets_caller"], t["rtp_packets_callee"]))


with tempfile.TemporaryDirectory() as tmp:
    for ppm in (PPM, -PPM):
        check_drift(tmp, ppm)

print("media drift: %d failures" % len(failures))
sys.exit(1 if failures else 0)
