package jobs

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
)

// VerifyingClient returns an HTTP client that trusts only the CA
// certificates of caFile (PEM): osk's internal CA, for the internal
// endpoints.
func VerifyingClient(caFile string) (*http.Client, error) {
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("reading the CA file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("the CA file %s holds no PEM certificate", caFile)
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return &http.Client{Transport: t}, nil
}

// authenticate logs in to Keystone with opts, verifying its certificate
// against caFile's CAs when caFile is set, else the system's.
func authenticate(ctx context.Context, opts gophercloud.AuthOptions, caFile string) (*gophercloud.ProviderClient, error) {
	if caFile == "" {
		return openstack.AuthenticatedClient(ctx, opts)
	}
	hc, err := VerifyingClient(caFile)
	if err != nil {
		return nil, err
	}
	p, err := openstack.NewClient(opts.IdentityEndpoint)
	if err != nil {
		return nil, err
	}
	p.HTTPClient = *hc
	return p, openstack.Authenticate(ctx, p, opts)
}
