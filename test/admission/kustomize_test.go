package admission_test

import (
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/oskproject/osk/internal/admission"
	"github.com/oskproject/osk/internal/cli"
)

// TestWebhookComponent builds config/default, which includes the
// config/webhook component, and checks that the pieces fit: both configurations call the webhook Service in
// the operator's namespace, the Service targets the container's webhook
// port, and the operator's command, parsed by osk's own CLI, serves the
// webhook on that port.
func TestWebhookComponent(t *testing.T) {
	m := buildDefault(t)
	var mwc admissionregistrationv1.MutatingWebhookConfiguration
	var vwc admissionregistrationv1.ValidatingWebhookConfiguration
	var svc corev1.Service
	var dep appsv1.Deployment
	decode(t, m, "MutatingWebhookConfiguration", admission.MutatingConfigName, &mwc)
	decode(t, m, "ValidatingWebhookConfiguration", admission.ValidatingConfigName, &vwc)
	decode(t, m, "Service", admission.ServiceName, &svc)
	decode(t, m, "Deployment", "osk-operator", &dep)
	var refs []*admissionregistrationv1.ServiceReference
	for _, w := range mwc.Webhooks {
		refs = append(refs, w.ClientConfig.Service)
	}
	for _, w := range vwc.Webhooks {
		refs = append(refs, w.ClientConfig.Service)
	}
	for _, r := range refs {
		if r == nil || r.Name != svc.Name || r.Namespace != dep.Namespace {
			t.Errorf("a webhook calls Service %+v, want %s/%s", r, dep.Namespace, svc.Name)
		}
	}
	if svc.Namespace != dep.Namespace || len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Port != 443 {
		t.Fatalf("Service %s/%s ports %+v, want 443 in %s", svc.Namespace, svc.Name, svc.Spec.Ports, dep.Namespace)
	}
	ctr := dep.Spec.Template.Spec.Containers[0]
	port := webhookPort(t, append(slices.Clone(ctr.Command), ctr.Args...))
	target := svc.Spec.Ports[0].TargetPort.StrVal
	if !slices.ContainsFunc(ctr.Ports, func(p corev1.ContainerPort) bool { return p.Name == target && int(p.ContainerPort) == port }) {
		t.Errorf("the Service targets port %q, the operator serves the webhook on %d, the container's ports are %+v", target, port, ctr.Ports)
	}
	if !slices.ContainsFunc(ctr.Env, func(e corev1.EnvVar) bool { return e.Name == "POD_NAMESPACE" && e.ValueFrom != nil }) {
		t.Error("the operator is not told its namespace ($POD_NAMESPACE), where its certificate Secret lives")
	}
}

// buildDefault builds config/default, which installs the webhook.
func buildDefault(t *testing.T) resmap.ResMap {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", "..", "config", "default"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), root)
	if err != nil {
		t.Fatalf("kustomize build: %v", err)
	}
	return m
}

// decode finds one object of the build by kind and name and decodes it.
func decode(t *testing.T, m resmap.ResMap, kind, name string, into any) {
	t.Helper()
	for _, r := range m.Resources() {
		if r.GetKind() != kind || r.GetName() != name {
			continue
		}
		data, err := r.AsYAML()
		if err != nil {
			t.Fatal(err)
		}
		if err := yaml.Unmarshal(data, into); err != nil {
			t.Fatalf("%s %s: %v", kind, name, err)
		}
		return
	}
	t.Fatalf("the build has no %s %s", kind, name)
}

// webhookPort parses the operator's command line with osk's CLI and
// returns its --webhook-port.
func webhookPort(t *testing.T, args []string) int {
	t.Helper()
	if len(args) < 2 || args[0] != "osk" {
		t.Fatalf("the operator container runs %q", args)
	}
	cmd, rest, err := cli.NewRootCommand().Find(args[1:])
	if err != nil || cmd.Name() != "operator" {
		t.Fatalf("osk %q is not the operator command: %v", args[1:], err)
	}
	if err := cmd.ParseFlags(rest); err != nil {
		t.Fatalf("osk %q: %v", args[1:], err)
	}
	port, err := strconv.Atoi(cmd.Flags().Lookup("webhook-port").Value.String())
	if err != nil || port == 0 {
		t.Fatalf("the operator does not serve the webhook (--webhook-port %d, %v)", port, err)
	}
	return port
}
