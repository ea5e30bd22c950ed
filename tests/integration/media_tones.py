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
import array, json, math, os, random, struct, subprocess, sys, tempfile, wave

BIN = os.environ.get("GREFFIER_BIN", "build/greffier")
BUILD = os.environ.get("GREFFIER_BUILD", "build")
GEN = os.path.join(BUILD, "bench", "gen_calls")
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL", what)
    return cond


def run(*args):
    r = subprocess.run(args, capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        raise SystemExit("command failed (%d): %s\n%s" % (r.returncode, " ".join(args), r.stderr))
    return r.stdout


def goertzel(x, rate, hz):
    """Energy of one frequency in the samples x."""
    w = 2 * math.pi * hz / rate
    c = 2 * math.cos(w)
    s1 = s2 = 0.0
    for v in x:
        s1, s2 = v + c * s1 - s2, s1
    return s1 * s1 + s2 * s2 - c * s1 * s2 + 1e-9


def read_wav(path):
    with wave.open(path) as w:
        rate, n = w.getframerate(), w.getnframes()
        assert w.getnchannels() == 2 and w.getsampwidth() == 2
        a = array.array("h", w.readframes(n))
    return rate, a[0::2], a[1::2]


def find_mark(x, rate, around, span=0.25):
    """Centre (seconds) of the quietest 20 ms window within +-span of around."""
    win, step = int(0.020 * rate), max(1, rate // 1000)
    lo, hi = max(0, int((around - span) * rate)), min(len(x) - win, int((around + span) * rate))
    best, best_at = None, None
    sq = [v * v for v in x[lo:hi + win]]
    acc = sum(sq[:win])
    for i in range(0, hi - lo):
        if i % step == 0 and (best is None or acc < best):
            best, best_at = acc, lo + i
        acc += (sq[i + win] if i + win < len(sq) else 0) - sq[i]
    return (best_at + win / 2) / rate if best_at is not None else None


def calls_by_id(data):
    return {c["call_id"]: c for c in json.loads(run(BIN, "-d", data, "calls", "--json"))}


def check_capture(tmp, codec):
    cap = os.path.join(tmp, "calls-%s.pcap" % codec)
    run(GEN, "--calls", "10", "--duration", "12", "--codec", codec, "--seed", "7", "-o", cap)
    truth = json.load(open(cap[:-5] + ".truth.json"))["calls"]
    data = os.path.join(tmp, "data-" + codec)
    run(BIN, "init", "-d", data)
    print(codec, run(BIN, "-d", data, "import", cap).strip())
    ours = calls_by_id(data)
    for t in truth:
        g = ours.get(t["call_id"])
        if not check(g is not None, "%s: call %s not indexed" % (codec, t["call_id"])):
            continue
        if t["status"] != "answered":
            check(g["recording"] is None, "%s: unanswered call %s has a recording" % (codec, t["call_id"]))
            continue
        rec = g["recording"]
        if not check(rec is not None, "%s: answered call %s has no recording (%s)"
                     % (codec, t["call_id"], g.get("media_state"))):
            continue
        talk = t["end"] - t["answer"]
        check(abs(rec["duration_s"] - talk) <= 0.060, "%s %s: recording %.3f s, answer to BYE %.3f s"
              % (codec, t["call_id"], rec["duration_s"], talk))
        wav = os.path.join(tmp, "%s-%d.wav" % (codec, g["id"]))
        run(BIN, "-d", data, "audio", str(g["id"]), "-o", wav)
        rate, left, right = read_wav(wav)
        check(rate == rec["sample_rate"] == 8000, "%s: rate %d" % (codec, rate))
        seg = slice(int(0.5 * rate), int(1.5 * rate))
        fa, fb = t["caller_tone_hz"], t["callee_tone_hz"]
        sep_l = 10 * math.log10(goertzel(left[seg], rate, fa) / goertzel(right[seg], rate, fa))
        sep_r = 10 * math.log10(goertzel(right[seg], rate, fb) / goertzel(left[seg], rate, fb))
        check(sep_l >= 30 and sep_r >= 30, "%s %s: channel separation %.1f / %.1f dB"
              % (codec, t["call_id"], sep_l, sep_r))
        start = t["answer"] - rec.get("answer_offset_s", 0.0)
        for ch, x, key in ((0, left, "caller_marker"), (1, right, "callee_marker")):
            want = t[key] + 0.030 - start  # the middle of the 60 ms mark
            got = find_mark(x, rate, want)
            check(got is not None and abs(got - want) <= 0.040,
                  "%s %s: mark of channel %d at %s s, sent at %.3f s" % (codec, t["call_id"], ch, got, want))
        detail = json.loads(run(BIN, "-d", data, "call", str(g["id"])))
        by_channel = {s["channel"]: s for s in detail["streams"]}
        check(by_channel.get(0, {}).get("packets") == t["rtp_packets_caller"] and
              by_channel.get(1, {}).get("packets") == t["rtp_packets_callee"],
              "%s %s: stream packets %s, sent %d/%d" % (codec, t["call_id"],
              {k: v["packets"] for k, v in by_channel.items()}, t["rtp_packets_caller"], t["rtp_packets_callee"]))
        if t.get("hold"):
            kinds = [e["kind"] for e in detail["events"]]
            check("hold" in kinds and "resume" in kinds, "%s %s: hold events %s" % (codec, t["call_id"], kinds))
            held = (t["rtp_packets_caller"] - t["rtp_packets_callee"]) * 0.020
            quiet = sum(1 for i in range(0, len(right) - 160, 160)
                        if max(abs(v) for v in right[i:i + 160]) < 50) * 0.020
            check(abs(quiet - held) <= 0.3, "%s %s: right channel silent %.2f s, callee held %.2f s"
                  % (codec, t["call_id"], quiet, held))
    return cap, truth


def read_pcap(path):
    raw = open(path, "rb").read()
    head, recs, off = raw[:24], [], 24
    while off + 16 <= len(raw):
        caplen = struct.unpack_from("<I", raw, off + 8)[0]
        recs.append(raw[off:off + 16 + caplen])
        off += 16 + caplen
    return head, recs


def check_loss(tmp, cap, truth):
    """Drops 5 % of the first answered call's RTP toward the caller, swaps 10 pairs."""
    t = next(c for c in truth if c["status"] == "answered" and not c.get("hold"))
    ip, port = t["caller_rtp"].rsplit(":", 1)
    dst = bytes(int(b) for b in ip.split(".")) + struct.pack("!H", int(port))
    head, recs = read_pcap(cap)
    mine = [i for i, r in enumerate(recs) if r[16 + 30:16 + 34] + r[16 + 36:16 + 38] == dst]
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
    with open(out, "wb") as f:
        f.write(head)
        for i, r in enumerate(recs):
            if i not in drop:
                f.write(r)
    data = os.path.join(tmp, "data-lossy")
    run(BIN, "init", "-d", data)
    print("lossy", run(BIN, "-d", data, "import", out).strip())
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
