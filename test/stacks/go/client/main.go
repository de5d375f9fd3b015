// A TLS 1.3 HTTPS client for kwire's stack tests: Go's crypto/tls, with or without a client
// certificate. One GET, then exit; exit status 2 when the handshake or request fails.
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
	url := flag.String("url", "", "URL to GET")
	caFile := flag.String("ca", "", "CA that signs the server certificate (PEM)")
	certFile := flag.String("cert", "", "client certificate (PEM), optional")
	keyFile := flag.String("key", "", "client key (PEM), optional")
	serverName := flag.String("servername", "", "name to verify the server certificate against (the URL's host by default)")
	flag.Parse()

	pem, err := os.ReadFile(*caFile)
	check(err, 1)
	cfg := &tls.Config{RootCAs: x509.NewCertPool(), MinVersion: tls.VersionTLS13, ServerName: *serverName}
	cfg.RootCAs.AppendCertsFromPEM(pem)
	if *certFile != "" {
		cert, err := tls.LoadX509KeyPair(*certFile, *keyFile)
		check(err, 1)
		cfg.Certificates = []tls.Certificate{cert}
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg, DisableKeepAlives: true}}
	resp, err := client.Get(*url)
	check(err, 2)
	body, err := io.ReadAll(resp.Body)
	check(err, 2)
	fmt.Println(resp.Status, string(body))
}

func check(err error, status int) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(status)
	}
}
