// Package ceph is osk's side of Ceph through Rook. Rook runs the cluster,
// its pools, clients and object store; osk reads what Rook publishes for
// them and assembles the Ceph Secret OpenStack's services read (see
// internal/cephkeys).
package ceph

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/oskproject/osk/internal/cephkeys"
)

// Annotations osk puts on the Rook objects it renders, so that what Rook
// publishes for them can be traced back to OpenStack's needs.
const (
	// AnnotationRole, on a CephBlockPool, is the OpenStack role of the pool
	// (cephkeys.RoleImages, ...).
	AnnotationRole = "osk.dev/ceph-role"
)

// Rook's names for what it publishes.
const (
	// MonEndpointsConfigMap is the ConfigMap where Rook keeps the
	// monitors' addresses, under MonEndpointsKey, as "a=IP:port,b=IP:port".
	MonEndpointsConfigMap = "rook-ceph-mon-endpoints"
	// MonEndpointsKey is the key of MonEndpointsConfigMap with them.
	MonEndpointsKey = "data"
	// PhaseReady is the status.phase of a Rook object that is ready.
	PhaseReady = "Ready"
)

// Published is what Rook publishes for the objects osk rendered, as read
// from the cluster: the objects with their status, the monitors'
// ConfigMap and the CephClients' Secrets.
type Published struct {
	// Cluster is the CephCluster.
	Cluster *unstructured.Unstructured
	// MonEndpoints is Rook's MonEndpointsConfigMap.
	MonEndpoints *corev1.ConfigMap
	// Pools are the CephBlockPools, each with AnnotationRole.
	Pools []*unstructured.Unstructured
	// Clients are the CephClients, named after their Ceph user.
	Clients []*unstructured.Unstructured
	// ClientSecrets are the Secrets the clients' status.info.secretName
	// name, by name.
	ClientSecrets map[string]*corev1.Secret
	// ObjectStore is the CephObjectStore; nil without one.
	ObjectStore *unstructured.Unstructured
}

// Assemble turns what Rook published into the Ceph Secret's data. When
// something is not ready or missing, it returns what, one line each,
// never quoting a key.
func Assemble(p Published) (map[string][]byte, []string) {
	a := &assembly{data: map[string][]byte{}}
	a.cluster(p.Cluster, p.MonEndpoints)
	for _, pool := range p.Pools {
		a.pool(pool)
	}
	for _, c := range p.Clients {
		a.client(c, p.ClientSecrets)
	}
	if p.ObjectStore != nil {
		a.objectStore(p.ObjectStore)
	}
	if len(a.problems) > 0 {
		return nil, a.problems
	}
	return a.data, nil
}

// assembly is the Secret's data being assembled and what stands in the way.
type assembly struct {
	data     map[string][]byte
	problems []string
}

func (a *assembly) problem(format string, args ...any) {
	a.problems = append(a.problems, fmt.Sprintf(format, args...))
}

// ready reports whether a Rook object says it is ready, noting why not.
func (a *assembly) ready(u *unstructured.Unstructured) bool {
	phase, _, _ := unstructured.NestedString(u.Object, "status", "phase")
	if phase != PhaseReady {
		a.problem("%s %s is not %s (phase %q)", u.GetKind(), u.GetName(), PhaseReady, phase)
		return false
	}
	return true
}

func (a *assembly) cluster(c *unstructured.Unstructured, mons *corev1.ConfigMap) {
	if c == nil {
		a.problem("the CephCluster does not exist")
		return
	}
	if !a.ready(c) {
		return
	}
	if fsid, _, _ := unstructured.NestedString(c.Object, "status", "ceph", "fsid"); fsid != "" {
		a.data[cephkeys.FSID] = []byte(fsid)
	} else {
		a.problem("CephCluster %s reports no fsid", c.GetName())
	}
	if mons == nil {
		a.problem("ConfigMap %s does not exist", MonEndpointsConfigMap)
		return
	}
	host, err := MonHost(mons.Data[MonEndpointsKey])
	if err != nil {
		a.problem("ConfigMap %s: %v", MonEndpointsConfigMap, err)
		return
	}
	a.data[cephkeys.MonHost] = []byte(host)
}

func (a *assembly) pool(p *unstructured.Unstructured) {
	role := p.GetAnnotations()[AnnotationRole]
	if role == "" || !a.ready(p) {
		return
	}
	name, _, _ := unstructured.NestedString(p.Object, "spec", "name")
	if name == "" {
		name = p.GetName()
	}
	a.data[cephkeys.Pool(role)] = []byte(name)
}

func (a *assembly) client(c *unstructured.Unstructured, secrets map[string]*corev1.Secret) {
	if !a.ready(c) {
		return
	}
	user, _, _ := unstructured.NestedString(c.Object, "spec", "name")
	if user == "" {
		user = c.GetName()
	}
	secretName, _, _ := unstructured.NestedString(c.Object, "status", "info", "secretName")
	s := secrets[secretName]
	switch {
	case secretName == "":
		a.problem("CephClient %s names no Secret in status.info.secretName", c.GetName())
	case s == nil:
		a.problem("Secret %s of CephClient %s does not exist", secretName, c.GetName())
	case len(s.Data[user]) == 0:
		a.problem("Secret %s of CephClient %s lacks the key %s", secretName, c.GetName(), user)
	default:
		a.data[cephkeys.ClientKey(user)] = s.Data[user]
	}
}

func (a *assembly) objectStore(o *unstructured.Unstructured) {
	if !a.ready(o) {
		return
	}
	if url, _, _ := unstructured.NestedString(o.Object, "status", "info", "endpoint"); url != "" {
		a.data[cephkeys.RGWInternalURL] = []byte(url)
	} else {
		a.problem("CephObjectStore %s reports no endpoint", o.GetName())
	}
}

// MonHost turns Rook's monitor endpoints ("a=IP:port,b=IP:port") into
// ceph.conf's mon host, sorted by monitor name; a monitor on port 3300
// speaks msgr2 only.
func MonHost(endpoints string) (string, error) {
	var names []string
	addrs := map[string]string{}
	for _, e := range strings.Split(endpoints, ",") {
		name, addr, ok := strings.Cut(strings.TrimSpace(e), "=")
		if !ok || name == "" || addr == "" {
			return "", fmt.Errorf("monitor endpoint %q is not name=IP:port", e)
		}
		if strings.HasSuffix(addr, ":3300") {
			addr = "v2:" + addr
		}
		names = append(names, name)
		addrs[name] = addr
	}
	slices.Sort(names)
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = addrs[n]
	}
	host := strings.Join(out, ",")
	if problems := cephkeys.Check(map[string][]byte{cephkeys.MonHost: []byte(host)}, []string{cephkeys.MonHost}); len(problems) > 0 {
		return "", fmt.Errorf("%s", problems[0].String())
	}
	return host, nil
}

// KeysSecret is the Ceph Secret holding data, labelled for osk to watch.
func KeysSecret(namespace, name string, data map[string][]byte) *corev1.Secret {
	return &corev1.Secret{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace,
			Labels: map[string]string{cephkeys.LabelWatched: "true"}},
		Data: data,
	}
}
