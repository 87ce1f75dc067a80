package gateway

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/plakar-gw/plakar-gw/engine/enginetest"
)

// selfSigned writes a certificate for 127.0.0.1 and its key.
func selfSigned(t *testing.T, dir string) (cert, key string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), DNSNames: []string{"localhost"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(k)
	cert, key = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	return cert, key
}

// TestServeTLS: a listener with a certificate speaks HTTPS (and not plain
// HTTP); cancelling the context shuts serve down cleanly.
func TestServeTLS(t *testing.T) {
	isolate(t)
	_, root := enginetest.NewRepo(t)
	t.Setenv(EnvPassphrase, enginetest.Passphrase)
	cert, key := selfSigned(t, t.TempDir())
	c := &Config{Repository: RepositoryConfig{Path: root, CacheDir: t.TempDir()}, Log: LogConfig{Format: "text"}, Anonymous: true, MaxConcurrentJobs: 1,
		ShutdownTimeout: 5 * time.Second, Listeners: ListenersConfig{
			Metrics: ListenerConfig{Enabled: true, Addr: "127.0.0.1:0", TLSCert: cert, TLSKey: key},
			S3:      ListenerConfig{Enabled: true, Addr: "127.0.0.1:0", TLSCert: cert, TLSKey: key},
		}}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan map[string]string, 1)
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, c, ServeOptions{Ready: func(a map[string]string) { ready <- a }}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	}()
	var addrs map[string]string
	select {
	case addrs = <-ready:
	case err := <-done:
		t.Fatalf("serve: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not start")
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	for _, u := range []string{"https://" + addrs["metrics"] + "/healthz", "https://" + addrs["s3"] + "/"} {
		resp, err := client.Get(u)
		if err != nil {
			t.Fatalf("GET %s: %v", u, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.TLS == nil {
			t.Errorf("GET %s: %s (TLS %v)", u, resp.Status, resp.TLS != nil)
		}
	}
	if resp, err := http.Get("http://" + addrs["metrics"] + "/healthz"); err == nil && resp.StatusCode == http.StatusOK {
		t.Error("a TLS listener answered plain HTTP with 200")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve after cancel: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
}
