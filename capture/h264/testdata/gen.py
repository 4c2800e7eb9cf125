#!/usr/bin/python3
"""Regenerates the Annex-B H.264 test streams of package capture/h264.

Run with Debian's python3-av (PyAV over libavcodec with libx264):
    cd capture/h264/testdata && /usr/bin/python3 gen.py
Each stream is a few frames of a moving gradient, small enough to keep in
the repository. The expected SPS values in h264_test.go (profile, level,
size, frame rate) follow from the options below.
"""
import av
import numpy as np

STREAMS = [
    # name, profile, width, height, fps, frames, extra x264 options
    ("baseline_320x240_30.h264", "baseline", 320, 240, 30, 12, {"level": "3.0"}),
    ("main_176x144_15.h264", "main", 176, 144, 15, 8, {"level": "1.1"}),
    ("high_640x360_25.h264", "high", 640, 360, 25, 6, {"level": "3.1"}),
    ("high_322x182_30.h264", "high", 322, 182, 30, 5, {}),
]

for name, profile, w, h, fps, frames, opts in STREAMS:
    with open(name, "wb") as out:
        codec = av.CodecContext.create("libx264", "w")
        codec.width, codec.height = w, h
        codec.pix_fmt = "yuv420p"
        codec.framerate = fps
        codec.time_base = f"1/{fps}"
        codec.bit_rate = 200_000
        x264 = {"keyint": "4", "repeat-headers": "1"}
        codec.options = {"profile": profile, "preset": "veryfast", "tune": "zerolatency", **opts,
                         "x264-params": ":".join(f"{k}={v}" for k, v in x264.items())}
        codec.open()
        yy, xx = np.mgrid[0:h, 0:w]
        for i in range(frames):
            img = np.zeros((h * 3 // 2, w), dtype=np.uint8)
            img[:h] = ((xx + 4 * i + yy) % 256).astype(np.uint8)
            img[h:] = 128
            frame = av.VideoFrame.from_ndarray(img, format="yuv420p")
            frame.pts = i
            for pkt in codec.encode(frame):
                out.write(bytes(pkt))
        for pkt in codec.encode(None):
            out.write(bytes(pkt))
