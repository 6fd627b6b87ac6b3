// Package monitoring_test is StackLight's real-software bed: Debian's
// Prometheus and Alertmanager, with osk's rendered rules and inhibitions
// and a scrape configuration derived from osk's rendered PodMonitors,
// watching real servers on loopback; every alert is received by a webhook
// in the test.
package monitoring_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/manifest"
	"github.com/oskproject/osk/internal/monitoring"
	"github.com/oskproject/osk/internal/poll"
	"github.com/oskproject/osk/internal/render"
	"github.com/oskproject/osk/internal/testing/monitoringtest"
	"github.com/oskproject/osk/internal/testing/rabbitmqtest"
)

// interval is the bed's scrape and evaluation interval; the rules' own
// for durations are the rendered ones.
const interval = 2 * time.Second

// stack is osk's rendered monitoring objects of examples/full.yaml.
type stack struct {
	d        *v1.OpenStackDeployment
	rules    *monitoringv1.PrometheusRule
	monitors map[string]*monitoringv1.PodMonitor
}

func renderStack(t *testing.T) stack {
	t.Helper()
	d, err := manifest.Load(filepath.Join("..", "..", "examples", "full.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := render.Render(d, render.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := stack{d: d, monitors: map[string]*monitoringv1.PodMonitor{}}
	for _, o := range res.Objects {
		switch o := o.(type) {
		case *monitoringv1.PrometheusRule:
			s.rules = o
		case *monitoringv1.PodMonitor:
			s.monitors[o.Name] = o
		}
	}
	if s.rules == nil || len(s.monitors) == 0 {
		t.Fatalf("examples/full.yaml renders no rules or no PodMonitor: StackLight off?")
	}
	return s
}

// scrapeConfigs derives the scrape configurations of a rendered
// PodMonitor (<deployment>-<name>) for pods that run here.
func scrapeConfigs(t *testing.T, s stack, name string, pods map[string]string) []map[string]any {
	t.Helper()
	pm := s.monitors[s.d.Name+"-"+name]
	if pm == nil {
		t.Fatalf("no PodMonitor %s-%s among %d", s.d.Name, name, len(s.monitors))
	}
	return monitoringtest.ScrapeConfigs(pm, s.d.Namespace, pods)
}

// start runs Alertmanager (with osk's inhibitions, sending to a webhook)
// and Prometheus (with osk's rules) scraping the given configurations.
func (s stack) start(t *testing.T, scrapes []map[string]any) (*monitoringtest.Prometheus, *monitoringtest.Webhook) {
	t.Helper()
	hook := monitoringtest.StartWebhook(t)
	am := monitoringtest.StartAlertmanager(t, hook.Receiving(monitoring.AlertmanagerInhibitRules()))
	rules, err := monitoring.RuleFile(s.rules.Spec.Groups)
	if err != nil {
		t.Fatal(err)
	}
	return monitoringtest.StartPrometheus(t, rules, scrapes, am.URL, interval), hook
}

// TestRabbitMQDown: the notifications bus is a real RabbitMQ with its
// Prometheus plugin, scraped as osk's PodMonitor says; stopping it fires
// RabbitMQDown, which the webhook receives within the rule's for and a
// few intervals.
func TestRabbitMQDown(t *testing.T) {
	s := renderStack(t)
	mq := rabbitmqtest.StartWithMetrics(t)
	pod := "rabbitmq-notifications-0"
	addr := fmt.Sprintf("%s:%d", mq.Host, mq.MetricsPort)
	prom, hook := s.start(t, scrapeConfigs(t, s, "rabbitmq-notifications", map[string]string{pod: addr}))

	waitFor(t, time.Minute, "RabbitMQ scraped by both endpoints", func() error {
		got, err := prom.Query(fmt.Sprintf(`up{namespace=%q,pod=%q,osk_target="rabbitmq"} == 1`, s.d.Namespace, pod))
		if err == nil && len(got) != 2 {
			err = fmt.Errorf("%d endpoints up, want 2: %v", len(got), got)
		}
		return err
	})
	stopped := time.Now()
	mq.Process.Kill(t)
	waitFor(t, 3*time.Minute, "RabbitMQDown at the webhook", func() error {
		if n, ok := hook.Find("RabbitMQDown", "firing"); ok {
			t.Logf("RabbitMQDown received %s after the broker stopped (for: 1m); %s", n.Received.Sub(stopped).Round(time.Second), n.Annotations["summary"])
			return nil
		}
		return fmt.Errorf("received so far: %v", hook.Names("firing"))
	})
}

func waitFor(t *testing.T, timeout time.Duration, what string, check func() error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	if err := poll.Until(ctx, time.Second, what, func(context.Context) error { return check() }); err != nil {
		t.Fatal(err)
	}
}
