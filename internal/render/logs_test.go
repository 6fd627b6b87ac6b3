package render_test

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/oskproject/osk/internal/catalog"
	"github.com/oskproject/osk/internal/render"
)

// logShipper returns the log shipper's ConfigMap and DaemonSets.
func logShipper(objs []client.Object) (*corev1.ConfigMap, []*appsv1.DaemonSet) {
	var cm *corev1.ConfigMap
	var ds []*appsv1.DaemonSet
	for _, o := range objs {
		switch o := o.(type) {
		case *corev1.ConfigMap:
			if o.Name == render.LogShipper {
				cm = o
			}
		case *appsv1.DaemonSet:
			if strings.HasPrefix(o.Name, render.LogShipper+"-") {
				ds = append(ds, o)
			}
		}
	}
	return cm, ds
}

// TestLogShipper: with StackLight's logs on, every node that carries a
// role runs exactly one shipper, which reads the pod logs read-only,
// keeps its state on the node, reads its configuration from the
// ConfigMap (which names OpenSearch and holds no credential) and its
// credentials from the Secret; off, nothing of it is rendered.
func TestLogShipper(t *testing.T) {
	d := load(t, "full")
	d.Spec.Features.StackLight.Logs.URL = "https://search.example.com:9200"
	d.Spec.Features.StackLight.Logs.CredentialsSecret = "opensearch-writer"
	res, err := render.Render(d, render.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cm, ds := logShipper(res.Objects)
	if cm == nil || len(ds) != 4 {
		t.Fatalf("rendered ConfigMap %v and %d DaemonSets, want the ConfigMap and one DaemonSet per node role", cm != nil, len(ds))
	}
	conf := cm.Data[render.LogShipperConfig]
	for _, want := range []string{`url("https://search.example.com:9200/_bulk")`, "/" + d.Namespace + "_", "`OPENSEARCH_PASSWORD`"} {
		if !strings.Contains(conf, want) {
			t.Errorf("the configuration lacks %s", want)
		}
	}
	checkOneShipperPerNode(t, ds)
	for _, s := range ds {
		checkShipperPod(t, s, d.Namespace, "opensearch-writer")
	}
	d.Spec.Features.StackLight.Logs.Enabled = false
	if res, err = render.Render(d, render.Options{}); err != nil {
		t.Fatal(err)
	}
	if cm, ds := logShipper(res.Objects); cm != nil || len(ds) != 0 {
		t.Errorf("logs off rendered the shipper: ConfigMap %v, %d DaemonSets", cm != nil, len(ds))
	}
}

// checkOneShipperPerNode places every combination of node roles: exactly
// one DaemonSet's node selector and affinity match each.
func checkOneShipperPerNode(t *testing.T, ds []*appsv1.DaemonSet) {
	t.Helper()
	roles := []string{catalog.RoleControlPlane, catalog.RoleCompute, catalog.RoleOpenVSwitch, catalog.RoleGateway}
	for mask := 1; mask < 1<<len(roles); mask++ {
		node := labels.Set{}
		for i, r := range roles {
			if mask&(1<<i) != 0 {
				node[r] = catalog.RoleValue
			}
		}
		var on []string
		for _, s := range ds {
			if schedules(s.Spec.Template.Spec, node) {
				on = append(on, s.Name)
			}
		}
		if len(on) != 1 {
			t.Errorf("a node labelled %v runs %d shippers %v, want one", node, len(on), on)
		}
	}
}

// schedules reports whether a pod's node selector and required node
// affinity (NotIn and In expressions) admit a node's labels.
func schedules(spec corev1.PodSpec, node labels.Set) bool {
	if !labels.SelectorFromSet(spec.NodeSelector).Matches(node) {
		return false
	}
	if spec.Affinity == nil {
		return true
	}
	for _, term := range spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
		ok := true
		for _, e := range term.MatchExpressions {
			in := node.Has(e.Key) && contains(e.Values, node.Get(e.Key))
			if (e.Operator == corev1.NodeSelectorOpNotIn) == in {
				ok = false
			}
		}
		if ok {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// checkShipperPod: pod logs read-only, the state on the node per
// namespace, no API token, credentials from the Secret only.
func checkShipperPod(t *testing.T, s *appsv1.DaemonSet, namespace, secret string) {
	t.Helper()
	spec := s.Spec.Template.Spec
	if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
		t.Errorf("%s mounts an API token", s.Name)
	}
	hostPaths := map[string]string{}
	for _, v := range spec.Volumes {
		if v.HostPath != nil {
			hostPaths[v.Name] = v.HostPath.Path
		}
	}
	if hostPaths["pod-logs"] != render.PodLogDir || hostPaths["state"] != render.LogStateDir+"/"+namespace || len(hostPaths) != 2 {
		t.Errorf("%s mounts the node's %v, want the pod logs and its namespace's state only", s.Name, hostPaths)
	}
	ctr := spec.Containers[0]
	for _, m := range ctr.VolumeMounts {
		if m.Name == "pod-logs" && !m.ReadOnly {
			t.Errorf("%s mounts the pod logs writable", s.Name)
		}
	}
	secrets := 0
	for _, e := range ctr.Env {
		if e.Value != "" {
			t.Errorf("%s: env %s has a literal value", s.Name, e.Name)
		}
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			if e.ValueFrom.SecretKeyRef.Name != secret {
				t.Errorf("%s: env %s from Secret %s", s.Name, e.Name, e.ValueFrom.SecretKeyRef.Name)
			}
			secrets++
		}
	}
	if secrets != 2 {
		t.Errorf("%s reads %d values from the credentials Secret, want username and password", s.Name, secrets)
	}
}
