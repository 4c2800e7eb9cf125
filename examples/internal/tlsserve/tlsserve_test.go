package tlsserve

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// One port answers plain HTTP and HTTPS with a certificate made on the
// spot for the names given.
func TestOnePortServesBoth(t *testing.T) {
	cert, made, err := ServerCert("", "", "localhost,127.0.0.1", time.Now())
	require.NoError(t, err)
	require.True(t, made)
	require.Len(t, Fingerprint(cert), 95, "sha-256 as 32 colon-separated hex pairs")
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ln := NewEitherListener(raw, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, map[bool]string{true: "tls", false: "plain"}[r.TLS != nil])
	})}
	go srv.Serve(ln)
	defer func() { _ = srv.Close(); ln.Wait() }()

	get := func(c *http.Client, url string) string {
		resp, err := c.Get(url)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return string(b)
	}
	addr := raw.Addr().String()
	plain := &http.Client{Transport: &http.Transport{}}
	defer plain.CloseIdleConnections()
	require.Equal(t, "plain", get(plain, "http://"+addr+"/"))

	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	secure := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "localhost"}}}
	defer secure.CloseIdleConnections()
	require.Equal(t, "tls", get(secure, "https://"+strings.Replace(addr, "127.0.0.1", "localhost", 1)+"/"))
}
