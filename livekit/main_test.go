package livekit_test

import (
	"testing"

	protoLogger "github.com/livekit/protocol/logger"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	// pion's state changes, logged by the SDK's package logger, would
	// drown the test output.
	lksdk.SetLogger(protoLogger.GetDiscardLogger())
	goleak.VerifyTestMain(m)
}
