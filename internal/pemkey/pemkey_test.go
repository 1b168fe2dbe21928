package pemkey

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	xKey, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block := func(typ string, der []byte) []byte {
		return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
	}
	pkcs8 := func(key any) []byte {
		t.Helper()
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		return block("PRIVATE KEY", der)
	}
	sec1, err := x509.MarshalECPrivateKey(ecKey)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		data []byte
		err  string
	}{
		{"PKCS #1 RSA", block("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey)), ""},
		{"SEC 1 EC", block("EC PRIVATE KEY", sec1), ""},
		{"PKCS #8 RSA", pkcs8(rsaKey), ""},
		{"PKCS #8 Ed25519", pkcs8(edKey), ""},
		{"PKCS #8 X25519, which cannot sign", pkcs8(xKey), "not a signing key"},
		{"not PEM", []byte("-----BEGIN nothing"), "no PEM block"},
		{"damaged", block("RSA PRIVATE KEY", []byte("junk")), "asn1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, err := Parse(tt.data)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("Parse: %v, want an error with %q", err, tt.err)
				}
				return
			}
			if err != nil || key == nil || key.Public() == nil {
				t.Fatalf("Parse = %v, %v", key, err)
			}
		})
	}
}

func TestReadFile(t *testing.T) {
	if _, err := ReadFile(filepath.Join(t.TempDir(), "missing.pem")); !os.IsNotExist(err) {
		t.Errorf("a missing file: %v", err)
	}
	path := filepath.Join(t.TempDir(), "junk.pem")
	os.WriteFile(path, []byte("junk"), 0o600)
	if _, err := ReadFile(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("a file with no key: %v, want an error naming the file", err)
	}
}
