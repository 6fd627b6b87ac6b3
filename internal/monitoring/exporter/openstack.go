package exporter

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"
)

// Endpoint is one API of the Keystone catalog.
type Endpoint struct {
	// Service and Type are the catalog service's name and type ("glance",
	// "image").
	Service, Type string
	// Interface is "internal" or "public"; URL where it answers.
	Interface, URL string
}

// probedInterfaces are the catalog interfaces the exporter probes.
var probedInterfaces = map[string]bool{"internal": true, "public": true}

// collectEndpoints logs in, probes every endpoint of the catalog and
// reads the public certificates.
func (e *Exporter) collectEndpoints(ctx context.Context, s *scrape) error {
	endpoints, loginErr := e.login(ctx)
	if loginErr != nil {
		endpoints, _ = e.last()
	}
	e.probeAll(ctx, s, endpoints)
	certErr := e.certificates(ctx, s, endpoints)
	if loginErr != nil {
		loginErr = fmt.Errorf("logging in to %s: %w", e.cfg.Auth.IdentityEndpoint, loginErr)
	}
	return errors.Join(loginErr, certErr)
}

// collectServices reads the services' states and the cloud's capacity,
// each API at once, with the last login.
func (e *Exporter) collectServices(ctx context.Context, s *scrape) error {
	endpoints, provider := e.last()
	if provider == nil {
		if _, err := e.login(ctx); err != nil {
			return fmt.Errorf("logging in to %s: %w", e.cfg.Auth.IdentityEndpoint, err)
		}
		endpoints, provider = e.last()
	}
	types := map[string]bool{}
	for _, ep := range endpoints {
		types[ep.Type] = true
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for _, c := range apiCollectors {
		if !types[c.serviceType] {
			continue
		}
		client := &gophercloud.ServiceClient{ProviderClient: provider, Endpoint: e.internalURL(endpoints, c.serviceType), Type: c.serviceType}
		wg.Go(func() {
			if err := c.run(ctx, client, s); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("%s: %w", c.name, err))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// login authenticates and returns the catalog's endpoints, which it
// remembers for when Keystone is down.
func (e *Exporter) login(ctx context.Context) ([]Endpoint, error) {
	provider, err := openstack.NewClient(e.cfg.Auth.IdentityEndpoint)
	if err != nil {
		return nil, err
	}
	provider.HTTPClient = http.Client{Timeout: e.cfg.Timeout}
	identity, err := openstack.NewIdentityV3(provider, gophercloud.EndpointOpts{})
	if err != nil {
		return nil, err
	}
	res := tokens.Create(ctx, identity, &e.cfg.Auth)
	token, err := res.ExtractTokenID()
	if err != nil {
		return nil, err
	}
	provider.SetToken(token)
	cat, err := res.ExtractServiceCatalog()
	if err != nil {
		return nil, err
	}
	endpoints := e.endpoints(cat)
	e.mu.Lock()
	e.catalog, e.provider = endpoints, provider
	e.mu.Unlock()
	return endpoints, nil
}

// endpoints are the catalog's internal and public endpoints of the
// configured region.
func (e *Exporter) endpoints(cat *tokens.ServiceCatalog) []Endpoint {
	var out []Endpoint
	for _, entry := range cat.Entries {
		for _, ep := range entry.Endpoints {
			if !probedInterfaces[ep.Interface] || e.cfg.Region != "" && ep.Region != e.cfg.Region && ep.RegionID != e.cfg.Region {
				continue
			}
			out = append(out, Endpoint{Service: entry.Name, Type: entry.Type, Interface: ep.Interface, URL: ep.URL})
		}
	}
	return out
}

// last returns the last login's catalog and client.
func (e *Exporter) last() ([]Endpoint, *gophercloud.ProviderClient) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.catalog, e.provider
}

// internalURL is a service type's internal endpoint, with a trailing
// slash as gophercloud's clients expect.
func (e *Exporter) internalURL(endpoints []Endpoint, serviceType string) string {
	for _, ep := range endpoints {
		if ep.Type == serviceType && ep.Interface == "internal" {
			return strings.TrimSuffix(ProbeURL(ep.URL), "/") + "/"
		}
	}
	return ""
}

// probeAll probes every endpoint at once.
func (e *Exporter) probeAll(ctx context.Context, s *scrape, endpoints []Endpoint) {
	var wg sync.WaitGroup
	for _, ep := range endpoints {
		wg.Go(func() { e.probe(ctx, s, ep) })
	}
	wg.Wait()
}

// probe asks one endpoint for its version document, without a token: it
// is up when it answers with anything but a server error (an API that
// wants a token answers 401, which is an answer).
func (e *Exporter) probe(ctx context.Context, s *scrape, ep Endpoint) {
	labels := []string{"service", ep.Service, "type", ep.Type, "interface", ep.Interface, "url", ep.URL}
	start := time.Now()
	code, err := get(ctx, ProbeURL(ep.URL))
	took := time.Since(start).Seconds()
	up := err == nil && code < 500
	if !up {
		e.cfg.Log.Warn("Endpoint down", "service", ep.Service, "interface", ep.Interface, "url", ep.URL, "status", code, "error", err)
	}
	s.gauge(MetricAPIUp, "1 when the endpoint answers without a server error", bool01(up), labels...)
	s.gauge(MetricAPIStatus, "The HTTP status of the endpoint's answer; 0 for none", float64(code), labels...)
	if err == nil {
		s.gauge(MetricAPILatency, "How long the endpoint took to answer", took, labels...)
	}
}

// ProbeURL is the part of an endpoint URL that answers without a
// project: Keystone's $(project_id)s placeholders and what follows go.
func ProbeURL(url string) string {
	if i := strings.Index(url, "$("); i >= 0 {
		url = url[:i]
	}
	if i := strings.Index(url, "%("); i >= 0 {
		url = url[:i]
	}
	return url
}

var probeClient = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func get(ctx context.Context, url string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	res, err := probeClient.Do(req)
	if err != nil {
		return 0, err
	}
	res.Body.Close()
	return res.StatusCode, nil
}
