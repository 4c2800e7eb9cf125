#!/usr/bin/env bash
# Runs the all-in-one demo: installs the C libraries the codecs and audio
# devices need (Debian/Ubuntu, with sudo when not root; nothing when they
# are there), then starts examples/demo with any flags given here.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash ./.ci/install-deps
exec go run ./examples/demo "$@"
