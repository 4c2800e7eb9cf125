package cli

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/avlink/avlink/rtclink"
	"github.com/avlink/avlink/signal/viewer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// FetchICEServers reads what signal/viewer's /ice-servers hands out,
// with the token, and "urls" as a string as well as a list.
func TestFetchICEServers(t *testing.T) {
	v, err := viewer.New(viewer.Config{
		ICEServers: []viewer.ICEServer{{URLs: []string{"stun:h:3478"}}},
		TURNSecret: "s", TURNURLs: []string{"turn:h:3478"}, Token: "tk",
	})
	require.NoError(t, err)
	hs := httptest.NewServer(v)
	defer hs.Close()
	ctx := context.Background()

	got, err := FetchICEServers(ctx, hs.Client(), hs.URL+"/ice-servers", "tk")
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Equal(t, rtclink.ICEServer{URLs: []string{"stun:h:3478"}}, got[0])
	assert.Equal(t, []string{"turn:h:3478"}, got[1].URLs)
	assert.NotEmpty(t, got[1].Username)
	assert.NotEmpty(t, got[1].Credential)

	_, err = FetchICEServers(ctx, hs.Client(), hs.URL+"/ice-servers", "wrong")
	assert.ErrorContains(t, err, "403")

	one := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"iceServers":[{"urls":"stun:one:3478"}]}`))
	}))
	defer one.Close()
	got, err = FetchICEServers(ctx, one.Client(), one.URL, "")
	require.NoError(t, err)
	assert.Equal(t, []rtclink.ICEServer{{URLs: []string{"stun:one:3478"}}}, got)

	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"iceServers":[{"urls":3}]}`))
	}))
	defer bad.Close()
	_, err = FetchICEServers(ctx, bad.Client(), bad.URL, "")
	assert.Error(t, err)
}
