"""promtext.py - a strict reader of the Prometheus text exposition format 0.0.4, for the
tests of GET /metrics (metrics.py, serve_live.sh).

parse(text) returns (samples, types): samples maps (name, ((label, value), ...)) to a
float, types maps a family name to its TYPE.  It raises ValueError naming the line for
anything the format does not allow or greffier promises not to do: a line that is
neither a comment nor `name{labels} value`, a sample before its family's HELP and TYPE,
a family's samples split by another family, a series given twice, a counter that is
negative or not finite, an empty line, no final newline.
Reference: https://prometheus.io/docs/instrumenting/exposition_formats/ (text 0.0.4).
"""
import math
import re

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r"[a-zA-Z_][a-zA-Z0-9_]*"
VALUE = r"(?:[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|NaN|[+-]Inf)"
SAMPLE = re.compile(r"^(%s)(?:\{(.*)\})? (%s)(?: (-?[0-9]+))?$" % (NAME, VALUE))
LABEL_PAIR = re.compile(r'(%s)="((?:[^"\\\n]|\\[\\"n])*)"' % LABEL)
HELP = re.compile(r"^# HELP (%s) (.*)$" % NAME)
TYPE = re.compile(r"^# TYPE (%s) (counter|gauge|histogram|summary|untyped)$" % NAME)


def _labels(text, where):
    pairs, pos = [], 0
    while pos < len(text):
        m = LABEL_PAIR.match(text, pos)
        if not m:
            raise ValueError("%s: bad label set {%s}" % (where, text))
        value = re.sub(r"\\(.)", lambda e: "\n" if e.group(1) == "n" else e.group(1), m.group(2))
        pairs.append((m.group(1), value))
        pos = m.end()
        if pos < len(text):
            if text[pos] != ",":
                raise ValueError("%s: bad label set {%s}" % (where, text))
            pos += 1
    names = [p[0] for p in pairs]
    if len(set(names)) != len(names):
        raise ValueError("%s: a label given twice {%s}" % (where, text))
    return tuple(sorted(pairs))


def _family(name, types):
    """The family a sample belongs to (histogram and summary suffixes)."""
    if name in types:
        return name
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix) and types.get(name[: -len(suffix)]) in ("histogram", "summary"):
            return name[: -len(suffix)]
    return name


def parse(text):
    if not text.endswith("\n"):
        raise ValueError("the exposition does not end with a newline")
    samples, types, helps, done = {}, {}, set(), set()
    current = None
    for n, line in enumerate(text[:-1].split("\n"), 1):
        where = "line %d (%r)" % (n, line[:120])
        if line == "":
            raise ValueError("%s: empty line" % where)
        if line.startswith("#"):
            m = HELP.match(line)
            if m:
                if m.group(1) in helps:
                    raise ValueError("%s: second HELP for %s" % (where, m.group(1)))
                helps.add(m.group(1))
                continue
            m = TYPE.match(line)
            if m:
                if m.group(1) in types:
                    raise ValueError("%s: second TYPE for %s" % (where, m.group(1)))
                types[m.group(1)] = m.group(2)
                continue
            if line.startswith("# HELP") or line.startswith("# TYPE"):
                raise ValueError("%s: malformed HELP or TYPE" % where)
            continue
        m = SAMPLE.match(line)
        if not m:
            raise ValueError("%s: neither a comment nor `name{labels} value`" % where)
        name, labels, value = m.group(1), _labels(m.group(2) or "", where), float(m.group(3))
        family = _family(name, types)
        if family not in types or family not in helps:
            raise ValueError("%s: sample of %s before its HELP and TYPE" % (where, family))
        if family != current:
            if family in done:
                raise ValueError("%s: the samples of %s are not together" % (where, family))
            if current:
                done.add(current)
            current = family
        if (name, labels) in samples:
            raise ValueError("%s: series given twice" % where)
        if types[family] == "counter" and (math.isnan(value) or value < 0 or math.isinf(value)):
            raise ValueError("%s: counter %s is %s" % (where, name, m.group(3)))
        samples[(name, labels)] = value
    for family in types:
        if family not in helps:
            raise ValueError("TYPE without HELP for %s" % family)
    return samples, types


def value(samples, metric, /, **labels):
    """The value of one series, None when absent."""
    return samples.get((metric, tuple(sorted(labels.items()))))


def series(samples, name):
    """{labels dict as a tuple of pairs: value} of every series of name."""
    return {k[1]: v for k, v in samples.items() if k[0] == name}


def main(argv):
    """promtext.py URL [TOKEN]: GETs URL (with the Bearer TOKEN when given), prints the
    status, then every series as `name{labels} value` sorted.  Exit 0 for a 200 in valid
    text format, 3 for another status, 1 for an invalid body or no answer."""
    import http.client
    import urllib.parse
    u = urllib.parse.urlsplit(argv[1])
    headers = {"Authorization": "Bearer " + argv[2]} if len(argv) > 2 else {}
    try:
        c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
        c.request("GET", u.path, headers=headers)
        r = c.getresponse()
        body = r.read().decode()
    except OSError as e:
        print("no answer:", e)
        return 1
    print("status", r.status)
    if r.status != 200:
        return 3
    try:
        samples, _ = parse(body)
    except ValueError as e:
        print("invalid:", e)
        return 1
    for (name, labels), v in sorted(samples.items()):
        text = ",".join('%s="%s"' % kv for kv in labels)
        print("%s%s %s" % (name, "{%s}" % text if text else "", repr(v)))
    return 0


if __name__ == "__main__":
    import sys
    sys.exit(main(sys.argv))
