// Package admission_test proves osk's admission webhook through a real API
// server: the operator serves it with a certificate it made itself, the
// API server calls it, and what it refuses comes back to the client with
// the field and the rule, as kubectl would print it.
package admission_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/admission"
	"github.com/oskproject/osk/internal/manifest"
	"github.com/oskproject/osk/internal/operator"
	"github.com/oskproject/osk/internal/sandbox/sandboxtest"
	"github.com/oskproject/osk/internal/testing/operatortest"
	"github.com/oskproject/osk/internal/testing/proctest"
)

func TestMain(m *testing.M) { sandboxtest.Main(m) }

// TestAdmission creates a deployment and walks it through every change the
// webhook refuses or allows, each through the API server.
func TestAdmission(t *testing.T) {
	env := sandboxtest.Get(t)
	env.InstallCRDs(t)
	c, ns := env.Client(), env.Namespace(t)
	port := proctest.FreePort(t)
	installWebhookConfigs(t, c, port)
	startWebhook(t, env, ns, port)
	waitCABundle(t, c, ns)

	d := load(t, ns)
	sandboxtest.Eventually(t, time.Minute, "the webhook to admit the minimal deployment", func(ctx context.Context) error {
		return c.Create(ctx, d.DeepCopy())
	})
	t.Run("defaults are stored on create", func(t *testing.T) {
		got := get(t, c, d)
		if got.Spec.Region != "RegionOne" || got.Spec.Features.Keystone.TokenExpiration != 3600 || got.Spec.Features.Neutron.Backend != v1.NeutronML2OVS {
			t.Errorf("the stored spec is not defaulted: region %q, token expiration %d, neutron %q",
				got.Spec.Region, got.Spec.Features.Keystone.TokenExpiration, got.Spec.Features.Neutron.Backend)
		}
	})
	t.Run("an invalid spec is refused on create", func(t *testing.T) {
		bad := load(t, ns)
		bad.Name, bad.Spec.Features.Services = "bad", []string{"bogus"}
		refused(t, c.Create(t.Context(), bad), "spec.features.services[0]", `Unsupported value: "bogus"`)
	})

	steps := []struct {
		name   string
		change func(d *v1.OpenStackDeployment)
		// deployed sets status.deployedVersion before the change.
		deployed string
		// want are the substrings of the refusal; none means allowed.
		want []string
	}{
		{name: "an invalid spec", change: func(d *v1.OpenStackDeployment) { d.Spec.Features.Nova.AllocationRatios.CPU = "lots" },
			want: []string{"spec.features.nova.allocationRatios.cpu", "positive decimal"}},
		{name: "a downgrade", change: version("bobcat"),
			want: []string{"spec.openstackVersion", "caracal to bobcat is a downgrade", "rule: no downgrade"}},
		{name: "skipping a non-SLURP release", change: version("flamingo"),
			want: []string{"spec.openstackVersion", "caracal to flamingo skips dalmatian, epoxy", "rule: one release at a time"}},
		{name: "SLURP to the next SLURP", change: version("epoxy")},
		{name: "a new upgrade while one runs", deployed: "caracal", change: version("flamingo"),
			want: []string{"spec.openstackVersion", "from caracal to epoxy is still running", "rule: one upgrade at a time"}},
		{name: "an upgrade with another change", deployed: "epoxy", change: func(d *v1.OpenStackDeployment) {
			d.Spec.OpenStackVersion, d.Spec.Region = "flamingo", "RegionTwo"
		}, want: []string{"spec.region", "upgrade of spec.openstackVersion from epoxy to flamingo", "rule: an upgrade changes nothing else"}},
		{name: "an upgrade enabling a service", change: func(d *v1.OpenStackDeployment) {
			d.Spec.OpenStackVersion, d.Spec.Features.Services = "flamingo", []string{"orchestration"}
		}},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			if s.deployed != "" {
				setDeployed(t, c, d, s.deployed)
			}
			cur := get(t, c, d)
			changed := cur.DeepCopy()
			s.change(changed)
			err := c.Patch(t.Context(), changed, client.MergeFrom(cur))
			if len(s.want) == 0 {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			refused(t, err, s.want...)
		})
	}
}

