"""Helpers shared by the media tests (media_tones.py, media_codecs.py): running greffier
and the capture generator (tests/bench/gen_calls), reading WAV and pcap files, measuring
tones, and the checks every answered call of a generated capture must pass.

A failed check is recorded in `failures` and printed; the scripts end with a count.
"""
import array, json, math, os, struct, subprocess, wave

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


def probe_freqs(rate, step=250):
    """A grid of frequencies across the band, for 'is this tone the strongest' checks."""
    return list(range(step, rate // 2, step))


def dominant(x, rate, candidates):
    """The candidate frequency with the most energy in x."""
    return max(candidates, key=lambda f: goertzel(x, rate, f))


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


def generate(tmp, name, *args):
    """Runs the generator; returns the capture's path and its truth file."""
    cap = os.path.join(tmp, name + ".pcap")
    run(GEN, *args, "-o", cap)
    return cap, json.load(open(cap[:-5] + ".truth.json"))


def import_capture(tmp, name, cap):
    """Imports cap into a fresh data folder; returns the folder and the import summary."""
    data = os.path.join(tmp, "data-" + name)
    run(BIN, "init", "-d", data)
    summary = run(BIN, "-d", data, "import", cap).strip()
    print(name, summary)
    return data, summary


def recording_start(t, rec):
    """Capture time (epoch seconds) of the recording's first sample."""
    return t["answer"] - rec.get("answer_offset_s", 0.0)


def check_call(label, tmp, data, t, g, rate, min_sep, band_check=False):
    """The checks every answered call passes: a recording from answer to BYE (within
    60 ms) at the given rate, the caller's tone left and the callee's right with at least
    min_sep dB of separation (and, with band_check, each the strongest of a grid of
    frequencies across the band), both alignment marks within 40 ms of capture time, and
    the streams' packet counts those the generator sent.
    Returns (left, right, detail) for further checks, or None without a recording."""
    cid = t["call_id"]
    rec = g["recording"]
    if not check(rec is not None, "%s: answered call %s has no recording (%s)"
                 % (label, cid, g.get("media_state"))):
        return None
    talk = t["end"] - t["answer"]
    check(abs(rec["duration_s"] - talk) <= 0.060, "%s %s: recording %.3f s, answer to BYE %.3f s"
          % (label, cid, rec["duration_s"], talk))
    wav = os.path.join(tmp, "%s-%d.wav" % (label, g["id"]))
    run(BIN, "-d", data, "audio", str(g["id"]), "-o", wav)
    wav_rate, left, right = read_wav(wav)
    check(wav_rate == rec["sample_rate"] == rate, "%s %s: rate %d, recording says %s, want %d"
          % (label, cid, wav_rate, rec["sample_rate"], rate))
    seg = slice(int(0.5 * wav_rate), int(1.5 * wav_rate))
    fa, fb = t["caller_tone_hz"], t["callee_tone_hz"]
    sep_l = 10 * math.log10(goertzel(left[seg], wav_rate, fa) / goertzel(right[seg], wav_rate, fa))
    sep_r = 10 * math.log10(goertzel(right[seg], wav_rate, fb) / goertzel(left[seg], wav_rate, fb))
    check(sep_l >= min_sep and sep_r >= min_sep, "%s %s: channel separation %.1f / %.1f dB (want %d)"
          % (label, cid, sep_l, sep_r, min_sep))
    if band_check:
        short = slice(int(0.5 * wav_rate), int(1.0 * wav_rate))
        for ch, x, want in ((0, left, fa), (1, right, fb)):
            grid = [f for f in probe_freqs(wav_rate) if abs(f - want) > 50] + [want]
            got = dominant(x[short], wav_rate, grid)
            check(got == want, "%s %s: channel %d dominated by %d Hz, sent %d Hz"
                  % (label, cid, ch, got, want))
    start = recording_start(t, rec)
    marks = []
    for ch, x, key in ((0, left, "caller_marker"), (1, right, "callee_marker")):
        want = t[key] + 0.030 - start  # the middle of the 60 ms mark
        got = find_mark(x, wav_rate, want)
        marks.append(None if got is None else round((got - want) * 1000))
        check(got is not None and abs(got - want) <= 0.040,
              "%s %s: mark of channel %d at %s s, sent at %.3f s" % (label, cid, ch, got, want))
    print("%s %s: separation %.1f / %.1f dB, marks %s ms off" % (label, cid, sep_l, sep_r, marks))
    detail = json.loads(run(BIN, "-d", data, "call", str(g["id"])))
    by_channel = {s["channel"]: s for s in detail["streams"]}
    check(by_channel.get(0, {}).get("packets") == t["rtp_packets_caller"] and
          by_channel.get(1, {}).get("packets") == t["rtp_packets_callee"],
          "%s %s: stream packets %s, sent %d/%d" % (label, cid,
          {k: v["packets"] for k, v in by_channel.items()}, t["rtp_packets_caller"], t["rtp_packets_callee"]))
    return left, right, detail


def read_pcap(path):
    """The file header and each record (16-byte record header + frame), little-endian."""
    raw = open(path, "rb").read()
    head, recs, off = raw[:24], [], 24
    while off + 16 <= len(raw):
        caplen = struct.unpack_from("<I", raw, off + 8)[0]
        recs.append(raw[off:off + 16 + caplen])
        off += 16 + caplen
    return head, recs


def write_pcap(path, head, recs):
    with open(path, "wb") as f:
        f.write(head)
        for r in recs:
            f.write(r)


def packets_to(recs, addr):
    """Indexes of the records (Ethernet/IPv4/UDP, as the generator writes them) sent to
    addr, "ip:port"."""
    ip, port = addr.rsplit(":", 1)
    dst = bytes(int(b) for b in ip.split(".")) + struct.pack("!H", int(port))
    return [i for i, r in enumerate(recs) if r[16 + 30:16 + 34] + r[16 + 36:16 + 38] == dst]
