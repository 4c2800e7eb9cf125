#!/usr/bin/env bash
# Runs the all-in-one demo: installs the C libraries the codecs and audio
# devices need (Debian/Ubuntu, with sudo when not root; nothing when they
# are there), then starts examples/demo with any flags given here. With
# -check it installs the test peers too, for the headless Chromium the
# self-check drives.
set -euo pipefail
cd "$(dirname "$0")/../.."
deps=
for a in "$@"; do
	case "$a" in
	-check | --check | -check=true | --check=true) deps=--test ;;
	esac
done
bash ./.ci/install-deps $deps
exec go run ./examples/demo "$@"
