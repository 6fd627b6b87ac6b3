package render_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/catalog"
	"github.com/oskproject/osk/internal/manifest"
	"github.com/oskproject/osk/internal/render"
)

// deploymentExamples renders every OpenStackDeployment in examples/.
func deploymentExamples(t *testing.T) map[string][]client.Object {
	t.Helper()
	out := map[string][]client.Object{}
	for file, d := range exampleDeployments(t) {
		res, err := render.Render(d, render.Options{})
		if err != nil {
			t.Fatalf("rendering %s: %v", file, err)
		}
		out[file] = res.Objects
	}
	return out
}

// exampleDeployments loads every OpenStackDeployment in examples/, by
// file name.
func exampleDeployments(t *testing.T) map[string]*v1.OpenStackDeployment {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("..", "..", "examples", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*v1.OpenStackDeployment{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(data), "kind: OpenStackDeployment") {
			continue
		}
		d, err := manifest.Load(p)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(p)] = d
	}
	if len(out) == 0 {
		t.Fatal("no OpenStackDeployment in examples/")
	}
	return out
}

// owner finds the catalog component an object belongs to, by its labels:
// the component whose name is the longest prefix of the component label
// (node variants add the node key), or the service's only component
// (RabbitMQ runs its one component once per bus). Nil for jobs and
// osk's own pods.
func owner(o client.Object) *catalog.Component {
	if strings.HasPrefix(o.GetLabels()[render.LabelComponent], catalog.LogShipper.Name+"-") {
		return &catalog.LogShipper
	}
	s, ok := catalog.Default().Get(o.GetLabels()[render.LabelService])
	if !ok {
		return nil
	}
	label := o.GetLabels()[render.LabelComponent]
	var best *catalog.Component
	for i := range s.Components {
		c := &s.Components[i]
		if (label == c.Name || strings.HasPrefix(label, c.Name+"-")) && (best == nil || len(c.Name) > len(best.Name)) {
			best = c
		}
	}
	if best == nil && len(s.Components) == 1 && o.GetObjectKind().GroupVersionKind().Kind == "StatefulSet" {
		best = &s.Components[0]
	}
	return best
}

// privilegesOf returns the catalog's privileges of one container of an
// object: the component's for its main container, a sidecar's own, none
// for init containers, jobs and the rest.
func privilegesOf(c *catalog.Component, container string, init bool) *catalog.Privileges {
	if c == nil || init {
		return nil
	}
	if container == c.Name {
		return c.Privileges
	}
	for _, sc := range c.Sidecars {
		if sc.Name == container {
			return sc.Privileges
		}
	}
	return nil
}

// TestPodSecurity checks every container of every rendered example (init
// containers and sidecars included) for the restricted security context,
// resource requests and a pinned image, and every privilege against the
// catalog's reasons. It reports every offender.
func TestPodSecurity(t *testing.T) {
	for file, objs := range deploymentExamples(t) {
		for _, o := range objs {
			spec, ok := anyPodSpec(o)
			if !ok {
				continue
			}
			where := fmt.Sprintf("%s %s/%s", file, o.GetObjectKind().GroupVersionKind().Kind, o.GetName())
			comp := owner(o)
			for _, e := range podProblems(spec, comp) {
				t.Errorf("%s: %s", where, e)
			}
			for _, list := range []struct {
				init bool
				ctrs []corev1.Container
			}{{true, spec.InitContainers}, {false, spec.Containers}} {
				for _, ctr := range list.ctrs {
					for _, e := range containerProblems(ctr, privilegesOf(comp, ctr.Name, list.init)) {
						t.Errorf("%s container %s: %s", where, ctr.Name, e)
					}
				}
			}
		}
	}
}

// anyPodSpec returns the pods of a workload, Job or CronJob.
func anyPodSpec(o client.Object) (*corev1.PodSpec, bool) {
	switch j := o.(type) {
	case *batchv1.Job:
		return &j.Spec.Template.Spec, true
	case *batchv1.CronJob:
		return &j.Spec.JobTemplate.Spec.Template.Spec, true
	}
	return podSpec(o)
}

// podProblems checks what is the pod's: seccomp and host namespaces.
func podProblems(spec *corev1.PodSpec, comp *catalog.Component) []string {
	var out []string
	var p catalog.Privileges
	if comp != nil && comp.Privileges != nil {
		p = *comp.Privileges
	}
	sc := spec.SecurityContext
	if sc == nil || sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		out = append(out, "pod without the RuntimeDefault seccomp profile")
	}
	if spec.HostNetwork && !p.HostNetwork {
		out = append(out, "host network not justified in the catalog")
	}
	if spec.HostPID && !p.HostPID {
		out = append(out, "host PID not justified in the catalog")
	}
	if (spec.HostNetwork || spec.HostPID) && p.Why == "" {
		out = append(out, "host namespaces without a reason")
	}
	return out
}

