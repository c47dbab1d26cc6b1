"""A client of containerd's CRI streaming server, for the CRI `Exec` RPC
(ExecSync has no stdin). `Exec` answers with a URL on that server; the
kubelet speaks to it over SPDY or WebSocket. This is WebSocket (RFC 6455,
stdlib only) with the subprotocol `v4.channel.k8s.io`: every binary frame's
first byte is its channel (0 stdin, 1 stdout, 2 stderr, 3 the exec's
status as a JSON v1.Status), the rest its data.
"""
import base64
import contextlib
import hashlib
import json
import os
import socket
import struct
import urllib.parse

PROTOCOL = "v4.channel.k8s.io"
STDIN, STDOUT, STDERR, STATUS = 0, 1, 2, 3
# RFC 6455's key suffix for Sec-WebSocket-Accept.
ACCEPT_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TEXT, BINARY, CLOSE, PING, PONG = 0x1, 0x2, 0x8, 0x9, 0xA


class StreamError(Exception):
    pass


class ExecResult:
    def __init__(self, channels):
        self.stdout = channels.get(STDOUT, b"")
        self.stderr = channels.get(STDERR, b"")
        self.status = json.loads(channels[STATUS]) if channels.get(STATUS) else None

    def exit_code(self):
        """0 for a v1.Status of Success; for NonZeroExitCode, the code its
        ExitCode cause carries (the kubelet's streaming server writes it
        there in v4); None when the status says neither."""
        if not self.status:
            return None
        if self.status.get("status") == "Success":
            return 0
        if self.status.get("reason") != "NonZeroExitCode":
            return None
        causes = (self.status.get("details") or {}).get("causes") or []
        codes = [cause.get("message") for cause in causes if cause.get("reason") == "ExitCode"]
        return int(codes[0]) if codes and codes[0].isdigit() else None


class WebSocket:
    """One client connection: the opening handshake, masked frames out,
    frames in until the server closes."""

    def __init__(self, url, timeout):
        parts = urllib.parse.urlsplit(url)
        if parts.scheme != "http" or not parts.hostname or not parts.port:
            raise StreamError(f"not a plain-HTTP streaming URL: {url!r}")
        self.connection = socket.create_connection((parts.hostname, parts.port), timeout=timeout)
        self.buffer = b""
        self.handshake(parts.netloc, parts.path + (f"?{parts.query}" if parts.query else ""))

    def handshake(self, host, path):
        key = base64.b64encode(os.urandom(16)).decode()
        request = (f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                   f"Sec-WebSocket-Protocol: {PROTOCOL}\r\n\r\n")
        self.connection.sendall(request.encode())
        while b"\r\n\r\n" not in self.buffer:
            chunk = self.connection.recv(4096)
            if not chunk:
                raise StreamError(f"the streaming server closed during the handshake: {self.buffer[:200]!r}")
            self.buffer += chunk
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        lines = head.decode(errors="replace").split("\r\n")
        if lines[0].split()[1:2] != ["101"]:
            raise StreamError(f"the streaming server answered {lines[0]!r}, not 101")
        headers = {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:])}
        accept = base64.b64encode(hashlib.sha1((key + ACCEPT_GUID).encode()).digest()).decode()
        if headers.get("sec-websocket-accept") != accept:
            raise StreamError("wrong Sec-WebSocket-Accept")
        if headers.get("sec-websocket-protocol") != PROTOCOL:
            raise StreamError(f"subprotocol {headers.get('sec-websocket-protocol')!r}, not {PROTOCOL}")

    def send(self, opcode, payload):
        """One final frame; a client masks every frame it sends."""
        mask = os.urandom(4)
        length = len(payload)
        if length < 126:
            header = struct.pack("!BB", 0x80 | opcode, 0x80 | length)
        elif length < 1 << 16:
            header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, length)
        else:
            header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, length)
        masked = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))
        self.connection.sendall(header + mask + masked)

    def read_exactly(self, count):
        while len(self.buffer) < count:
            chunk = self.connection.recv(65536)
            if not chunk:
                raise EOFError
            self.buffer += chunk
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data

    def frame(self):
        """(fin, opcode, payload) of the next frame; the server's are unmasked."""
        first, second = self.read_exactly(2)
        length = second & 0x7F
        if length == 126:
            length = struct.unpack("!H", self.read_exactly(2))[0]
        elif length == 127:
            length = struct.unpack("!Q", self.read_exactly(8))[0]
        mask = self.read_exactly(4) if second & 0x80 else None
        payload = self.read_exactly(length)
        if mask:
            payload = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))
        return bool(first & 0x80), first & 0x0F, payload

    def messages(self):
        """Each whole data message until the server's close frame or EOF;
        pings are answered."""
        message, kind = b"", None
        while True:
            try:
                fin, opcode, payload = self.frame()
            except EOFError:
                return
            if opcode == CLOSE:
                with contextlib.suppress(OSError):
                    self.send(CLOSE, payload[:2])
                return
            if opcode == PING:
                self.send(PONG, payload)
                continue
            if opcode in (TEXT, BINARY):
                message, kind = payload, opcode
            elif opcode == 0:  # a continuation
                message += payload
            if fin and kind is not None:
                yield message
                message, kind = b"", None

    def close(self):
        self.connection.close()


def exec_with_stdin(url, stdin, timeout=60):
    """Sends `stdin` on channel 0 and collects every channel until the
    server closes the stream (after the process exits and the status is
    written). v4 has no way to close stdin alone (v5 added one), so the
    process must not wait for end of input."""
    stream = WebSocket(url, timeout)
    try:
        stream.send(BINARY, bytes([STDIN]) + stdin)
        channels = {}
        for message in stream.messages():
            if message:
                channels[message[0]] = channels.get(message[0], b"") + message[1:]
        return ExecResult(channels)
    finally:
        stream.close()
