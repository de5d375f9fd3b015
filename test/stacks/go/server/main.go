// A TLS 1.3 HTTPS server for kwire's stack tests: Go's crypto/tls with a chosen client-auth mode.
// Prints "ready" once listening; answers every request with a /version-like JSON body.
package main

import (
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	certFile := flag.String("cert", "", "server certificate (PEM)")
	keyFile := flag.String("key", "", "server key (PEM)")
	caFile := flag.String("ca", "", "CA that signs client certificates (PEM)")
	auth := flag.String("auth", "none", "none | request | require-and-verify")
	flag.Parse()

	cert, err := tls.LoadX509KeyPair(*certFile, *keyFile)
	check(err)
	modes := map[string]tls.ClientAuthType{
		"none":               tls.NoClientCert,
		"request":            tls.RequestClientCert,
		"require-and-verify": tls.RequireAndVerifyClientCert,
	}
	mode, ok := modes[*auth]
	if !ok {
		check(fmt.Errorf("unknown -auth %q", *auth))
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, ClientAuth: mode, MinVersion: tls.VersionTLS13}
	if *caFile != "" {
		pem, err := os.ReadFile(*caFile)
		check(err)
		cfg.ClientCAs = x509.NewCertPool()
		cfg.ClientCAs.AppendCertsFromPEM(pem)
	}
	ln, err := tls.Listen("tcp", *addr, cfg)
	check(err)
	fmt.Println("ready", ln.Addr())
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"major":"1","minor":"32","gitVersion":"v1.32.0-kwire-test"}`)
	})
	check(http.Serve(ln, handler))
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
