//go:build deps

// Package deps pins the modules the project builds on while their
// importers are being written; it is never compiled into anything.
package deps

import (
	_ "github.com/coder/websocket"
	_ "github.com/gordonklaus/portaudio"
	_ "github.com/hraban/opus"
	_ "github.com/pion/interceptor"
	_ "github.com/pion/logging"
	_ "github.com/pion/rtcp"
	_ "github.com/pion/rtp"
	_ "github.com/pion/transport/v5/vnet"
	_ "github.com/pion/turn/v5"
	_ "github.com/pion/webrtc/v4"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/stretchr/testify/require"
	_ "go.uber.org/goleak"
	_ "golang.org/x/net/ipv4"
	_ "golang.org/x/sys/unix"
	_ "golang.org/x/time/rate"
)
