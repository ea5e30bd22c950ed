#!/usr/bin/env python3
"""The recording rules over HTTP: a configuration with a never-record list, a sample, an
on-demand rule, day and hour windows, number patterns, an address and tags, served by
`greffier serve --no-capture` on a free loopback port.  GET /api/rules must give the
file's rules in order with their lines, conditions and decisions; the role matrix
(admin only); /api/rules/explain must agree with `greffier -c CONF rules explain` on a
table of calls (its output parsed); hostile parameters give 400 naming the parameter; the
view is audited (rules.view), an explanation is not.  Python standard library only."""
import json, os, shutil, subprocess, sys, tempfile, urllib.parse

from apiclient import BIN, Client, check, checks, failures, free_port
from apiclient import start_serve, stop_serve

NOW = "2024-06-05T10:00:00Z"  # a Wednesday, 12:00 in Paris
PASSWORD = "a long password 42"

CONF = """\
[numbers]
internal = 2xxx
trunks = 192.0.2.1

[rules]
timezone = Europe/Paris
never_record = 2999, 0140000000
default = skip
keep_metadata_of_unrecorded = no
on_demand_grace = 300
keep_code = *1
discard_code = *0
malicious_code = *9

[retention]
default_days = 180
tags = litige:3650, urgence:365

[rule urgences]
callee = 15, 112, 0610*
action = record
retention = 3650
tags = urgence, prioritaire

[rule quality]
direction = inbound
days = mon-fri
hours = 08:00-12:00, 14:00-18:00
action = sample
sample = 25
tags = qualite

[rule night]
days = fri
hours = 22:00-06:00
action = on_demand

[rule internal]
direction = internal
action = skip

[rule lab]
address = 10.1.0.0/16
number = 0477*
action = record
retention = 30
"""

# (name, line of its header, conditions, action, sample, retention, tags), in file order.
WANT_RULES = [
    ("urgences", 19, {"callee": ["15", "112", "0610*"]}, "record", None, 3650,
     ["urgence", "prioritaire"]),
    ("quality", 25, {"directions": ["inbound"], "days": ["mon", "tue", "wed", "thu", "fri"],
                     "hours": ["08:00-12:00", "14:00-18:00"]}, "sample", 25, None, ["qualite"]),
    ("night", 33, {"days": ["fri"], "hours": ["22:00-06:00"]}, "on_demand", None, None, []),
    ("internal", 38, {"directions": ["internal"]}, "skip", None, None, []),
    ("lab", 42, {"addresses": ["10.1.0.0/16"], "number": ["0477*"]}, "record", None, 30, []),
]


def get_json(client, path):
    st, _, body = client.json("GET", path)
    return st, body


def run(*args, **kw):
    """greffier under the frozen clock of the server."""
    env = dict(os.environ, GREFFIER_TEST_NOW=NOW)
    return subprocess.run([BIN, *args], capture_output=True, env=env, **kw)


def cli_explain(conf, q):
    """`rules explain` for the query q, its output as a dict of its labelled lines."""
    args = ["-c", conf, "rules", "explain"]
    for k, v in q.items():
        args += ["--" + k.replace("_", "-"), v]
    r = run(*args)
    if r.returncode != 0:
        return {"exit": r.returncode}
    out = {"exit": 0}
    for line in r.stdout.decode().splitlines():
        k, _, v = line.partition(":")
        out[k.strip()] = v.strip()
    return out


def cli_to_api(cli):
    """The CLI's words, in the API's terms: (rule, source, line, action, record,
    sample_percent, retention_days, tags)."""
    rule = cli["rule"]
    line = None
    if rule.startswith("never-record"):
        origin, source = "[never_record]", "never_record"
    elif rule.startswith("default"):
        origin, source = "[default]", "default"
    else:
        origin, source = rule.split(" ")[0], "rule"
        line = int(rule.rsplit(":", 1)[1].rstrip(")"))
    dec = cli["decision"]
    sample = None
    record = None
    action = dec.split(" ")[0]
    if action == "on":
        action, record = "on_demand", True
    elif action == "record":
        record = True
    elif action == "skip":
        record = False
    elif action == "sample":
        sample = int(dec.split(" ")[1].rstrip("%"))
        if "this call: recorded" in dec:
            record = True
        elif "this call: not recorded" in dec:
            record = False
    ret = cli.get("retention")
    days = int(ret.split(" ")[0]) if ret and ret != "general" else None
    tags = [] if cli["tags"] == "none" else [t.strip() for t in cli["tags"].split(",")]
    return (origin, source, line, action, record, sample, days, tags)


