package monitoring_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/manifest"
	"github.com/oskproject/osk/internal/monitoring/exporter"
	"github.com/oskproject/osk/internal/render"
	"github.com/oskproject/osk/internal/sandbox/sandboxtest"
)

// TestExporterKubernetes: on the sandbox's real API server, osk exporter's
// Kubernetes collector, with the token of the rendered service account
// bound to the rendered Role and nothing else, reports a credential
// Secret's creation time and the deployment's state; the same token may
// not list Secrets.
func TestExporterKubernetes(t *testing.T) {
	env := sandboxtest.Get(t)
	env.InstallCRDs(t)
	ns := env.Namespace(t)
	c := env.Client()
	d, err := manifest.Load(filepath.Join("..", "..", "examples", "full.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := render.Render(d, render.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range res.Objects {
		switch o := o.(type) {
		case *corev1.ServiceAccount, *rbacv1.Role, *rbacv1.RoleBinding:
			if o.GetName() != "stacklight" && o.GetName() != "stacklight-exporter" {
				continue
			}
			if b, ok := o.(*rbacv1.RoleBinding); ok {
				b.Subjects[0].Namespace = ns
			}
			o.SetNamespace(ns)
			if err := c.Create(t.Context(), o); err != nil {
				t.Fatal(err)
			}
		}
	}
	d.Namespace, d.ResourceVersion = ns, ""
	if err := c.Create(t.Context(), d); err != nil {
		t.Fatal(err)
	}
	d.Status.State = v1.StateFailed
	if err := c.Status().Update(t.Context(), d); err != nil {
		t.Fatal(err)
	}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "nova-credentials", Namespace: ns,
		Labels: map[string]string{sandboxtest.LabelCredentials: d.Name}}, StringData: map[string]string{"keystone-password": "never-read-by-the-exporter"}}
	if err := c.Create(t.Context(), secret); err != nil {
		t.Fatal(err)
	}

	cfg := serviceAccountConfig(t, env.Config(), ns, "stacklight")
	kube, err := exporter.NewKube(cfg, ns, d.Name, []string{"nova-credentials", "glance-credentials"})
	if err != nil {
		t.Fatal(err)
	}
	e := exporter.New(exporter.Config{Kube: kube})
	e.Refresh(t.Context(), exporter.KubernetesCollector(kube))
	got := gather(t, e)
	want := map[string]float64{
		`osk_credential_created_timestamp_seconds{secret="nova-credentials"}`: float64(secret.CreationTimestamp.Unix()),
		`osk_deployment_state{deployment="full",state="FAILED"}`:              1,
		`osk_deployment_state{deployment="full",state="APPLIED"}`:             0,
		`osk_exporter_collector_up{collector="kubernetes"}`:                   1,
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, v)
		}
	}
	if _, ok := got[`osk_credential_created_timestamp_seconds{secret="glance-credentials"}`]; ok {
		t.Error("a Secret that does not exist has an age")
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Secrets(ns).List(t.Context(), metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("the exporter's account may list Secrets: %v", err)
	}
}

// serviceAccountConfig returns admin's configuration with a token of the
// service account instead of admin's credentials.
func serviceAccountConfig(t *testing.T, admin *rest.Config, ns, account string) *rest.Config {
	t.Helper()
	cs, err := kubernetes.NewForConfig(admin)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := cs.CoreV1().ServiceAccounts(ns).CreateToken(t.Context(), account, &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := rest.AnonymousClientConfig(admin)
	cfg.BearerToken = tok.Status.Token
	return cfg
}

// gather returns the exporter's samples by "name{labels}".
func gather(t *testing.T, c prometheus.Collector) map[string]float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.Metric {
			l := ""
			for i, p := range m.Label {
				if i > 0 {
					l += ","
				}
				l += fmt.Sprintf("%s=%q", p.GetName(), p.GetValue())
			}
			out[mf.GetName()+"{"+l+"}"] = m.GetGauge().GetValue()
		}
	}
	return out
}
