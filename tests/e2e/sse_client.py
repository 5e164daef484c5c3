"""A minimal Server-Sent Events client over a raw socket (standard library only), for the
event-stream tests: it sends one GET, checks the response head, and parses the stream into
events as the EventSource algorithm does (fields id/event/data/retry; comment lines kept as
events of type "comment" so heartbeats can be observed)."""

import json
import socket
import time


class StreamClosed(Exception):
    pass


class SSEClient:
    def __init__(self, host, port, path="/tasks/events", headers=None, timeout=10,
                 rcvbuf=None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect((host, port))
        lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}", "Accept: text/event-stream"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise StreamClosed(f"closed before the response head: {self.buf!r}")
            self.buf += chunk
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        head_lines = head.decode("latin-1").split("\r\n")
        self.status = int(head_lines[0].split()[1])
        self.headers = {}
        for line in head_lines[1:]:
            k, _, v = line.partition(":")
            self.headers[k.strip().lower()] = v.strip()
        self.last_id = None
        self.closed = False

    def body_text(self, timeout=5):
        """For non-stream answers (4xx): the rest of the body (Content-Length delimited)."""
        n = int(self.headers.get("content-length", "0"))
        self.sock.settimeout(timeout)
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                break
            self.buf += chunk
        return self.buf[:n].decode()

    def _line(self, deadline):
        while b"\n" not in self.buf:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                return None
            except ConnectionResetError as e:
                self.closed = True
                raise StreamClosed(str(e))
            if not chunk:
                self.closed = True
                raise StreamClosed("the server closed the stream")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode("utf-8").rstrip("\r")

    def next(self, timeout=10):
        """The next event as a dict {event, id, data (parsed JSON when possible), text}, or None
        when nothing complete arrives within the timeout. Raises StreamClosed at end of stream."""
        deadline = time.monotonic() + timeout
        ev = {"event": "message", "id": None, "data": [], "comment": None}
        seen = False
        while True:
            line = self._line(deadline)
            if line is None:
                return None
            if line == "":
                if not seen:
                    continue
                if ev["comment"] is not None and not ev["data"]:
                    return {"event": "comment", "id": None, "data": None, "text": ev["comment"]}
                if not ev["data"] and ev["id"] is None:
                    ev = {"event": "message", "id": None, "data": [], "comment": None}
                    seen = False
                    continue  # e.g. a lone "retry:" block
                text = "\n".join(ev["data"])
                try:
                    data = json.loads(text)
                except ValueError:
                    data = text
                if ev["id"] is not None:
                    self.last_id = ev["id"]
                return {"event": ev["event"], "id": ev["id"], "data": data, "text": text}
            seen = True
            if line.startswith(":"):
                ev["comment"] = line[1:].strip()
                continue
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "event":
                ev["event"] = value
            elif field == "data":
                ev["data"].append(value)
            elif field == "id":
                ev["id"] = value

    def events_until(self, predicate, timeout=15, kinds=("task", "reload")):
        """Collects events (of the given kinds) until predicate(event) is true; returns them all.
        AssertionError on timeout."""
        out = []
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"timed out; events so far: {[_brief(e) for e in out]}")
            ev = self.next(remaining)
            if ev is None:
                continue
            if ev["event"] not in kinds:
                continue
            out.append(ev)
            if predicate(ev):
                return out

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def _brief(ev):
    d = ev.get("data")
    if isinstance(d, dict):
        return (ev["event"], ev["id"], d.get("id", "")[-6:], d.get("task_status"), d.get("progress"))
    return (ev["event"], ev["id"], d)