# (query, expected rule origin): the expectation guards against both sides being wrong
# the same way.
CASES = [
    ({"caller": "0612345678", "callee": "2999"}, "[never_record]"),
    # never_record wins over the urgences rule that would record it.
    ({"caller": "0140000000", "callee": "15"}, "[never_record]"),
    ({"caller": "0140000000", "callee": "+33140000000"}, "[never_record]"),
    ({"caller": "2001", "callee": "112"}, "urgences"),
    ({"caller": "0612345678", "callee": "2001", "at": "2024-06-05T09:30"}, "quality"),
    ({"caller": "0612345678", "callee": "2001", "at": "2024-06-05T09:30",
      "call_id": "abc@host"}, "quality"),
    ({"caller": "0612345678", "callee": "2001", "at": "2024-06-05T09:30",
      "call_id": "other-call-7@host"}, "quality"),
    # 12:30 is between the two windows, Saturday outside the days.
    ({"caller": "0612345678", "callee": "2001", "at": "2024-06-05T12:30"}, "[default]"),
    ({"caller": "0612345678", "callee": "2001", "at": "2024-06-08T09:30"}, "[default]"),
    # A zone given: 07:30Z is 09:30 in Paris (summer time).
    ({"caller": "0612345678", "callee": "2001", "at": "2024-06-05T07:30:00Z"}, "quality"),
    # Friday 23:00, and Saturday 01:00 (the night window began on Friday).
    ({"caller": "0612345678", "callee": "2001", "at": "2024-06-07T23:00"}, "night"),
    ({"caller": "0612345678", "callee": "2001", "at": "2024-06-08T01:00"}, "night"),
    ({"caller": "0612345678", "callee": "2001", "at": "2024-06-07T01:00"}, "[default]"),
    ({"caller": "2001", "callee": "2002", "at": "2024-06-05T09:30"}, "internal"),
    ({"caller": "2001", "callee": "0477112233", "direction": "outbound",
      "address": "10.1.2.3", "at": "2024-06-09T09:00"}, "lab"),
    ({"caller": "2001", "callee": "0477112233", "direction": "outbound",
      "address": "10.2.2.3", "at": "2024-06-09T09:00"}, "[default]"),
]

HOSTILE = [
    ("direction", {"caller": "1", "callee": "2", "direction": "sideways"}),
    ("direction", {"caller": "1", "callee": "2", "direction": ""}),
    ("at", {"caller": "1", "callee": "2", "at": "2024-13-45T99:99"}),
    ("at", {"caller": "1", "callee": "2", "at": "yesterday"}),
    ("at", {"caller": "1", "callee": "2", "at": "2024-06-05T09:30" + "0" * 5000}),
    ("caller", {"caller": "9" * 65, "callee": "2"}),
    ("caller", {"caller": "9" * 100000, "callee": "2"}),
    ("callee", {"caller": "1", "callee": "2' OR '1'='1"}),
    ("callee", {"caller": "1", "callee": "<script>alert(1)</script>"}),
    ("caller", {"caller": "1;DROP TABLE calls;--", "callee": "2"}),
    ("caller", {"callee": "2"}),
    ("callee", {"caller": "1"}),
    ("caller", {"caller": "", "callee": "2"}),
    ("address", {"caller": "1", "callee": "2", "address": "10.0.0.0/8"}),
    ("address", {"caller": "1", "callee": "2", "address": "\"><img src=x>"}),
    ("call_id", {"caller": "1", "callee": "2", "call_id": "x" * 300}),
    ("?", {"caller": "1", "callee": "2", "where": "1=1"}),
]