// containerProblems checks one container against the restricted default
// and the catalog's privileges p (nil: none).
func containerProblems(ctr corev1.Container, p *catalog.Privileges) []string {
	var out []string
	if p == nil {
		p = &catalog.Privileges{}
	}
	if p.Why == "" && (p.Root || p.Privileged || p.WritableRoot || len(p.Capabilities) > 0) {
		out = append(out, "privileges without a reason in the catalog")
	}
	out = append(out, imageProblems(ctr.Image)...)
	if ctr.Resources.Requests.Cpu().IsZero() || ctr.Resources.Requests.Memory().IsZero() {
		out = append(out, "no CPU and memory requests")
	}
	sc := ctr.SecurityContext
	if sc == nil {
		return append(out, "no security context")
	}
	if isTrue(sc.Privileged) && !p.Privileged {
		out = append(out, "privileged, not justified in the catalog")
	}
	root := !isTrue(sc.RunAsNonRoot) || sc.RunAsUser == nil || *sc.RunAsUser == 0
	if root && !p.RunsAsRoot() {
		out = append(out, "may run as root (runAsNonRoot, runAsUser), not justified in the catalog")
	}
	if !isTrue(sc.ReadOnlyRootFilesystem) && !p.WritableRoot {
		out = append(out, "writable root filesystem, not justified in the catalog")
	}
	if !p.Privileged {
		out = append(out, capabilityProblems(sc, p)...)
	}
	return out
}

// capabilityProblems checks an unprivileged container's capabilities and
// privilege escalation.
func capabilityProblems(sc *corev1.SecurityContext, p *catalog.Privileges) []string {
	var out []string
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		out = append(out, "privilege escalation allowed")
	}
	if sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") {
		return append(out, "capabilities not all dropped")
	}
	for _, c := range sc.Capabilities.Add {
		if !slices.Contains(p.Capabilities, string(c)) {
			out = append(out, fmt.Sprintf("capability %s not named in the catalog", c))
		}
	}
	return out
}

// imageProblems rejects an image without a tag or tagged latest.
func imageProblems(ref string) []string {
	if strings.Contains(ref, "@sha256:") {
		return nil
	}
	name := ref[strings.LastIndex(ref, "/")+1:]
	i := strings.LastIndex(name, ":")
	if i < 0 {
		return []string{fmt.Sprintf("image %q has no tag", ref)}
	}
	if tag := name[i+1:]; tag == "" || tag == "latest" || strings.HasPrefix(tag, "latest-") {
		return []string{fmt.Sprintf("image %q has a moving tag", ref)}
	}
	return nil
}

func isTrue(b *bool) bool { return b != nil && *b }

// TestSecretsReadByName checks that no rendered Role or ClusterRole grants
// Secrets (or every resource) without naming them, unless the catalog
// says why its component must list them.
func TestSecretsReadByName(t *testing.T) {
	for file, objs := range deploymentExamples(t) {
		for _, o := range objs {
			for _, rule := range rulesOf(o) {
				wide := (slices.Contains(rule.Resources, "secrets") || slices.Contains(rule.Resources, "*")) && len(rule.ResourceNames) == 0
				if c := owner(o); wide && (c == nil || c.ListsSecrets == "") {
					t.Errorf("%s %T %s: reads every Secret (%v), not justified in the catalog", file, o, o.GetName(), rule)
				}
			}
		}
	}
}

// TestImageProblems checks the image tag check itself.
func TestImageProblems(t *testing.T) {
	for ref, bad := range map[string]bool{
		"ghcr.io/oskproject/osk:latest":                     true,
		"quay.io/airshipit/openvswitch:latest-ubuntu_jammy": true,
		"registry:5000/osk":                                 true,
		"registry:5000/osk:v1.2.3":                          false,
		"docker.io/library/mariadb:10.11":                   false,
		"quay.io/x/y@sha256:0123":                           false,
	} {
		if got := len(imageProblems(ref)) > 0; got != bad {
			t.Errorf("imageProblems(%q) = %v, want problems: %v", ref, imageProblems(ref), bad)
		}
	}
}

// TestLivenessAndDrain checks that the RPC servers get a liveness check
// of their own (the RPC ping, slower than the readiness check) and the API
// servers a drain before they stop.
func TestLivenessAndDrain(t *testing.T) {
	objs := renderExample(t, "full", nil).Objects
	for _, name := range []string{"Deployment/nova-conductor", "Deployment/nova-scheduler", "Deployment/cinder-scheduler", "Deployment/heat-engine"} {
		spec, _ := podSpec(find(objs, name))
		live := spec.Containers[0].LivenessProbe
		if live == nil || live.Exec == nil || !slices.Contains(live.Exec.Command, "python3") || live.TimeoutSeconds < 30 {
			t.Errorf("%s: liveness %+v, want the RPC ping with a 30 s limit", name, live)
		}
	}
	for _, name := range []string{"Deployment/nova-api", "Deployment/keystone-api", "Deployment/neutron-server", "Deployment/glance-api"} {
		spec, _ := podSpec(find(objs, name))
		pre := spec.Containers[0].Lifecycle
		if pre == nil || pre.PreStop == nil || spec.TerminationGracePeriodSeconds == nil || *spec.TerminationGracePeriodSeconds < 30 {
			t.Errorf("%s: no preStop drain and grace period (%+v, %v)", name, pre, spec.TerminationGracePeriodSeconds)
		}
	}
}
