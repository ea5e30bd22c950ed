"""What the HTTP API tests share: the check counter, a free loopback port, a client that
keeps the session cookie and sends the CSRF token, and `greffier` itself.  Python
standard library only; imported by the *_api.py, web_*.py and ondemand*.py tests."""
import http.client, json, os, socket, ssl, subprocess, time

BIN = os.environ.get("GREFFIER_BIN", "build/greffier")
BUILD = os.environ.get("GREFFIER_BUILD", os.path.dirname(BIN))
failures = []
checks = [0]


def check(cond, what):
    """Counts a check; a failed one is printed and remembered, never raised."""
    checks[0] += 1
    if not cond:
        failures.append(what)
        print("FAIL", what)
    return cond


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def run(*args, **kw):
    return subprocess.run([BIN, *args], capture_output=True, **kw)


class Client:
    """One user agent: the session cookie of its last login and its CSRF token, sent on
    every request but GETs (csrf=False leaves it out, to test the refusal)."""

    def __init__(self, port, tls_ca=None, timeout=60):
        self.port, self.tls_ca, self.timeout = port, tls_ca, timeout
        self.cookie, self.csrf, self.set_cookie = None, None, None
        self.last_login = None

    def conn(self):
        if self.tls_ca:
            ctx = ssl.create_default_context(cafile=self.tls_ca)
            return http.client.HTTPSConnection("localhost", self.port, context=ctx,
                                               timeout=self.timeout)
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)

    def seen(self, method, path, headers):
        """Called with every response's headers; a test may override it."""

    def req(self, method, path, body=None, headers=None, csrf=True, raw_body=None):
        h = dict(headers or {})
        if self.cookie:
            h["Cookie"] = "greffier_session=" + self.cookie
        if csrf and self.csrf and method != "GET":
            h["X-CSRF-Token"] = self.csrf
        data = raw_body
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        c = self.conn()
        c.request(method, path, body=data, headers=h)
        r = c.getresponse()
        payload = r.read()
        hdrs = {k.lower(): v for k, v in r.getheaders()}
        c.close()
        self.seen(method, path, hdrs)
        return r.status, hdrs, payload

    def json(self, method, path, body=None, **kw):
        st, h, b = self.req(method, path, body, **kw)
        try:
            return st, h, json.loads(b) if b else None
        except ValueError:
            return st, h, None

    def login(self, user, pw):
        """The login's status; on 200 the session and token are kept for what follows."""
        st, h, b = self.req("POST", "/api/login", {"user": user, "password": pw})
        self.last_login = (st, h, b)
        if st == 200:
            self.set_cookie = h.get("set-cookie", "")
            self.cookie = self.set_cookie.split(";")[0].split("=", 1)[1]
            self.csrf = json.loads(b)["csrf"]
        return st


def start_serve(data, port, conf=None, tls_ca=None, now=None, stderr=subprocess.PIPE):
    """`greffier serve --no-capture` on 127.0.0.1:port, once it answers /healthz (a
    failed check otherwise).  now: GREFFIER_TEST_NOW for the server, if given."""
    env = dict(os.environ, GREFFIER_TEST_NOW=now) if now else None
    args = [BIN] + (["-c", conf] if conf else []) + ["-d", data, "serve", "--no-capture",
                                                    "--listen", "127.0.0.1:%d" % port]
    srv = subprocess.Popen(args, env=env, stderr=stderr)
    probe = Client(port, tls_ca)
    for _ in range(100):
        try:
            if probe.req("GET", "/healthz")[0] == 200:
                return srv
        except (OSError, ssl.SSLError):
            time.sleep(0.1)
    check(False, "server did not answer /healthz")
    return srv


def stop_serve(srv):
    """SIGTERM; the server must exit 0 without a sanitizer report.  Its stderr text."""
    srv.terminate()
    try:
        _, err = srv.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        srv.kill()
        _, err = srv.communicate()
    err = err or b""
    check(srv.returncode == 0, "server exit status %s" % srv.returncode)
    if b"ERROR: AddressSanitizer" in err or b"runtime error" in err:
        check(False, "sanitizer report:\n" + err.decode(errors="replace")[-3000:])
    return err