// refused checks that the API server refused a request as Invalid with
// a message holding every want.
func refused(t *testing.T, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("allowed, want a refusal mentioning %q", want)
	}
	t.Logf("refused: %v", err)
	if !apierrors.IsInvalid(err) {
		t.Errorf("refused with %v, want Invalid", err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("refusal %q does not mention %q", err, w)
		}
	}
}

func version(v string) func(d *v1.OpenStackDeployment) {
	return func(d *v1.OpenStackDeployment) { d.Spec.OpenStackVersion = v }
}

func load(t *testing.T, ns string) *v1.OpenStackDeployment {
	t.Helper()
	d, err := manifest.Load(filepath.Join("..", "..", "examples", "minimal.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	d.Namespace = ns
	return d
}

func get(t *testing.T, c client.Client, d *v1.OpenStackDeployment) *v1.OpenStackDeployment {
	t.Helper()
	got := &v1.OpenStackDeployment{}
	if err := c.Get(t.Context(), client.ObjectKeyFromObject(d), got); err != nil {
		t.Fatal(err)
	}
	return got
}

// setDeployed sets status.deployedVersion, as the operator does once a
// release fully runs.
func setDeployed(t *testing.T, c client.Client, d *v1.OpenStackDeployment, version string) {
	t.Helper()
	cur := get(t, c, d)
	cur.Status.DeployedVersion = version
	if err := c.Status().Update(t.Context(), cur); err != nil {
		t.Fatal(err)
	}
}

// installWebhookConfigs installs config/webhook/manifests.yaml with each
// webhook calling https://127.0.0.1:port instead of the Service (the
// sandbox's API server runs on this machine), and removes them when the
// test ends.
func installWebhookConfigs(t *testing.T, c client.Client, port int) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "config", "webhook", "manifests.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	mwc := &admissionregistrationv1.MutatingWebhookConfiguration{}
	vwc := &admissionregistrationv1.ValidatingWebhookConfiguration{}
	for _, obj := range []client.Object{mwc, vwc} {
		if err := dec.Decode(obj); err != nil {
			t.Fatalf("decoding config/webhook/manifests.yaml: %v", err)
		}
	}
	for i := range mwc.Webhooks {
		mwc.Webhooks[i].ClientConfig = loopback(mwc.Webhooks[i].ClientConfig, port)
	}
	for i := range vwc.Webhooks {
		vwc.Webhooks[i].ClientConfig = loopback(vwc.Webhooks[i].ClientConfig, port)
	}
	for _, obj := range []client.Object{mwc, vwc} {
		if err := c.Create(t.Context(), obj); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := c.Delete(context.Background(), obj); err != nil {
				t.Errorf("deleting webhook configuration %s: %v", obj.GetName(), err)
			}
		})
	}
}

func loopback(cc admissionregistrationv1.WebhookClientConfig, port int) admissionregistrationv1.WebhookClientConfig {
	url := fmt.Sprintf("https://127.0.0.1:%d%s", port, *cc.Service.Path)
	return admissionregistrationv1.WebhookClientConfig{URL: &url}
}

// startWebhook runs `osk operator --webhook-only` in this process, on
// 127.0.0.1:port, its certificate Secret in namespace ns.
func startWebhook(t *testing.T, env *sandboxtest.Env, ns string, port int) {
	t.Helper()
	operatortest.Start(t, env.Config(), operator.Options{
		MetricsAddr: "0", ProbeAddr: "0", WebhookOnly: true,
		Webhook: operator.WebhookOptions{Host: "127.0.0.1", Port: port, CertMode: operator.CertSelf, Namespace: ns, Hosts: []string{"127.0.0.1"}},
	})
}

// waitCABundle waits until the operator put its CA into every webhook of
// both configurations, and checks its certificate Secret in ns.
func waitCABundle(t *testing.T, c client.Client, ns string) {
	t.Helper()
	sandboxtest.Eventually(t, time.Minute, "the operator's CA in the webhook configurations", func(ctx context.Context) error {
		return admission.CABundlesInstalled(ctx, c)
	})
	s := &corev1.Secret{}
	if err := c.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: admission.SecretName}, s); err != nil {
		t.Fatalf("the certificate Secret: %v", err)
	}
	if s.Type != corev1.SecretTypeTLS || len(s.Data["ca.key"]) == 0 || len(s.Data[corev1.TLSCertKey]) == 0 {
		t.Errorf("Secret %s/%s (%s) lacks the CA key or the serving certificate", ns, s.Name, s.Type)
	}
}
