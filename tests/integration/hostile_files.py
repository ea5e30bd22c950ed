#!/usr/bin/env python3
"""Hostile capture files: greffier import never crashes, names the file it cannot read
(exit 1), reads damaged files up to the damage (exit 0, counted), and keeps what an
earlier import stored."""
import os, struct, subprocess, sys, tempfile

BIN = os.environ.get("GREFFIER_BIN", "build/greffier")
failures = []

def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL", what)

def pcap_header(linktype=1, snaplen=65535):
    return struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen, linktype)

def record(frame, ts=1700000000, caplen=None, wirelen=None):
    caplen = len(frame) if caplen is None else caplen
    wirelen = len(frame) if wirelen is None else wirelen
    return struct.pack("<IIII", ts, 0, caplen, wirelen) + frame

def udp_frame(payload, sport=5060, dport=5060, ip_total=None, udp_len=None):
    udp_len = 8 + len(payload) if udp_len is None else udp_len
    udp = struct.pack("!HHHH", sport, dport, udp_len, 0) + payload
    total = 20 + len(udp) if ip_total is None else ip_total
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, 1, 0, 64, 17, 0,
                     bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]))
    eth = b"\x00\x11\x22\x33\x44\x55" + b"\x66\x77\x88\x99\xaa\xbb" + b"\x08\x00"
    return eth + ip + udp

INVITE = (b"INVITE sip:2041@10.0.0.2 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKx\r\n"
          b"From: <sip:100@pbx>;tag=a\r\nTo: <sip:2041@pbx>\r\nCall-ID: hostile-1\r\n"
          b"CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n")
BUSY = (b"SIP/2.0 486 Busy Here\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKx\r\n"
        b"From: <sip:100@pbx>;tag=a\r\nTo: <sip:2041@pbx>;tag=b\r\nCall-ID: hostile-1\r\n"
        b"CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n")

def run(data, *files):
    return subprocess.run([BIN, "-d", data, "import", *files], capture_output=True, text=True,
                          timeout=60)

def summary_value(out, key):
    for part in out.split():
        if part.startswith(key + "="):
            return int(part.split("=", 1)[1])
    return None

with tempfile.TemporaryDirectory() as tmp:
    data = os.path.join(tmp, "data")
    subprocess.run([BIN, "init", "-d", data], check=True, capture_output=True)
    good = os.path.join(tmp, "good.pcap")
    open(good, "wb").write(pcap_header() + record(udp_frame(INVITE)) +
                           record(udp_frame(BUSY), ts=1700000001))
    r = run(data, good)
    check(r.returncode == 0 and summary_value(r.stdout, "calls") == 1, "good file: %s %s" % (r.stdout, r.stderr))

    cases = {
        "empty.pcap": b"",
        "garbage.pcap": os.urandom(4096),
        "text.pcap": b"this is not a capture\n" * 50,
        "header-only.pcap": pcap_header(),
        "truncated-record.pcap": pcap_header() + record(udp_frame(INVITE))[:40],
        "huge-caplen.pcap": pcap_header() + record(udp_frame(INVITE), caplen=0x7fffffff),
        "lying-ip-length.pcap": pcap_header() + record(udp_frame(INVITE, ip_total=9000)),
        "lying-udp-length.pcap": pcap_header() + record(udp_frame(INVITE, udp_len=9000)),
        "short-udp-length.pcap": pcap_header() + record(udp_frame(INVITE, udp_len=3)),
        "bad-linktype.pcap": pcap_header(linktype=147) + record(udp_frame(INVITE)),
        "oversized-sip.pcap": pcap_header(snaplen=262144) + record(udp_frame(
            INVITE.replace(b"Content-Length", b"X-Junk: " + b"A" * 65000 + b"\r\nContent-Length"))),
        "every-prefix.pcap": pcap_header() + b"".join(
            record(udp_frame(INVITE)[:n], ts=1700000100 + n) for n in range(0, 120)),
    }
    for name, content in cases.items():
        path = os.path.join(tmp, name)
        open(path, "wb").write(content)
        r = run(data, path)
        crashed = r.returncode not in (0, 1) or "Sanitizer" in r.stderr or "runtime error" in r.stderr
        check(not crashed, "%s: crashed (exit %d): %s" % (name, r.returncode, r.stderr[-2000:]))
        if r.returncode == 1:
            check(name in r.stderr, "%s: exit 1 without naming the file: %r" % (name, r.stderr))
        check(r.stdout.count("\n") == 1 and "packets=" in r.stdout,
              "%s: no single summary line: %r" % (name, r.stdout))
        print("%-24s exit %d  %s %s" % (name, r.returncode, r.stdout.strip(), r.stderr.strip()[:160]))

    r = run(data, os.path.join(tmp, "garbage.pcap"))
    check(r.returncode == 1, "garbage file must give exit 1, got %d" % r.returncode)
    r = run(data, os.path.join(tmp, "lying-ip-length.pcap"))
    check(r.returncode == 0 and (summary_value(r.stdout, "drop_truncated") or 0) >= 1,
          "lying IP length must be read and counted as truncated: %s" % r.stdout)
    conf = os.path.join(tmp, "small.conf")
    open(conf, "w").write("[sip]\nmax_message_bytes = 16384\n")
    r = subprocess.run([BIN, "-c", conf, "-d", data, "import", os.path.join(tmp, "oversized-sip.pcap")],
                       capture_output=True, text=True, timeout=60)
    check(r.returncode == 0 and (summary_value(r.stdout, "drop_sip_oversized") or 0) == 1,
          "oversized SIP must be counted: %s" % r.stdout)
    r = run(data, os.path.join(tmp, "truncated-record.pcap"))
    check(r.returncode == 0 and "truncated-record.pcap" in r.stderr,
          "a cut file is read up to the damage and named: %d %r" % (r.returncode, r.stderr))
    r = run(data, "/nonexistent/file.pcap")
    check(r.returncode == 1 and "/nonexistent/file.pcap" in r.stderr, "missing file: %r" % r.stderr)
    r = run(data, good, os.path.join(tmp, "garbage.pcap"))
    check(r.returncode == 1, "one unreadable file among others gives exit 1")
    # What was stored before stays stored.
    r = subprocess.run([BIN, "-d", data, "calls", "--json"], capture_output=True, text=True)
    import json
    calls = json.loads(r.stdout)
    check(len(calls) == 1 and calls[0]["status"] == "busy" and calls[0]["sip_code"] == 486,
          "the good call is still indexed once: %s" % r.stdout)

print("hostile files: %d failures" % len(failures))
sys.exit(1 if failures else 0)
