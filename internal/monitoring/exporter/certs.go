package exporter

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"sync"
)

// certificates sends the expiry of the certificate each https endpoint
// of the public interface presents, once per host and port.
func (e *Exporter) certificates(ctx context.Context, s *scrape, endpoints []Endpoint) error {
	hosts := map[string]bool{}
	for _, ep := range endpoints {
		u, err := url.Parse(ep.URL)
		if err != nil || u.Scheme != "https" || ep.Interface != "public" {
			continue
		}
		port := u.Port()
		if port == "" {
			port = "443"
		}
		hosts[net.JoinHostPort(u.Hostname(), port)] = true
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for addr := range hosts {
		wg.Go(func() {
			if err := e.certificate(ctx, s, addr); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		return fmt.Errorf("certificates: %v", errs)
	}
	return nil
}

// certificate reads the leaf certificate addr presents. It does not
// verify it: an expired or untrusted certificate is what it reports on.
func (e *Exporter) certificate(ctx context.Context, s *scrape, addr string) error {
	host, _, _ := net.SplitHostPort(addr)
	d := tls.Dialer{Config: &tls.Config{ServerName: host, InsecureSkipVerify: true}} //nolint:gosec // reads the expiry only; sends nothing
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("certificate of %s: %w", addr, err)
	}
	defer conn.Close()
	certs := conn.(*tls.Conn).ConnectionState().PeerCertificates
	if len(certs) == 0 {
		return fmt.Errorf("certificate of %s: none presented", addr)
	}
	s.gauge(MetricCertificate, "When the certificate the public endpoint presents expires", float64(certs[0].NotAfter.Unix()),
		"host", host, "subject", certs[0].Subject.CommonName)
	return nil
}
