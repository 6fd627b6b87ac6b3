// Package exporter is osk's OpenStack exporter (osk exporter): what only
// the OpenStack APIs and the Kubernetes API know, as Prometheus metrics.
// Per Keystone catalog endpoint (internal and public) its availability
// and latency; the states of nova's, cinder's and neutron's services and
// agents; hypervisors and placement capacity; the public certificate's
// expiry; the age of each credential Secret osk generated (from its
// metadata, never its data); the OpenStackDeployment's state.
//
// Each collector asks afresh every interval, in its own loop, and a
// scrape serves what each found last: a slow or hung API delays no other
// series and no scrape. The last catalog seen is kept, so that the
// endpoints are still probed while Keystone is down.
package exporter

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/prometheus/client_golang/prometheus"
)

// Metric names. The alert rules of internal/monitoring select them; the
// promtool tests and the bed hold both sides together.
const (
	MetricAPIUp            = "osk_openstack_api_up"
	MetricAPILatency       = "osk_openstack_api_latency_seconds"
	MetricAPIStatus        = "osk_openstack_api_status_code"
	MetricAgentUp          = "osk_openstack_agent_up"
	MetricAgentEnabled     = "osk_openstack_agent_enabled"
	MetricHypervisorUp     = "osk_openstack_hypervisor_up"
	MetricHypervisorVMs    = "osk_openstack_hypervisor_running_vms"
	MetricPlacementTotal   = "osk_openstack_placement_capacity"
	MetricPlacementUsed    = "osk_openstack_placement_used"
	MetricCertificate      = "osk_certificate_expiry_timestamp_seconds"
	MetricCredentialBorn   = "osk_credential_created_timestamp_seconds"
	MetricDeploymentState  = "osk_deployment_state"
	MetricCollectorUp      = "osk_exporter_collector_up"
	MetricCollectorSeconds = "osk_exporter_collector_duration_seconds"
)

// Config is what the exporter watches and how it logs in.
type Config struct {
	// Auth logs in to Keystone (the exporter's own, read-only user).
	Auth gophercloud.AuthOptions
	// Region selects the catalog's endpoints; empty takes every region.
	Region string
	// Timeout bounds each collector's run; Interval is how often each
	// runs.
	Timeout, Interval time.Duration
	// Kube reads the deployment's Secrets' metadata and its state; nil
	// leaves those collectors out.
	Kube *Kube
	// Log receives what failed, one line per collector and scrape.
	Log *slog.Logger
}

// Exporter is a prometheus.Collector serving what its collectors last
// found. Each collector runs in its own loop (Run), so that a slow API
// delays none of the others, and a scrape never waits.
type Exporter struct {
	cfg Config

	mu       sync.Mutex
	catalog  []Endpoint // the last catalog Keystone gave
	provider *gophercloud.ProviderClient
	found    map[string][]prometheus.Metric // by collector
}

// New returns an exporter of cfg.
func New(cfg Config) *Exporter {
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Interval == 0 {
		cfg.Interval = 15 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &Exporter{cfg: cfg, found: map[string][]prometheus.Metric{}}
}

// Collector is one source of metrics; it sends its samples, or returns
// an error that osk_exporter_collector_up reports.
type Collector struct {
	name string
	run  func(ctx context.Context, s *scrape) error
}

// KubernetesCollector is the collector of what the Kubernetes API knows.
func KubernetesCollector(k *Kube) Collector { return Collector{"kubernetes", k.collect} }

func (e *Exporter) collectors() []Collector {
	cs := []Collector{{"endpoints", e.collectEndpoints}, {"services", e.collectServices}}
	if e.cfg.Kube != nil {
		cs = append(cs, KubernetesCollector(e.cfg.Kube))
	}
	return cs
}

// Run runs every collector once, then every Interval, until ctx ends.
func (e *Exporter) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, c := range e.collectors() {
		wg.Go(func() {
			for {
				e.Refresh(ctx, c)
				select {
				case <-ctx.Done():
					return
				case <-time.After(e.cfg.Interval):
				}
			}
		})
	}
	wg.Wait()
}

// RefreshAll runs every collector once, one after the other.
func (e *Exporter) RefreshAll(ctx context.Context) {
	for _, c := range e.collectors() {
		e.Refresh(ctx, c)
	}
}

// Refresh runs one collector within the timeout and keeps what it found.
func (e *Exporter) Refresh(ctx context.Context, c Collector) {
	ctx, cancel := context.WithTimeout(ctx, e.cfg.Timeout)
	defer cancel()
	ch := make(chan prometheus.Metric, 64)
	var got []prometheus.Metric
	done := make(chan struct{})
	go func() {
		for m := range ch {
			got = append(got, m)
		}
		close(done)
	}()
	s := &scrape{e: e, ch: ch}
	start := time.Now()
	err := c.run(ctx, s)
	up := 1.0
	if err != nil {
		up = 0
		e.cfg.Log.Error("Collecting failed", "collector", c.name, "error", err)
	}
	s.gauge(MetricCollectorUp, "1 when the collector's last run succeeded", up, "collector", c.name)
	s.gauge(MetricCollectorSeconds, "How long the collector's last run took", time.Since(start).Seconds(), "collector", c.name)
	close(ch)
	<-done
	e.mu.Lock()
	e.found[c.name] = got
	e.mu.Unlock()
}

// Describe implements prometheus.Collector: the metrics are unchecked
// (their label sets depend on what the cloud holds).
func (e *Exporter) Describe(chan<- *prometheus.Desc) {}

// Collect implements prometheus.Collector: what every collector found
// last.
func (e *Exporter) Collect(ch chan<- prometheus.Metric) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, ms := range e.found {
		for _, m := range ms {
			ch <- m
		}
	}
}

// scrape sends one scrape's samples; safe for concurrent use.
type scrape struct {
	e  *Exporter
	mu sync.Mutex
	ch chan<- prometheus.Metric
}

// gauge sends one gauge sample with label pairs (name, value, ...).
func (s *scrape) gauge(name, help string, v float64, pairs ...string) {
	var names, values []string
	for i := 0; i+1 < len(pairs); i += 2 {
		names, values = append(names, pairs[i]), append(values, pairs[i+1])
	}
	m, err := prometheus.NewConstMetric(prometheus.NewDesc(name, help, names, nil), prometheus.GaugeValue, v, values...)
	if err != nil {
		s.e.cfg.Log.Error("Building a metric", "metric", name, "error", err)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ch <- m
}

// bool01 is 1 for true.
func bool01(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
