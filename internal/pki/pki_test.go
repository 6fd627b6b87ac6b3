package pki

import (
	"crypto/x509"
	"testing"
	"time"
)

// TestBundle checks that a CA survives its one-text form and that a
// bundle whose key is another's, or that lacks a part, is refused.
func TestBundle(t *testing.T) {
	now := time.Now()
	a, err := NewCA("a", now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewCA("b", now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseBundle(a.Bundle())
	if err != nil || string(got.Cert) != string(a.Cert) || string(got.Key) != string(a.Key) {
		t.Fatalf("round trip: %v", err)
	}
	for name, bundle := range map[string][]byte{
		"another's key": append(append([]byte{}, a.Cert...), b.Key...),
		"no key":        a.Cert, "no certificate": a.Key, "nothing": nil,
	} {
		if _, err := ParseBundle(bundle); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	leaf, key, err := a.Issue(Request{CommonName: "l", Usages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, NotBefore: now, NotAfter: now.Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseBundle(append(leaf, key...)); err == nil {
		t.Error("a leaf certificate accepted as a CA")
	}
	if _, _, err := a.Issue(Request{CommonName: "no usage", NotBefore: now, NotAfter: now.Add(time.Minute)}); err == nil {
		t.Error("a certificate with no usage was made")
	}
}
