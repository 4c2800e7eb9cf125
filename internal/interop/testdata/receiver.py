"""The receiving side of the original deployment's Python programs (its
Linux audio receiver, which answers offers), re-created on aiortc and
taking video as well as audio: join the room, answer the robot's offer
with every candidate in the SDP, ignore trickled candidates, decode what
arrives.

Usage: receiver.py WS_URL ROOM SECONDS VIDEO_FRAMES AUDIO_FRAMES

Prints one JSON object per line on stdout: events as they happen, then
{"event":"result",...} with the counts of decoded frames and the picture
size. It stops after SECONDS, or once both counts are reached."""

import asyncio
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy  # noqa: E402
import wsclient  # noqa: E402
from aiortc import RTCPeerConnection, RTCSessionDescription  # noqa: E402
from aiortc.mediastreams import MediaStreamError  # noqa: E402


def emit(**kw):
    print(json.dumps(kw), flush=True)


class Counts:
    def __init__(self):
        self.video = 0
        self.audio = 0
        self.width = 0
        self.height = 0
        self.audio_rate = 0
        self.audio_channels = 0
        self.audio_samples = 0
        self.first_video = None
        self.pcm = []


async def consume(track, counts, done, want_video, want_audio, start):
    while True:
        try:
            frame = await track.recv()
        except MediaStreamError:
            return
        if track.kind == "video":
            counts.video += 1
            counts.width, counts.height = frame.width, frame.height
            if counts.first_video is None:
                counts.first_video = time.time() - start
        else:
            counts.audio += 1
            counts.audio_rate = frame.sample_rate
            counts.audio_channels = len(frame.layout.channels)
            counts.audio_samples += frame.samples
            # Keep the first channel of the last second for the pitch.
            pcm = frame.to_ndarray().reshape(-1, len(frame.layout.channels))[:, 0]
            counts.pcm.append(pcm)
            while sum(len(p) for p in counts.pcm) > frame.sample_rate + len(pcm):
                counts.pcm.pop(0)
        if counts.video >= want_video and counts.audio >= want_audio:
            done.set()


def pitch(counts):
    """The dominant frequency of the last second of audio, in Hz."""
    if not counts.pcm or not counts.audio_rate:
        return 0.0
    x = numpy.concatenate(counts.pcm).astype(numpy.float64)
    spec = numpy.abs(numpy.fft.rfft(x * numpy.hanning(len(x))))
    return float(numpy.argmax(spec)) * counts.audio_rate / len(x)


async def main():
    url, room, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    want_video, want_audio = int(sys.argv[4]), int(sys.argv[5])
    start = time.time()
    ws = await wsclient.open_signaling(url)
    await ws.send_json({"type": "join", "room": room})
    emit(event="joined")

    pc = None
    counts = Counts()
    done = asyncio.Event()
    tasks = []
    states = []

    async def read_signals():
        nonlocal pc
        while True:
            msg = json.loads(await ws.recv())
            t = msg.get("type")
            if t == "offer":
                emit(event="offer", sdp=msg["sdp"])
                if pc is not None:
                    await pc.close()
                pc = RTCPeerConnection()

                @pc.on("track")
                def on_track(track):
                    emit(event="track", kind=track.kind)
                    tasks.append(asyncio.ensure_future(consume(track, counts, done, want_video, want_audio, start)))

                @pc.on("iceconnectionstatechange")
                def on_ice():
                    states.append(pc.iceConnectionState)
                    emit(event="ice", state=pc.iceConnectionState)

                await pc.setRemoteDescription(RTCSessionDescription(sdp=msg["sdp"], type="offer"))
                await pc.setLocalDescription(await pc.createAnswer())
                # setLocalDescription gathers every candidate first: they
                # are all in this SDP, and none is trickled.
                await ws.send_json({"type": "answer", "sdp": pc.localDescription.sdp})
                emit(event="answer", sdp=pc.localDescription.sdp)
            # "candidate" messages are ignored, as the deployment's Python
            # receiver did.

    reader = asyncio.ensure_future(read_signals())
    try:
        await asyncio.wait_for(done.wait(), timeout=seconds)
    except asyncio.TimeoutError:
        pass
    if reader.done() and reader.exception():
        emit(event="error", error=repr(reader.exception()))
    reader.cancel()
    emit(
        event="result",
        video_frames=counts.video,
        width=counts.width,
        height=counts.height,
        audio_frames=counts.audio,
        audio_rate=counts.audio_rate,
        audio_channels=counts.audio_channels,
        audio_samples=counts.audio_samples,
        audio_pitch_hz=pitch(counts),
        first_video_s=counts.first_video,
        ice_states=states,
    )
    for t in tasks:
        t.cancel()
    if pc is not None:
        await pc.close()
    await ws.close()


if __name__ == "__main__":
    asyncio.run(main())
