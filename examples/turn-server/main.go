// Command turn-server runs a STUN/TURN server configured like coturn, in
// place of the original deployment's coturn server.
//
//	turn-server -c turnserver.conf [-listening-port 3479 -user name:pass ...]
//
// It reads the coturn-style file given by -c (see turnsrv.ParseConf for the
// keys understood) and then applies flags, which are named after the same
// keys and override the file; repeatable keys such as -user add to it. It
// serves with turnsrv.New until interrupted (SIGINT or SIGTERM), then
// closes the server.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/avlink/avlink/turnsrv"
)

// Keys that take a value, and keys that are flags, as in turnserver.conf.
var (
	valueKeys = []string{
		"listening-port", "tls-listening-port", "listening-ip", "relay-ip", "external-ip", "realm",
		"user", "static-auth-secret", "min-port", "max-port", "allowed-peer-ip", "denied-peer-ip",
		"cert", "pkey", "user-quota", "total-quota", "max-bps", "prometheus-port", "log-file",
	}
	boolKeys = []string{
		"lt-cred-mech", "use-auth-secret", "fingerprint", "no-udp", "no-tcp", "no-tls", "no-dtls",
		"no-multicast-peers", "allow-loopback-peers", "prometheus", "verbose",
	}
)

// setting is one flag occurrence, kept in command-line order.
type setting struct{ key, value string }

type collector struct {
	key  string
	out  *[]setting
	flag bool
}

func (c collector) String() string   { return "" }
func (c collector) IsBoolFlag() bool { return c.flag }
func (c collector) Set(v string) error {
	if c.flag && v == "true" {
		v = ""
	}
	*c.out = append(*c.out, setting{c.key, v})
	return nil
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "turn-server:", err)
		os.Exit(1)
	}
}

// run serves as the command line says until ctx ends.
func run(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("turn-server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	confPath := fs.String("c", "", "coturn-style configuration file")
	httpAddr := fs.String("http", "", "serve /metrics and /healthz on this address (e.g. 127.0.0.1:9641)")
	var overrides []setting
	for _, k := range valueKeys {
		fs.Var(collector{key: k, out: &overrides}, k, "as "+k+" in turnserver.conf")
	}
	for _, k := range boolKeys {
		fs.Var(collector{key: k, out: &overrides, flag: true}, k, "as "+k+" in turnserver.conf")
	}
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: turn-server [-c turnserver.conf] [-key value ...]

Runs a STUN/TURN server configured like coturn: the coturn-style file given
by -c is read first, then the flags, named after the same keys, override it
(repeatable keys such as -user add to it). Stop it with Ctrl-C or SIGTERM.

`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}

	conf := &turnsrv.ConfFile{}
	if *confPath != "" {
		fh, err := os.Open(*confPath)
		if err != nil {
			return err
		}
		conf, err = turnsrv.ParseConf(fh)
		_ = fh.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", *confPath, err)
		}
	}
	for _, s := range overrides {
		if err := conf.Set(s.key, s.value); err != nil {
			return fmt.Errorf("flag -%s: %w", s.key, err)
		}
	}
	if *httpAddr != "" {
		conf.Config.HTTPAddr = *httpAddr
	}

	out := stderr
	switch conf.LogFile {
	case "", "-", "stdout", "syslog":
	default:
		fh, err := os.OpenFile(conf.LogFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o640)
		if err != nil {
			return err
		}
		defer func() { _ = fh.Close() }()
		out = fh
	}
	level := slog.LevelInfo
	if conf.Verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: level}))
	conf.LogWarnings(logger)
	conf.Config.Logger = logger
	if len(conf.Config.Users) == 0 && len(conf.Config.AuthSecrets) == 0 {
		logger.Warn("no user= or static-auth-secret= configured: only STUN binding will succeed")
	}

	srv, err := turnsrv.New(conf.Config)
	if err != nil {
		return err
	}
	a := srv.Addrs()
	logger.Info("ready", "udp", join(a.UDP), "tcp", join(a.TCP), "tls", join(a.TLS))
	<-ctx.Done()
	logger.Info("shutting down")
	return srv.Close()
}

func join[T fmt.Stringer](xs []T) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = x.String()
	}
	return strings.Join(s, ",")
}
