package render_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/catalog"
	"github.com/oskproject/osk/internal/manifest"
	"github.com/oskproject/osk/internal/monitoring"
	"github.com/oskproject/osk/internal/render"
)

var update = flag.Bool("update", false, "rewrite the golden files")

var examples = []string{"minimal", "compute", "full"}

func load(t testing.TB, name string) *v1.OpenStackDeployment {
	t.Helper()
	d, err := manifest.Load(filepath.Join("..", "..", "examples", name+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func renderExample(t testing.TB, name string, creds render.Credentials) *render.Result {
	t.Helper()
	res, err := render.Render(load(t, name), render.Options{Credentials: creds})
	if err != nil {
		t.Fatalf("rendering %s: %v", name, err)
	}
	return res
}

// TestGolden compares each example's render with its golden file.
// Regenerate with `go test ./internal/render -update` and read the diff.
func TestGolden(t *testing.T) {
	for _, name := range examples {
		t.Run(name, func(t *testing.T) {
			out, err := render.Stream(renderExample(t, name, nil).Objects)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", name+".golden.yaml")
			if *update {
				if err := os.WriteFile(path, out, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(out, want) {
				t.Fatalf("render of %s differs from %s; run `go test ./internal/render -update` and review the diff", name, path)
			}
		})
	}
}

// TestDeterministic renders each example several times.
func TestDeterministic(t *testing.T) {
	for _, name := range examples {
		first, _ := render.Stream(renderExample(t, name, nil).Objects)
		for i := 0; i < 3; i++ {
			again, _ := render.Stream(renderExample(t, name, nil).Objects)
			if !bytes.Equal(first, again) {
				t.Fatalf("%s: render %d differs from the first", name, i+2)
			}
		}
	}
}

// TestStrictDecode decodes every rendered object strictly into its
// Kubernetes type: no unknown, misplaced or duplicate field.
func TestStrictDecode(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := monitoring.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	decoder := serializer.NewCodecFactory(scheme, serializer.EnableStrict).UniversalDeserializer()
	for _, name := range examples {
		out, _ := render.Stream(renderExample(t, name, nil).Objects)
		r := utilyaml.NewYAMLReader(bufioReader(out))
		n := 0
		for {
			doc, err := r.Read()
			if err != nil {
				break
			}
			if len(bytes.TrimSpace(doc)) == 0 || string(bytes.TrimSpace(doc)) == "---" {
				continue
			}
			if _, _, err := decoder.Decode(doc, nil, nil); err != nil {
				t.Errorf("%s: object %d does not decode strictly: %v\n%s", name, n, err, doc)
			}
			n++
		}
		if n < 50 {
			t.Fatalf("%s: only %d objects decoded", name, n)
		}
	}
}

// recorder hands out a distinct value per credential and remembers them.
type recorder map[string]bool

func (r recorder) Value(secret, key string) string {
	if v, ok := internalCA(secret, key); ok {
		// The CA's key must stay in Secrets; its certificate is public.
		r[string(testCA.Key)] = true
		return v
	}
	v := fmt.Sprintf("pw-%s-%s-7f3a", secret, key)
	r[v] = true
	return v
}

// TestPasswordsOnlyInSecrets renders with recognisable passwords and
// checks they appear in Secrets and nowhere else.
func TestPasswordsOnlyInSecrets(t *testing.T) {
	for _, name := range examples {
		rec := recorder{}
		res := renderExample(t, name, rec)
		if len(rec) == 0 {
			t.Fatal("no credential was used")
		}
		inSecrets := 0
		for _, o := range res.Objects {
			y, err := render.YAML(o)
			if err != nil {
				t.Fatal(err)
			}
			text := string(y)
			if s, ok := o.(*corev1.Secret); ok {
				for _, b := range s.Data {
					for pw := range rec {
						if bytes.Contains(b, []byte(pw)) {
							inSecrets++
						}
					}
				}
				continue
			}
			for pw := range rec {
				if strings.Contains(text, pw) {
					t.Errorf("%s: %s %s holds a password", name, o.GetObjectKind().GroupVersionKind().Kind, o.GetName())
				}
			}
		}
		if inSecrets == 0 {
			t.Fatalf("%s: no password reached a Secret; the test proves nothing", name)
		}
	}
}

// TestWorkloadsSelectedByRole checks every pod is placed by exactly one
// role label.
func TestWorkloadsSelectedByRole(t *testing.T) {
	roles := map[string]bool{catalog.RoleControlPlane: true, catalog.RoleCompute: true, catalog.RoleOpenVSwitch: true, catalog.RoleGateway: true}
	for _, name := range examples {
		for _, o := range renderExample(t, name, nil).Objects {
			spec, ok := podSpec(o)
			if !ok {
				continue
			}
			n := 0
			for k, v := range spec.NodeSelector {
				if roles[k] {
					n++
					if v != catalog.RoleValue {
						t.Errorf("%s: %s selects %s=%s", name, o.GetName(), k, v)
					}
				}
			}
			if n != 1 {
				t.Errorf("%s: %s %s has %d role labels in its node selector %v", name, o.GetObjectKind().GroupVersionKind().Kind, o.GetName(), n, spec.NodeSelector)
			}
		}
	}
}

// TestFullCoversEverything checks the full example runs every service
// and infrastructure piece of the catalog available in its release.
func TestFullCoversEverything(t *testing.T) {
	d := load(t, "full")
	res := renderExample(t, "full", nil)
	seen := map[string]bool{}
	for _, o := range res.Objects {
		seen[o.GetLabels()[render.LabelService]] = true
	}
	cat := catalog.Default()
	for _, n := range cat.Names() {
		s, _ := cat.Get(n)
		if !catalog.Available(s.Releases, d.Spec.OpenStackVersion) {
			continue
		}
		if !seen[n] {
			t.Errorf("full example renders nothing for %s", n)
		}
	}
	for _, want := range []string{"DaemonSet/image-precaching-compute", "StatefulSet/mariadb-server", "StatefulSet/rabbitmq-nova",
		"StatefulSet/rabbitmq-notifications", "StatefulSet/etcd-server", "Deployment/ingress-controller", "DaemonSet/openvswitch-vswitchd",
		"DaemonSet/libvirt-libvirtd", "DaemonSet/nova-compute", "Ingress/keystone"} {
		if !has(res.Objects, want) {
			t.Errorf("full example lacks %s", want)
		}
	}
}

// TestNodeOverrideVariant checks a node override gets its own DaemonSet
// and the general one leaves those nodes out.
func TestNodeOverrideVariant(t *testing.T) {
	res := renderExample(t, "compute", nil)
	variant := find(res.Objects, "DaemonSet/neutron-ovs-agent-rack-r2").(*appsv1.DaemonSet)
	if variant.Spec.Template.Spec.NodeSelector["rack"] != "r2" {
		t.Fatalf("variant node selector = %v", variant.Spec.Template.Spec.NodeSelector)
	}
	general := find(res.Objects, "DaemonSet/neutron-ovs-agent").(*appsv1.DaemonSet)
	expr := general.Spec.Template.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchExpressions[0]
	if expr.Key != "rack" || expr.Operator != corev1.NodeSelectorOpNotIn || expr.Values[0] != "r2" {
		t.Fatalf("general DaemonSet does not leave rack=r2 out: %+v", expr)
	}
	if has(res.Objects, "DaemonSet/neutron-l3-agent-rack-r2") {
		t.Fatal("the L3 agent got a variant though the override changes nothing it reads")
	}
}

// TestConfigOverrideRollsOnlyReaders changes one file and checks that only
// the workloads reading it get a new config hash.
func TestConfigOverrideRollsOnlyReaders(t *testing.T) {
	d := load(t, "compute")
	before := hashes(t, d)
	d.Spec.Services["networking"] = v1.ServiceOverride{Config: map[string]v1.OsloFile{"l3_agent.ini": {"DEFAULT": {"debug": "true"}}}}
	after := hashes(t, d)
	for name, h := range before {
		changed := after[name] != h
		if want := name == "neutron-l3-agent"; changed != want {
			t.Errorf("%s: config hash changed = %v, want %v", name, changed, want)
		}
	}
}

func hashes(t *testing.T, d *v1.OpenStackDeployment) map[string]string {
	res, err := render.Render(d, render.Options{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, o := range res.Objects {
		if spec, ok := podTemplate(o); ok {
			out[o.GetName()] = spec.Annotations[render.AnnotationConfigHash]
		}
	}
	return out
}

func podTemplate(o client.Object) (*corev1.PodTemplateSpec, bool) {
	switch w := o.(type) {
	case *appsv1.Deployment:
		return &w.Spec.Template, true
	case *appsv1.StatefulSet:
		return &w.Spec.Template, true
	case *appsv1.DaemonSet:
		return &w.Spec.Template, true
	}
	return nil, false
}

func podSpec(o client.Object) (*corev1.PodSpec, bool) {
	if t, ok := podTemplate(o); ok {
		return &t.Spec, true
	}
	return nil, false
}

func find(objs []client.Object, kindName string) client.Object {
	for _, o := range objs {
		if o.GetObjectKind().GroupVersionKind().Kind+"/"+o.GetName() == kindName {
			return o
		}
	}
	panic("not rendered: " + kindName)
}

func has(objs []client.Object, kindName string) bool {
	for _, o := range objs {
		if o.GetObjectKind().GroupVersionKind().Kind+"/"+o.GetName() == kindName {
			return true
		}
	}
	return false
}

// BenchmarkRenderFull renders examples/full.yaml.
func BenchmarkRenderFull(b *testing.B) {
	d := load(b, "full")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := render.Render(d, render.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestIngressBackendsMatchServices checks that every Ingress backend names
// a port its Service exposes: the ingress talks to Services, not pods.
func TestIngressBackendsMatchServices(t *testing.T) {
	objs := renderExample(t, "full", nil).Objects
	n := 0
	for _, o := range objs {
		ing, ok := o.(*networkingv1.Ingress)
		if !ok {
			continue
		}
		for _, rule := range ing.Spec.Rules {
			for _, path := range rule.HTTP.Paths {
				b := path.Backend.Service
				svc := find(objs, "Service/"+b.Name).(*corev1.Service)
				if !slices.ContainsFunc(svc.Spec.Ports, func(p corev1.ServicePort) bool { return p.Port == b.Port.Number }) {
					t.Errorf("Ingress %s sends %s to port %d of Service %s, which exposes %v", ing.Name, rule.Host, b.Port.Number, b.Name, svc.Spec.Ports)
				}
				n++
			}
		}
	}
	if n == 0 {
		t.Fatal("the full example rendered no Ingress backends")
	}
}

// TestCatalogPodSettings checks settings the catalog asks of pods beyond
// the defaults: DNS over UDP, the image user's group, a startup allowance.
func TestCatalogPodSettings(t *testing.T) {
	objs := renderExample(t, "full", nil).Objects
	dns := find(objs, "Service/powerdns-server").(*corev1.Service)
	if !slices.ContainsFunc(dns.Spec.Ports, func(p corev1.ServicePort) bool { return p.Port == 53 && p.Protocol == corev1.ProtocolUDP }) {
		t.Errorf("PowerDNS Service does not serve DNS on UDP 53: %v", dns.Spec.Ports)
	}
	pdns, _ := podSpec(find(objs, "Deployment/powerdns-server"))
	if pdns.SecurityContext == nil || pdns.SecurityContext.FSGroup == nil || *pdns.SecurityContext.FSGroup != 953 {
		t.Errorf("PowerDNS pods do not run with fsGroup 953: %+v", pdns.SecurityContext)
	}
	horizon, _ := podSpec(find(objs, "Deployment/horizon-server"))
	sp := horizon.Containers[0].StartupProbe
	if sp == nil || sp.FailureThreshold*sp.PeriodSeconds < 600 {
		t.Errorf("Horizon has no startup probe allowing 600 s: %+v", sp)
	}
}

// fixed returns the same value for every credential but one.
type fixed struct{ secret, key, value string }

func (f fixed) Value(secret, key string) string {
	if v, ok := internalCA(secret, key); ok {
		return v
	}
	if secret == f.secret && key == f.key {
		return f.value
	}
	return "same-" + secret + "-" + key
}

// TestJobRerunsOnNewPassword checks that a new password in a credential
// Secret changes the inputs hash of exactly the Jobs that read it, so
// db-init runs again and sets it.
func TestJobRerunsOnNewPassword(t *testing.T) {
	inputs := func(pw string) map[string]string {
		res := renderExample(t, "minimal", fixed{"nova-credentials", "database-password", pw})
		out := map[string]string{}
		for _, o := range res.Objects {
			if j, ok := o.(*batchv1.Job); ok {
				out[j.Name] = j.Annotations[render.AnnotationInputsHash]
			}
		}
		return out
	}
	before, after := inputs("first"), inputs("second")
	for name, h := range before {
		changed := after[name] != h
		// nova-db-init reads the password from its environment; the db
		// syncs read it from nova.conf, whose hash changes too.
		want := name == "nova-db-init" || strings.HasPrefix(name, "nova-") && name != "nova-rabbit-init" && name != "nova-keystone-register"
		if changed != want {
			t.Errorf("%s: inputs hash changed=%v, want %v", name, changed, want)
		}
	}
}

// TestMetadataProxySecretShared checks that Nova's metadata API and every
// Neutron metadata agent get the same generated shared secret.
func TestMetadataProxySecretShared(t *testing.T) {
	for _, name := range examples {
		res := renderExample(t, name, recorder{})
		want := "pw-nova-credentials-" + catalog.KeyMetadataSecret + "-7f3a"
		nova := find(res.Objects, "Secret/nova-etc").(*corev1.Secret).Data["nova.conf"]
		if !strings.Contains(string(nova), "metadata_proxy_shared_secret = "+want) {
			t.Errorf("%s: nova.conf lacks the metadata proxy's secret", name)
		}
		agents := find(res.Objects, "Secret/neutron-etc").(*corev1.Secret).Data
		for _, file := range []string{"metadata_agent.ini", "neutron_ovn_metadata_agent.ini"} {
			if !strings.Contains(string(agents[file]), "metadata_proxy_shared_secret = "+want) {
				t.Errorf("%s: %s lacks the metadata proxy's secret", name, file)
			}
		}
	}
}
