#!/bin/sh
# Vets and tests the LiveKit module against a real livekit-server, built
# once into ~/.cache/avlink (about two minutes the first time).
set -eu
cd "$(dirname "$0")"
go vet ./...
go test -race -count=1 ./...
