#!/usr/bin/env python3
"""Speak shoald's local API (docs/api.md) directly, without the plugin: a small library and a CLI
for tests.  Standard library only.

One connection carries one request: connect, send the JSON (an fd may ride along as SCM_RIGHTS on
the first bytes), shut down the write side, read the answer until EOF.

    apiclient.py -s SOCK call '{"op":"status"}'            # prints the answer, one line
    apiclient.py -s SOCK --fd /proc/PID/ns/net call '{"op":"add",...}'
    apiclient.py -s SOCK --report call '{"op":"status"}'   # {"elapsed":..,"response":..,"error":..}
    apiclient.py -s SOCK raw '{"op":'                      # exact bytes (also --hex)
    apiclient.py -s SOCK big 65537                         # a status request padded to N bytes
    apiclient.py -s SOCK --as nobody:nogroup swarm 600 --hold 5 --ready FILE
                                                            # hold 600 idle connections

--as USER:GROUP forks a child that drops to that uid and gid (no supplementary groups) before it
connects; the --fd file is opened before, with the caller's rights.  Exit code: 0 when an answer
that is a JSON object arrived, 1 otherwise (swarm: 0 when it ran).
"""
import argparse
import errno
import grp
import json
import os
import pwd
import selectors
import socket
import sys
import time


class Result:
    def __init__(self):
        self.response = None   # the parsed answer when it is a JSON object
        self.raw = b""         # what shoald sent
        self.error = None      # transport error text, or None
        self.elapsed = 0.0     # seconds from connect to EOF

    def as_dict(self):
        return {"elapsed": round(self.elapsed, 4), "response": self.response,
                "raw": self.raw.decode("utf-8", "replace") if self.response is None else None,
                "error": self.error}


def _send(sock, data, fd):
    """Send all of data; fd (if >= 0) as SCM_RIGHTS with the first bytes."""
    view = memoryview(data)
    if fd is not None and fd >= 0:
        n = socket.send_fds(sock, [view[:65536] if len(view) else b" "], [fd])
        if not len(view):
            return
        view = view[n:]
    while len(view):
        n = sock.send(view)
        view = view[n:]


def _read_answer(sock):
    """Read until EOF.  ECONNRESET after the answer (shoald closed with our request unread, e.g. when
    it refuses a peer) ends the answer like EOF does."""
    chunks = []
    while True:
        try:
            b = sock.recv(65536)
        except ConnectionResetError:
            if chunks:
                break
            raise
        if not b:
            break
        chunks.append(b)
    return b"".join(chunks)


def call(path, request=None, raw=None, fd=None, timeout=10.0, shutdown=True):
    """One exchange.  request: a JSON-serialisable object; raw: bytes sent as they are instead.
    fd: an open descriptor to pass.  Never raises for transport errors: see Result.error."""
    res = Result()
    data = raw if raw is not None else json.dumps(request, separators=(",", ":")).encode()
    t0 = time.monotonic()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(path)
        try:
            _send(sock, data, fd)
            if shutdown:
                sock.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            # shoald may have answered and closed before reading (a refusal): read what it said.
            pass
        res.raw = _read_answer(sock)
    except socket.timeout:
        res.error = "timeout after %.1f s" % timeout
    except OSError as e:
        res.error = "%s: %s" % (errno.errorcode.get(e.errno, "E?"), e.strerror)
    finally:
        res.elapsed = time.monotonic() - t0
        sock.close()
    if res.raw:
        try:
            obj = json.loads(res.raw)
            if isinstance(obj, dict):
                res.response = obj
        except ValueError:
            pass
        if res.response is None and res.error is None:
            res.error = "answer is not a JSON object"
    elif res.error is None:
        res.error = "closed without an answer"
    return res


def padded_status(size, op="status"):
    """A valid JSON request of exactly size bytes: {"op":"status","pad":"xxx..."}."""
    head = b'{"op":"%s","pad":"' % op.encode()
    tail = b'"}'
    n = size - len(head) - len(tail)
    if n < 0:
        raise ValueError("size %d is too small for a padded request" % size)
    return head + b"x" * n + tail


