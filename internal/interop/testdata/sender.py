"""The original deployment's Python senders, re-created on aiortc as one
program: a 640x480 bgr24 picture at 30 fps stamped from the wall clock in
microseconds (as that deployment's Linux robot program stamped its
RealSense frames), with sensor-like noise, and a mono int16 tone (its
Windows microphone program captured 44.1 kHz in blocks of 120 samples).
It joins the room, offers with every candidate in the SDP once gathering
is complete, never trickles, ignores incoming candidates, and applies the
answer.

Usage: sender.py WS_URL ROOM SECONDS TONE_HZ AUDIO_RATE AUDIO_BLOCK

aiortc 1.4's Opus encoder always encodes 960 samples (20 ms at 48 kHz) from
each frame it is given, whatever the frame's length: blocks shorter than
20 ms (the microphone program's 120 samples) make it read past the block
and send one 20 ms packet per block. AUDIO_BLOCK 882 at 44100 Hz is the
microphone program's rate in blocks it can take.

Each picture carries the project's frame stamp (capture time in Unix
milliseconds, counter, CRC-16/CCITT-FALSE in 2x40 black/white cells on
top), so the receiver can check what it decodes. Prints JSON lines on
stdout: the offer, events, then {"event":"result",...} with what was
sent."""

import asyncio
import fractions
import json
import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import aiortc  # noqa: E402
import numpy  # noqa: E402
import wsclient  # noqa: E402
from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription  # noqa: E402
from av import AudioFrame, VideoFrame  # noqa: E402

WIDTH, HEIGHT, FPS = 640, 480, 30


def emit(**kw):
    print(json.dumps(kw), flush=True)


def crc16(data):
    crc = 0xFFFF
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def draw_stamp(img, ms, counter):
    payload = (ms & ((1 << 48) - 1)).to_bytes(6, "big") + (counter & 0xFFFF).to_bytes(2, "big")
    bits = int.from_bytes(payload + crc16(payload).to_bytes(2, "big"), "big")
    h, w = img.shape[:2]
    cw, ch = w // 40, h // 15
    img[: 2 * ch, :] = 0
    for i in range(80):
        if bits >> (79 - i) & 1:
            r, c = divmod(i, 40)
            img[r * ch : (r + 1) * ch, c * cw : (c + 1) * cw] = 255


class Camera(MediaStreamTrack):
    """A moving picture in place of the RealSense colour stream."""

    kind = "video"

    def __init__(self):
        super().__init__()
        self.n = 0
        self.start = None
        y, x = numpy.mgrid[0:HEIGHT, 0:WIDTH]
        self.rng = numpy.random.default_rng(1)
        self.bg = numpy.stack([(x * 255 // WIDTH), (y * 255 // HEIGHT), numpy.full_like(x, 96)], axis=-1).astype(numpy.uint8)

    async def recv(self):
        if self.start is None:
            self.start = time.time()
        wait = self.start + self.n / FPS - time.time()
        if wait > 0:
            await asyncio.sleep(wait)
        now = time.time()
        # Sensor noise: what makes a camera's picture cost bits.
        img = self.bg + self.rng.integers(0, 24, size=(HEIGHT, WIDTH, 1), dtype=numpy.uint8)
        x0 = (self.n * 8) % (WIDTH - 80)
        img[200:280, x0 : x0 + 80] = (0, 0, 255)
        draw_stamp(img, int(now * 1000), self.n)
        frame = VideoFrame.from_ndarray(img, format="bgr24")
        # The robot program's timestamps: wall-clock microseconds.
        frame.pts = int(now * 1_000_000)
        frame.time_base = fractions.Fraction(1, 1_000_000)
        self.n += 1
        return frame


class Microphone(MediaStreamTrack):
    """A tone in place of the microphone: mono int16 blocks, pts counted
    in samples."""

    kind = "audio"

    def __init__(self, freq, rate, block):
        super().__init__()
        self.freq, self.rate, self.block = freq, rate, block
        self.pts = 0
        self.start = None

    async def recv(self):
        if self.start is None:
            self.start = time.time()
        wait = self.start + self.pts / self.rate - time.time()
        if wait > 0:
            await asyncio.sleep(wait)
        t = (self.pts + numpy.arange(self.block)) / self.rate
        pcm = (0.3 * 32767 * numpy.sin(2 * math.pi * self.freq * t)).astype(numpy.int16)
        frame = AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = self.rate
        frame.pts = self.pts
        frame.time_base = fractions.Fraction(1, self.rate)
        self.pts += self.block
        return frame


async def main():
    url, room, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    freq, rate, block = float(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
    ws = await wsclient.open_signaling(url)
    await ws.send_json({"type": "join", "room": room})

    pc = RTCPeerConnection()
    camera, mic = Camera(), Microphone(freq, rate, block)
    pc.addTrack(camera)
    pc.addTrack(mic)
    states = []

    @pc.on("iceconnectionstatechange")
    def on_ice():
        states.append(pc.iceConnectionState)
        emit(event="ice", state=pc.iceConnectionState)

    await pc.setLocalDescription(await pc.createOffer())
    # Gathering is complete: every candidate is in this SDP.
    await ws.send_json({"type": "offer", "sdp": pc.localDescription.sdp})
    emit(event="offer", sdp=pc.localDescription.sdp)
    answered = asyncio.Event()

    async def read_signals():
        while True:
            msg = json.loads(await ws.recv())
            if msg.get("type") == "answer" and not answered.is_set():
                emit(event="answer", sdp=msg["sdp"])
                await pc.setRemoteDescription(RTCSessionDescription(sdp=msg["sdp"], type="answer"))
                answered.set()
            # "candidate" messages are ignored, as the deployment's Python
            # senders did.

    reader = asyncio.ensure_future(read_signals())
    started = time.time()
    await asyncio.sleep(seconds)
    bytes_video = packets_video = packets_audio = 0
    try:
        report = await pc.getStats()
        for s in report.values():
            if s.type == "outbound-rtp" and s.kind == "video":
                bytes_video, packets_video = s.bytesSent, s.packetsSent
            if s.type == "outbound-rtp" and s.kind == "audio":
                packets_audio = s.packetsSent
    except Exception as e:  # noqa: BLE001
        emit(event="error", error="getStats: " + repr(e))
    if reader.done() and reader.exception():
        emit(event="error", error=repr(reader.exception()))
    reader.cancel()
    emit(
        event="result",
        answered=answered.is_set(),
        video_frames=camera.n,
        audio_blocks=mic.pts // block,
        video_bytes=bytes_video,
        video_packets=packets_video,
        audio_packets=packets_audio,
        seconds=time.time() - started,
        ice_states=states,
        aiortc_version=aiortc.__version__,
    )
    await pc.close()
    await ws.close()


if __name__ == "__main__":
    asyncio.run(main())
