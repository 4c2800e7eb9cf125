package interop

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// spkiHash is what Chromium's --ignore-certificate-errors-spki-list
// takes: base64 of the SHA-256 of the certificate's public key.
func spkiHash(t *testing.T, certFile string) string {
	t.Helper()
	b, err := os.ReadFile(certFile)
	require.NoError(t, err)
	blk, _ := pem.Decode(b)
	require.NotNil(t, blk)
	cert, err := x509.ParseCertificate(blk.Bytes)
	require.NoError(t, err)
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// The microphone on a host that is not localhost: over plain HTTP the
// browser has no microphone and the page says to use HTTPS; over HTTPS,
// from examples/signal-server's self-signed certificate on the same
// port, the page signals over WSS, talks back and the robot (the sender
// program) answers its offer. The browser trusts exactly that
// certificate, as a person does who accepted it.
func TestProgramsViewerPageHTTPS(t *testing.T) {
	chromiumPath(t)
	bins := buildPrograms(t, "signal-server", "sender")
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	_, base := signalServerProgram(t, bins["signal-server"], "-tls-self-signed", "robot.test", "-tls-cert", cert, "-tls-key", key)
	u, err := url.Parse(base)
	require.NoError(t, err)
	host := "robot.test:" + u.Port()
	runProgram(t, bins["sender"], "-signal", wsURL(base), "-room", "realsense")
	switches := []string{
		"--host-resolver-rules=MAP robot.test 127.0.0.1",
		"--ignore-certificate-errors-spki-list=" + spkiHash(t, cert),
	}

	plain := openBrowser(t, "http://"+host+"/?room=realsense", switches...)
	plain.live(30 * time.Second)
	require.NoError(t, plain.eval("document.getElementById('talk').click()", nil))
	st := plain.waitState(10*time.Second, "the microphone refused", func(s viewerState) bool { return s.Mic == "failed" })
	assert.Contains(t, st.Message, "needs this page over HTTPS")
	assert.True(t, plain.visible("message"))
	plain.stop()

	secure := openBrowser(t, "https://"+host+"/?room=realsense", switches...)
	secure.live(30 * time.Second)
	var proto string
	require.NoError(t, secure.eval("location.protocol", &proto))
	require.Equal(t, "https:", proto)
	require.NoError(t, secure.eval("document.getElementById('talk').click()", nil))
	st = secure.waitState(15*time.Second, "the microphone offered and answered", func(s viewerState) bool {
		if s.Mic != "on" || !s.MicSent {
			return false
		}
		for _, e := range s.Events {
			if strings.Contains(e, "the robot answered our offer") {
				return true
			}
		}
		return false
	})
	assert.Empty(t, st.Message)
	assert.Equal(t, 1, st.SignalingConnects, "signaling over wss held")
	secure.framesGrow(10*time.Second, 30)
}
