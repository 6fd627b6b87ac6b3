package ceph_test

import (
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/ceph"
	"github.com/oskproject/osk/internal/testing/cephtest"
	"github.com/oskproject/osk/internal/testing/proctest"
	"github.com/oskproject/osk/internal/validation"
)

// rookStandIn stands in for Rook on the bed. Rook runs Ceph in containers,
// which the bed cannot run; so this does, with Ceph's own CLI, what Rook's
// operator does for each object, and publishes the outputs where and as
// Rook does: status.phase Ready, the CephCluster's status.ceph.fsid, the
// ConfigMap rook-ceph-mon-endpoints, each CephClient's Secret
// rook-ceph-client-<name> named by status.info.secretName, the
// CephObjectStore's status.info.endpoint. Everything that reads those
// outputs (internal/ceph.Assemble) is osk's production code.
type rookStandIn struct {
	t         *testing.T
	cluster   *cephtest.Cluster
	published ceph.Published
	// secrets are the Secrets of Rook's namespace the objects name (the
	// object store's Keystone service user), by name.
	secrets map[string]*corev1.Secret
	// local turns a cluster DNS name in a URL into the bed's address,
	// as the gateway's pod would resolve it.
	local func(string) string
}

func newRookStandIn(t *testing.T, c *cephtest.Cluster, local func(string) string) *rookStandIn {
	return &rookStandIn{t: t, cluster: c, local: local, secrets: map[string]*corev1.Secret{},
		published: ceph.Published{ClientSecrets: map[string]*corev1.Secret{}}}
}

// rendered is what osk's Ceph controller renders for the bed's
// CephDeployment (testdata/ceph.yaml), validated as the webhook would:
// the Rook objects the stand-in acts on.
func rendered(t *testing.T) []*unstructured.Unstructured {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "ceph.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	d := &v1.CephDeployment{}
	if err := yaml.UnmarshalStrict(data, d); err != nil {
		t.Fatalf("testdata/ceph.yaml: %v", err)
	}
	if errs := validation.ValidateCephDeployment(d); len(errs) > 0 {
		t.Fatalf("testdata/ceph.yaml: %v", errs.ToAggregate())
	}
	// The bed is one node, with the name the CephDeployment gives it.
	bed := corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "bed"}}
	matched, err := ceph.MatchNodes(d.Spec.Nodes, []corev1.Node{bed})
	if err != nil {
		t.Fatal(err)
	}
	objs, err := ceph.Render(d, matched)
	if err != nil {
		t.Fatalf("rendering testdata/ceph.yaml: %v", err)
	}
	return objs
}

// apply reconciles each object as Rook would, in order.
func (r *rookStandIn) apply(objs []*unstructured.Unstructured) {
	r.t.Helper()
	for _, o := range objs {
		switch o.GetKind() {
		case "CephCluster":
			r.cephCluster(o)
		case "CephBlockPool":
			r.blockPool(o)
		case "CephClient":
			r.client(o)
		case "CephObjectStore":
			r.objectStore(o)
		default:
			r.t.Fatalf("the stand-in does not know %s", o.GetKind())
		}
	}
}

func ready(o *unstructured.Unstructured) {
	_ = unstructured.SetNestedField(o.Object, ceph.PhaseReady, "status", "phase")
}

// cephCluster: the cluster runs already (cephtest.Start is the stand-in
// for Rook's mons, mgr and OSDs); Rook publishes its fsid and monitors.
func (r *rookStandIn) cephCluster(o *unstructured.Unstructured) {
	fsid := strings.TrimSpace(r.cluster.Ceph("fsid"))
	_ = unstructured.SetNestedField(o.Object, fsid, "status", "ceph", "fsid")
	ready(o)
	r.published.Cluster = o
	r.published.MonEndpoints = &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: ceph.MonEndpointsConfigMap, Namespace: o.GetNamespace()},
		Data:       map[string]string{ceph.MonEndpointsKey: "a=" + r.cluster.MonAddr},
	}
}

// blockPool creates the pool as Rook does: a CRUSH rule that places
// copies apart by the spec's failure domain (and on its device class),
// the pool replicated as the spec says on that rule, initialised for RBD.
// The bed's pools are replicated; the stand-in refuses others.
func (r *rookStandIn) blockPool(o *unstructured.Unstructured) {
	size, ok, _ := unstructured.NestedInt64(o.Object, "spec", "replicated", "size")
	if !ok {
		r.t.Fatalf("CephBlockPool %s: the stand-in creates replicated pools only", o.GetName())
	}
	domain, _, _ := unstructured.NestedString(o.Object, "spec", "failureDomain")
	class, _, _ := unstructured.NestedString(o.Object, "spec", "deviceClass")
	name := o.GetName()
	rule := name + "_" + domain
	args := []string{"osd", "crush", "rule", "create-replicated", rule, "default", domain}
	if class != "" {
		args = append(args, class)
	}
	r.cluster.Ceph(args...)
	r.cluster.Ceph("osd", "pool", "create", name, "8", "8", "replicated", rule, "--size", strconv.FormatInt(size, 10))
	r.cluster.Run("rbd", "pool", "init", name)
	ready(o)
	r.published.Pools = append(r.published.Pools, o)
}