def check_policy(p, path):
    check(p.get("read_only") is True, "read_only is true")
    check(p.get("config_path") == path, "config_path: %r" % p.get("config_path"))
    check(p.get("timezone") == "Europe/Paris", "timezone: %r" % p.get("timezone"))
    check(p.get("default") == "skip", "default: %r" % p.get("default"))
    check(p.get("keep_metadata_of_unrecorded") is False, "keep_metadata_of_unrecorded")
    check(p.get("never_record") == ["2999", "0140000000"], "never_record: %r" % p.get("never_record"))
    check(p.get("on_demand") == {"keep_code": "*1", "discard_code": "*0", "malicious_code": "*9",
                                 "grace_s": 300}, "on_demand: %r" % p.get("on_demand"))
    check(p.get("retention") == {"default_days": 180, "tags": [{"tag": "litige", "days": 3650},
                                                               {"tag": "urgence", "days": 365}]},
          "retention: %r" % p.get("retention"))
    rules = p.get("rules", [])
    check([r["name"] for r in rules] == [w[0] for w in WANT_RULES],
          "rules in file order: %r" % [r.get("name") for r in rules])
    empty = {"caller": [], "callee": [], "number": [], "directions": [], "addresses": [],
             "days": [], "hours": []}
    for i, (r, w) in enumerate(zip(rules, WANT_RULES)):
        name, line, cond, action, sample, days, tags = w
        want_cond = dict(empty, **cond)
        check(r["position"] == i + 1, "%s position %r" % (name, r["position"]))
        check(r["line"] == line, "%s line %r, want %d" % (name, r["line"], line))
        check(r["conditions"] == want_cond, "%s conditions %r" % (name, r["conditions"]))
        check(r["action"] == action, "%s action %r" % (name, r["action"]))
        check(r["sample_percent"] == sample, "%s sample %r" % (name, r["sample_percent"]))
        check(r["retention_days"] == days, "%s retention %r" % (name, r["retention_days"]))
        check(r["tags"] == tags, "%s tags %r" % (name, r["tags"]))
    # The lines are the file's: each names its own [rule NAME] header.
    lines = open(path).read().splitlines()
    for r in rules:
        check(lines[r["line"] - 1] == "[rule %s]" % r["name"], "line %d is [rule %s]" %
              (r["line"], r["name"]))


def audit_actions(admin):
    st, rows = get_json(admin, "/api/audit?limit=1000")
    check(st == 200, "GET /api/audit: %d" % st)
    text = json.dumps(rows)
    return text.count('"rules.view"'), text.count("rules.explain")


