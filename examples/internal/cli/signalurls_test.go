package cli

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSignalURLs(t *testing.T) {
	first, fallback := signalURLs("ws://localhost:3000")
	assert.Equal(t, "ws://localhost:3000", first)
	assert.Empty(t, fallback)
	first, fallback = signalURLs("ws://a:3000, ws://b:3000,wss://c/ws")
	assert.Equal(t, "ws://a:3000", first)
	assert.Equal(t, []string{"ws://b:3000", "wss://c/ws"}, fallback)
}