// client creates the Ceph user with the spec's caps and publishes its
// key in a Secret of its own, under the user's name.
func (r *rookStandIn) client(o *unstructured.Unstructured) {
	caps, _, _ := unstructured.NestedStringMap(o.Object, "spec", "caps")
	args := []string{"auth", "get-or-create-key", "client." + o.GetName()}
	for _, daemon := range []string{"mon", "mgr", "osd"} {
		if c := caps[daemon]; c != "" {
			args = append(args, daemon, c)
		}
	}
	key := strings.TrimSpace(r.cluster.Ceph(args...))
	secret := "rook-ceph-client-" + o.GetName()
	r.published.ClientSecrets[secret] = &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: secret, Namespace: o.GetNamespace()},
		Data:       map[string][]byte{o.GetName(): []byte(key), "userID": []byte(o.GetName()), "userKey": []byte(key)},
	}
	_ = unstructured.SetNestedField(o.Object, secret, "status", "info", "secretName")
	ready(o)
	r.published.Clients = append(r.published.Clients, o)
}

// rgwUser is the Ceph user of the first gateway of an object store, as
// Rook names it: client.rgw.<store, dashes as dots>.a.
func rgwUser(store string) string { return "client.rgw." + strings.ReplaceAll(store, "-", ".") + ".a" }

// objectStore runs the store's gateway as Rook does for a
// CephObjectStore: one gateway as rgwUser, its options from the spec set
// in the monitors' configuration database for that user, the pools
// created by the gateway itself on first use (Rook creates them first,
// with the spec's replication; the bed's defaults are the same three
// copies). Rook publishes its Service's URL; the stand-in the gateway's
// own.
func (r *rookStandIn) objectStore(o *unstructured.Unstructured) {
	who := rgwUser(o.GetName())
	conf := "[" + who + "]\n"
	for k, v := range r.rgwOptions(o) {
		conf += k + " = " + v + "\n"
	}
	file := filepath.Join(r.cluster.Dir, who+".conf")
	if err := os.WriteFile(file, []byte(conf), 0o600); err != nil {
		r.t.Fatal(err)
	}
	r.cluster.Ceph("config", "assimilate-conf", "-i", file)
	url := r.cluster.StartRGW(who, proctest.FreePort(r.t))
	_ = unstructured.SetNestedField(o.Object, url, "status", "info", "endpoint")
	ready(o)
	r.published.ObjectStore = o
}

// rgwOptions are the gateway's options Rook derives from a
// CephObjectStore: Keystone from spec.auth.keystone, Swift and S3 from
// spec.protocols, then spec.gateway.rgwConfig over all.
func (r *rookStandIn) rgwOptions(o *unstructured.Unstructured) map[string]string {
	opts := r.keystoneOptions(o)
	boolean := func(key string, path ...string) {
		if v, ok, _ := unstructured.NestedBool(o.Object, append([]string{"spec", "protocols"}, path...)...); ok {
			opts[key] = strconv.FormatBool(v)
		}
	}
	boolean("rgw_s3_auth_use_keystone", "s3", "authUseKeystone")
	boolean("rgw_swift_account_in_url", "swift", "accountInUrl")
	boolean("rgw_swift_versioning_enabled", "swift", "versioningEnabled")
	if p, _, _ := unstructured.NestedString(o.Object, "spec", "protocols", "swift", "urlPrefix"); p != "" {
		opts["rgw_swift_url_prefix"] = p
	}
	if apis, _, _ := unstructured.NestedStringSlice(o.Object, "spec", "protocols", "enableAPIs"); len(apis) > 0 {
		opts["rgw_enable_apis"] = strings.Join(apis, ",")
	}
	extra, _, _ := unstructured.NestedStringMap(o.Object, "spec", "gateway", "rgwConfig")
	maps.Copy(opts, extra)
	return opts
}

// keystoneOptions are the gateway's Keystone options from
// spec.auth.keystone and the service user's Secret it names (OS_* keys);
// none without Keystone.
func (r *rookStandIn) keystoneOptions(o *unstructured.Unstructured) map[string]string {
	ks, ok, _ := unstructured.NestedMap(o.Object, "spec", "auth", "keystone")
	if !ok {
		return map[string]string{}
	}
	str := func(key string) string { v, _, _ := unstructured.NestedString(ks, key); return v }
	roles, _, _ := unstructured.NestedStringSlice(ks, "acceptedRoles")
	opts := map[string]string{"rgw_keystone_url": r.local(str("url")), "rgw_keystone_accepted_roles": strings.Join(roles, ",")}
	if it := str("implicitTenants"); it != "" {
		opts["rgw_keystone_implicit_tenants"] = strings.ToLower(it)
	}
	s, ok := r.secrets[str("serviceUserSecretName")]
	if !ok {
		r.t.Fatalf("CephObjectStore %s: the Keystone service user's Secret %q does not exist", o.GetName(), str("serviceUserSecretName"))
	}
	for key, env := range map[string]string{"rgw_keystone_api_version": "OS_IDENTITY_API_VERSION",
		"rgw_keystone_admin_domain": "OS_PROJECT_DOMAIN_NAME", "rgw_keystone_admin_project": "OS_PROJECT_NAME",
		"rgw_keystone_admin_user": "OS_USERNAME", "rgw_keystone_admin_password": "OS_PASSWORD"} {
		opts[key] = string(s.Data[env])
	}
	return opts
}