def swarm(path, count, hold, payload=b"", shutdown=False, maintain=False, ready=None, probes=(),
          connect_timeout=1.0):
    """Open count connections; each sends payload (non-blocking, as far as shoald reads) and, with
    shutdown, shuts down its write side; hold them for hold seconds.  maintain: reopen every
    connection shoald closes, so count stay open.  ready: an open file to which the number opened is
    written once all are open.  probes: requests (bytes) sent one after the other, from this process,
    once all are open; their answers land in the summary's "probes".  Ends early when every
    connection is done (without maintain).  Returns a summary dict: how many shoald answered
    (by code), closed without an answer, or left open; the time of the first answer."""
    sel = selectors.DefaultSelector()
    stats = {"opened": 0, "connect_errors": 0, "answered": {}, "closed_silently": 0, "open_at_end": 0,
             "first_answer_s": None}
    t0 = time.monotonic()

    def open_one():
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        # A unix socket's non-blocking connect fails with EAGAIN when the backlog is full instead of
        # completing later: connect blocking, for a bounded time.
        s.settimeout(connect_timeout)
        try:
            s.connect(path)
        except OSError:
            stats["connect_errors"] += 1
            s.close()
            return False
        s.setblocking(False)
        st = {"out": memoryview(payload), "in": [], "shut": False}
        ev = selectors.EVENT_READ | (selectors.EVENT_WRITE if len(payload) or shutdown else 0)
        sel.register(s, ev, st)
        stats["opened"] += 1
        return True

    def finish(s, st):
        sel.unregister(s)
        s.close()
        raw = b"".join(st["in"])
        if raw:
            try:
                code = str(json.loads(raw).get("code", "ok"))
            except (ValueError, AttributeError):
                code = "garbage"
            stats["answered"][code] = stats["answered"].get(code, 0) + 1
            if stats["first_answer_s"] is None:
                stats["first_answer_s"] = round(time.monotonic() - t0, 3)
        else:
            stats["closed_silently"] += 1
        if maintain and time.monotonic() - t0 < hold:
            open_one()

    for _ in range(count):
        if not open_one():
            break
    if ready:
        ready.write("%d\n" % stats["opened"])
        ready.close()
    stats["probes"] = [call(path, raw=p, timeout=max(hold, 1.0)).as_dict() for p in probes]
    while True:
        left = hold - (time.monotonic() - t0)
        if left <= 0 or not sel.get_map():
            break
        for key, ev in sel.select(timeout=min(left, 0.5)):
            s, st = key.fileobj, key.data
            if ev & selectors.EVENT_WRITE:
                try:
                    if len(st["out"]):
                        n = s.send(st["out"][:262144])
                        st["out"] = st["out"][n:]
                    if not len(st["out"]):
                        if shutdown and not st["shut"]:
                            s.shutdown(socket.SHUT_WR)
                            st["shut"] = True
                        sel.modify(s, selectors.EVENT_READ, st)
                except BlockingIOError:
                    pass
                except OSError:
                    sel.modify(s, selectors.EVENT_READ, st)
            if ev & selectors.EVENT_READ:
                try:
                    b = s.recv(65536)
                except BlockingIOError:
                    continue
                except OSError:
                    b = b""
                if b:
                    st["in"].append(b)
                else:
                    finish(s, st)
    stats["open_at_end"] = len(sel.get_map())
    for key in list(sel.get_map().values()):
        key.fileobj.close()
    stats["elapsed"] = round(time.monotonic() - t0, 3)
    return stats


def _ids(spec):
    user, _, group = spec.partition(":")
    uid = int(user) if user.isdigit() else pwd.getpwnam(user).pw_uid
    if not group:
        gid = pwd.getpwuid(uid).pw_gid
    else:
        gid = int(group) if group.isdigit() else grp.getgrnam(group).gr_gid
    return uid, gid


def run_as(spec, fn):
    """Run fn() in a child that dropped to USER:GROUP; return its exit code."""
    uid, gid = _ids(spec)
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:
        rc = 1
        try:
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)
            rc = fn()
        finally:
            sys.stdout.flush()
            os._exit(rc)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-s", "--socket", default="/run/shoal/shoald.sock")
    p.add_argument("--fd", help="open this file (e.g. /proc/PID/ns/net) and pass it with the request")
    p.add_argument("--as", dest="as_user", help="USER:GROUP to connect as (forked child)")
    p.add_argument("--timeout", type=float, default=10.0)
    p.add_argument("--no-shutdown", action="store_true", help="do not shut down the write side")
    p.add_argument("--report", action="store_true",
                   help='print {"elapsed","response","raw","error"} instead of the bare answer')
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("call", help="send one JSON request")
    c.add_argument("json")
    r = sub.add_parser("raw", help="send these bytes as they are")
    r.add_argument("data")
    r.add_argument("--hex", action="store_true", help="data is hex")
    b = sub.add_parser("big", help="send a valid request padded to exactly SIZE bytes")
    b.add_argument("size", type=int)
    b.add_argument("--op", default="status")
    w = sub.add_parser("swarm", help="hold N connections (idle, or sending --size bytes each)")
    w.add_argument("count", type=int)
    w.add_argument("--hold", type=float, default=5.0)
    w.add_argument("--size", type=int, default=0, help="each sends a padded request of this many bytes")
    w.add_argument("--shutdown", action="store_true", help="shut down the write side after sending")
    w.add_argument("--maintain", action="store_true", help="reopen connections shoald closes")
    w.add_argument("--ready", help="write the number opened to this file once all are open")
    w.add_argument("--probe", action="append", default=[],
                   help="a JSON request to send once all are open (repeatable); answers in \"probes\"")
    a = p.parse_args()

    # Opened with the caller's rights, before --as drops them.
    fd = os.open(a.fd, os.O_RDONLY | os.O_CLOEXEC) if a.fd else None
    ready = open(a.ready, "w") if a.cmd == "swarm" and a.ready else None

    def act():
        if a.cmd == "swarm":
            payload = padded_status(a.size) if a.size else b""
            print(json.dumps(swarm(a.socket, a.count, a.hold, payload, a.shutdown, a.maintain, ready,
                                   [q.encode() for q in a.probe])))
            return 0
        if a.cmd == "call":
            res = call(a.socket, request=json.loads(a.json), fd=fd, timeout=a.timeout, shutdown=not a.no_shutdown)
        elif a.cmd == "raw":
            data = bytes.fromhex(a.data) if a.hex else a.data.encode("utf-8", "surrogateescape")
            res = call(a.socket, raw=data, fd=fd, timeout=a.timeout, shutdown=not a.no_shutdown)
        else:
            res = call(a.socket, raw=padded_status(a.size, a.op), fd=fd, timeout=a.timeout,
                       shutdown=not a.no_shutdown)
        if a.report:
            print(json.dumps(res.as_dict()))
        elif res.response is not None:
            print(json.dumps(res.response))
        else:
            print("apiclient: %s" % res.error, file=sys.stderr)
        return 0 if res.response is not None else 1

    if a.as_user:
        return run_as(a.as_user, act)
    return act()


if __name__ == "__main__":
    sys.exit(main())
