// Package tlsserve gives the example servers HTTPS: a certificate from
// files or made on the spot, and a listener that serves TLS and plain TCP
// on one port.
package tlsserve

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"strings"
	"sync"
	"time"
)

// ServerCert returns the certificate the flags ask for, and whether it
// was made here. A self-signed certificate is kept in memory, or, with
// certFile and keyFile, written there the first time and read from there
// afterwards, so that a browser that accepted it keeps accepting it.
func ServerCert(certFile, keyFile, selfSigned string, now time.Time) (tls.Certificate, bool, error) {
	hosts := SplitList(selfSigned)
	if (certFile == "") != (keyFile == "") {
		return tls.Certificate{}, false, errors.New("-tls-cert and -tls-key go together")
	}
	if selfSigned == "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		return cert, false, err
	}
	if len(hosts) == 0 {
		return tls.Certificate{}, false, errors.New("-tls-self-signed needs host names or addresses, comma-separated")
	}
	if certFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err == nil {
			return cert, false, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return tls.Certificate{}, false, err
		}
	}
	certPEM, keyPEM, err := selfSignedPEM(hosts, now)
	if err != nil {
		return tls.Certificate{}, false, err
	}
	if certFile != "" {
		if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
			return tls.Certificate{}, false, err
		}
		if err := os.WriteFile(certFile, certPEM, 0o644); err != nil { //nolint:gosec // a certificate is public
			return tls.Certificate{}, false, err
		}
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	return cert, true, err
}

// selfSignedPEM makes an ECDSA P-256 certificate for hosts (DNS names or
// IP addresses), valid for a year from now.
func selfSignedPEM(hosts []string, now time.Time) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: hosts[0], Organization: []string{"avlink signal-server"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), nil
}

// fingerprint is the SHA-256 of cert's leaf as a browser's certificate
// viewer shows it: upper-case hex bytes separated by colons.
func Fingerprint(cert tls.Certificate) string {
	if len(cert.Certificate) == 0 {
		return ""
	}
	sum := sha256.Sum256(cert.Certificate[0])
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(parts, ":")
}

func SplitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// EitherListener serves TLS and plain TCP on one port: a connection whose
// first byte starts a TLS handshake (0x16) is handed on as a *tls.Conn,
// any other as it is. Browsers get https:// and wss:// for the
// microphone, while robots and the original deployment's clients keep
// dialling ws://host:port/.
type EitherListener struct {
	net.Listener
	cfg   *tls.Config
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
	wg    sync.WaitGroup

	mu      sync.Mutex
	err     error
	pending map[net.Conn]struct{} // being sniffed
}

// sniffTimeout bounds how long a new connection may stay silent before
// its first byte says which protocol it speaks.
const sniffTimeout = 10 * time.Second

func NewEitherListener(ln net.Listener, cfg *tls.Config) *EitherListener {
	l := &EitherListener{Listener: ln, cfg: cfg, conns: make(chan net.Conn), done: make(chan struct{}), pending: map[net.Conn]struct{}{}}
	l.wg.Add(1)
	go l.acceptLoop()
	return l
}

func (l *EitherListener) acceptLoop() {
	defer l.wg.Done()
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			l.mu.Lock()
			l.err = err
			l.mu.Unlock()
			l.Close()
			return
		}
		l.mu.Lock()
		select {
		case <-l.done:
			l.mu.Unlock()
			_ = c.Close()
			return
		default:
		}
		l.pending[c] = struct{}{}
		l.wg.Add(1)
		l.mu.Unlock()
		go l.sniff(c)
	}
}

func (l *EitherListener) sniff(c net.Conn) {
	defer l.wg.Done()
	_ = c.SetReadDeadline(time.Now().Add(sniffTimeout))
	br := bufio.NewReaderSize(c, 512)
	first, err := br.Peek(1)
	_ = c.SetReadDeadline(time.Time{})
	l.mu.Lock()
	delete(l.pending, c)
	l.mu.Unlock()
	if err != nil {
		_ = c.Close()
		return
	}
	var out net.Conn = &peekedConn{Conn: c, r: br}
	if first[0] == 0x16 { // TLS handshake record
		out = tls.Server(out, l.cfg)
	}
	select {
	case l.conns <- out:
	case <-l.done:
		_ = c.Close()
	}
}

// Accept returns the next connection, TLS or plain.
func (l *EitherListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.err != nil {
			return nil, l.err
		}
		return nil, net.ErrClosed
	}
}

// Close stops accepting and closes the connections not yet handed on.
func (l *EitherListener) Close() error {
	var err error
	l.once.Do(func() {
		l.mu.Lock()
		close(l.done)
		for c := range l.pending {
			_ = c.Close()
		}
		l.mu.Unlock()
		err = l.Listener.Close()
	})
	return err
}

// wait waits for the accept loop and the sniffing goroutines.
func (l *EitherListener) Wait() { l.wg.Wait() }

// peekedConn reads first what sniffing buffered.
type peekedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *peekedConn) Read(p []byte) (int, error) { return c.r.Read(p) }
