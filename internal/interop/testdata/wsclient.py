"""A small RFC 6455 WebSocket client on asyncio streams, for the interop
scripts when the websockets package is not installed. It speaks only what
signaling needs: one text message at a time, pings answered, close."""

import asyncio
import base64
import json
import os
import struct
import urllib.parse


class Closed(Exception):
    """The connection is closed."""


class Conn:
    def __init__(self, reader, writer):
        self._r = reader
        self._w = writer
        self._lock = asyncio.Lock()

    async def _frame(self, opcode, payload):
        head = bytes([0x80 | opcode])
        n = len(payload)
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 1 << 16:
            head += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack("!Q", n)
        mask = os.urandom(4)
        body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        async with self._lock:
            self._w.write(head + mask + body)
            await self._w.drain()

    async def send(self, text):
        await self._frame(0x1, text.encode())

    async def send_json(self, obj):
        await self.send(json.dumps(obj))

    async def recv(self):
        """Returns the next text message as a str."""
        parts = []
        while True:
            try:
                b0, b1 = await self._r.readexactly(2)
                n = b1 & 0x7F
                if n == 126:
                    (n,) = struct.unpack("!H", await self._r.readexactly(2))
                elif n == 127:
                    (n,) = struct.unpack("!Q", await self._r.readexactly(8))
                mask = await self._r.readexactly(4) if b1 & 0x80 else None
                data = await self._r.readexactly(n)
            except (asyncio.IncompleteReadError, ConnectionError) as e:
                raise Closed(str(e))
            if mask:
                data = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
            op = b0 & 0x0F
            if op == 0x8:
                try:
                    await self._frame(0x8, data[:2])
                except ConnectionError:
                    pass
                raise Closed("close frame")
            if op == 0x9:
                await self._frame(0xA, data)
                continue
            if op == 0xA:
                continue
            parts.append(data)
            if b0 & 0x80:
                return b"".join(parts).decode()

    async def close(self):
        try:
            await self._frame(0x8, struct.pack("!H", 1000))
        except ConnectionError:
            pass
        self._w.close()


async def connect(url):
    u = urllib.parse.urlsplit(url)
    port = u.port or (443 if u.scheme == "wss" else 80)
    reader, writer = await asyncio.open_connection(u.hostname, port, ssl=(u.scheme == "wss") or None)
    key = base64.b64encode(os.urandom(16)).decode()
    path = (u.path or "/") + ("?" + u.query if u.query else "")
    writer.write(
        (
            f"GET {path} HTTP/1.1\r\nHost: {u.netloc}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    status = head.split(b"\r\n", 1)[0]
    if b" 101 " not in status + b" ":
        writer.close()
        raise Closed("upgrade refused: " + status.decode(errors="replace"))
    return Conn(reader, writer)


class _Adapter:
    """Gives a websockets connection the same methods as Conn."""

    def __init__(self, ws):
        self._ws = ws

    async def send(self, text):
        await self._ws.send(text)

    async def send_json(self, obj):
        await self._ws.send(json.dumps(obj))

    async def recv(self):
        import websockets

        while True:
            try:
                m = await self._ws.recv()
            except websockets.ConnectionClosed as e:
                raise Closed(str(e))
            if isinstance(m, str):
                return m

    async def close(self):
        await self._ws.close()


async def open_signaling(url):
    """Connects with the websockets package when it is installed, else
    with Conn."""
    try:
        import websockets
    except ImportError:
        return await connect(url)
    return _Adapter(await websockets.connect(url, max_size=None))
