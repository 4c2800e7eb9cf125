#!/usr/bin/env bash
# Makes camera_640x480_422.jpg: the grainy, camera-like test picture as a
# UVC camera sends MJPEG — 4:2:2 chroma, baseline, JPEG's standard Huffman
# tables (cjpeg from libjpeg-turbo-progs; no -optimize, so the standard
# tables are used). The tests strip the tables, as many cameras do.
set -euo pipefail
cd "$(dirname "$0")"
go run picture.go | cjpeg -sample 2x1 -quality 85 -baseline > camera_640x480_422.jpg