def main():
    tmp = tempfile.mkdtemp(prefix="rules_api.", dir=os.environ.get("TEST_OUT"))
    conf = os.path.join(tmp, "greffier.conf")
    data = os.path.join(tmp, "data")
    with open(conf, "w") as f:
        f.write(CONF)
    r = run("-c", conf, "config", "check")
    check(r.returncode == 0, "config check: %s" % r.stderr.decode()[-300:])
    run("-d", data, "init", check=True)
    for role in ("admin", "supervisor", "auditor"):
        run("-d", data, "user", "add", role + "1", "--role", role, input=(PASSWORD + "\n").encode(),
            check=True)
    port = free_port()
    srv = start_serve(data, port, conf, now=NOW, stderr=subprocess.DEVNULL)
    try:
        anon = Client(port)
        cl = {"anon": anon}
        for role in ("admin", "supervisor", "auditor"):
            cl[role] = Client(port)
            check(cl[role].login(role + "1", PASSWORD) == 200, "login " + role)

        # Role matrix.
        for path in ("/api/rules", "/api/rules/explain?caller=1&callee=2"):
            for role, want in (("anon", 401), ("supervisor", 403), ("auditor", 403),
                               ("admin", 200)):
                st, _, _ = cl[role].req("GET", path)
                check(st == want, "GET %s as %s: %d, want %d" % (path, role, st, want))
        for method in ("POST", "PUT", "DELETE"):
            st, _, _ = cl["admin"].req(method, "/api/rules", {"rules": []})
            check(st == 405, "%s /api/rules: %d, want 405 (read-only)" % (method, st))

        admin = cl["admin"]
        views_before, _ = audit_actions(admin)
        st, policy = get_json(admin, "/api/rules")
        check(st == 200 and policy is not None, "GET /api/rules: %d" % st)
        if policy:
            check_policy(policy, conf)
        views_after, _ = audit_actions(admin)
        check(views_after == views_before + 1, "rules.view audited once per view (%d -> %d)" %
              (views_before, views_after))

        # Explanations: the API and the CLI, case by case.
        for q, want in CASES:
            st, e = get_json(admin, "/api/rules/explain?" + urllib.parse.urlencode(q))
            if not check(st == 200 and e, "explain %r: %d" % (q, st)):
                continue
            check(e["rule"] == want, "explain %r: rule %r, want %r" % (q, e["rule"], want))
            cli = cli_explain(conf, q)
            if not check(cli.get("exit") == 0, "rules explain %r: %r" % (q, cli)):
                continue
            got = (e["rule"], e["source"], e["line"], e["action"], e["record"],
                   e["sample_percent"], e["retention_days"], e["tags"])
            want_cli = cli_to_api(cli)
            if got[1] == "default":
                # The CLI prints no retention line for what is not recorded.
                want_cli = want_cli[:6] + (got[6],) + want_cli[7:]
            check(got == want_cli, "explain %r: API %r, CLI %r" % (q, got, want_cli))
        # The two sample cases with a Call-ID are decided (one kept, one not, as the hash
        # chooses them); without one it stays open.
        outcomes = [get_json(admin, "/api/rules/explain?" + urllib.parse.urlencode(CASES[i][0]))[1]
                    for i in (4, 5, 6)]
        check([o and o["record"] for o in outcomes] == [None, False, True],
              "sample outcomes (no call_id, abc@host, other-call-7@host): %r" %
              [o and o["record"] for o in outcomes])
        # Without `at` the frozen clock is used: Wednesday 12:00 Paris, between the windows.
        st, e = get_json(admin, "/api/rules/explain?caller=0612345678&callee=2001")
        check(e and e["rule"] == "[default]" and e["call"]["local"] == "Wednesday 2024-06-05 12:00",
              "explain at the frozen now: %r" % e)
        check(e and e["call"]["direction"] == "inbound", "direction classified: %r" % e)

        # Hostile parameters: 400 naming the parameter.
        for param, q in HOSTILE:
            path = "/api/rules/explain?" + urllib.parse.urlencode(q)
            st, body = get_json(admin, path)
            check(st == 400, "hostile %s: %d, want 400" % (param, st))
            check(body is not None and body.get("parameter") == param,
                  "hostile %s: parameter %r" % (param, body and body.get("parameter")))
            if body:
                msg = json.dumps(body)
                check("<script" not in msg and "DROP" not in msg and "<img" not in msg,
                      "hostile %s: the value is not echoed: %s" % (param, msg[:200]))
        st, body = get_json(admin, "/api/rules/explain?caller=1%00%3Cb%3E&callee=3")
        check(st == 400 and body and body.get("parameter") == "caller", "caller with NUL: %d" % st)
        st, body = get_json(admin, "/api/rules/explain?caller=1&caller=2&callee=3")
        check(st == 400 and body and body.get("parameter") == "caller", "repeated caller: %d" % st)
        # The CLI refuses the same hostile input.
        r = run("-c", conf, "rules", "explain", "--caller", "1", "--callee", "<b>")
        check(r.returncode == 2 and b"--callee" in r.stderr, "CLI hostile callee: %d %r" %
              (r.returncode, r.stderr[-200:]))

        _, explains = audit_actions(admin)
        check(explains == 0, "explanations are not audited (%d rows)" % explains)
        check(srv.poll() is None, "the server is still running")
    finally:
        stop_serve(srv)
    if not failures:
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print("rules_api: FAIL %d of %d checks" % (len(failures), checks[0]))
        sys.exit(1)
    print("rules_api: ok (%d checks, %d explain cases, %d hostile)" % (checks[0], len(CASES),
                                                                      len(HOSTILE)))


main()
