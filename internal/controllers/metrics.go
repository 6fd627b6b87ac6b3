package controllers

import (
	"maps"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/lifecycle"
)

// osk's own metrics, beside controller-runtime's reconcile counts and
// durations, served on the operator's /metrics.
var (
	// APIWrites counts the operator's writes to the API server.
	APIWrites = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "osk_api_writes_total", Help: "Writes osk made to the API server, by verb and kind.",
	}, []string{"verb", "kind"})
	serviceReady = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "osk_service_ready", Help: "1 when a service of a deployment is ready, else 0.",
	}, []string{"namespace", "deployment", "service", "state"})
	progress = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "osk_deployment_ready_steps_ratio", Help: "Ready steps over all steps of a deployment.",
	}, []string{"namespace", "deployment"})
	deploymentState = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "osk_deployment_state", Help: "1 for the state a deployment is in (APPLYING, APPLIED, FAILED), 0 for the others.",
	}, []string{"namespace", "deployment", "state"})
	upgradeStepStarted = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "osk_deployment_upgrade_step_started_timestamp_seconds",
		Help: "When the upgrade of a deployment entered its current service and step; absent when it does not upgrade.",
	}, []string{"namespace", "deployment", "service", "step"})
	passSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "osk_reconcile_pass_seconds", Help: "Duration of a reconcile pass over a deployment.",
		Buckets: prometheus.ExponentialBuckets(0.01, 2, 12),
	}, []string{"namespace", "deployment"})
	phaseSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "osk_reconcile_phase_seconds", Help: "Duration of one phase (render, credentials, plan, apply, prune, status) of a reconcile pass.",
		Buckets: prometheus.ExponentialBuckets(0.001, 2, 15),
	}, []string{"phase"})
)

func init() {
	metrics.Registry.MustRegister(APIWrites, serviceReady, progress, passSeconds, phaseSeconds, deploymentState, upgradeStepStarted)
}

func countWrite(verb, kind string) { APIWrites.WithLabelValues(verb, kind).Inc() }

func observe(d *v1.OpenStackDeployment, took time.Duration) {
	passSeconds.WithLabelValues(d.Namespace, d.Name).Observe(took.Seconds())
}

// timed runs one phase of a pass and observes how long it took.
func timed[T any](phase string, run func() T) T {
	start := time.Now()
	defer func() { phaseSeconds.WithLabelValues(phase).Observe(time.Since(start).Seconds()) }()
	return run()
}

// timedPair is timed for a phase that returns a value and an error.
func timedPair[T any](phase string, run func() (T, error)) (T, error) {
	start := time.Now()
	defer func() { phaseSeconds.WithLabelValues(phase).Observe(time.Since(start).Seconds()) }()
	return run()
}

// publish publishes a plan's figures.
func publish(d *v1.OpenStackDeployment, pl *lifecycle.Plan) {
	serviceReady.DeletePartialMatch(prometheus.Labels{"namespace": d.Namespace, "deployment": d.Name})
	for name, st := range pl.Services {
		v := 0.0
		if st.State == v1.ServiceReady {
			v = 1
		}
		serviceReady.WithLabelValues(d.Namespace, d.Name, name, string(st.State)).Set(v)
	}
	if pl.Total > 0 {
		progress.WithLabelValues(d.Namespace, d.Name).Set(float64(pl.Ready) / float64(pl.Total))
	}
}

// publishState publishes the deployment's state and, while it upgrades,
// since when it is at its step: StackLight's OskDeploymentFailed and
// OskUpgradeStuck read them.
func publishState(d *v1.OpenStackDeployment) {
	for _, st := range []v1.DeploymentState{v1.StateApplying, v1.StateApplied, v1.StateFailed} {
		v := 0.0
		if d.Status.State == st {
			v = 1
		}
		deploymentState.WithLabelValues(d.Namespace, d.Name, string(st)).Set(v)
	}
	upgradeStepStarted.DeletePartialMatch(prometheus.Labels{"namespace": d.Namespace, "deployment": d.Name})
	if u := d.Status.Upgrade; u != nil && !u.Since.IsZero() {
		upgradeStepStarted.WithLabelValues(d.Namespace, d.Name, u.Service, u.Step).Set(float64(u.Since.Unix()))
	}
}

// forget drops a deleted deployment's series.
func forget(d *v1.OpenStackDeployment) {
	l := prometheus.Labels{"namespace": d.Namespace, "deployment": d.Name}
	deploymentState.DeletePartialMatch(l)
	upgradeStepStarted.DeletePartialMatch(l)
	serviceReady.DeletePartialMatch(l)
	progress.DeletePartialMatch(l)
	passSeconds.DeletePartialMatch(l)
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
