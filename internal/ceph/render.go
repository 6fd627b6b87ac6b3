package ceph

import (
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/cephkeys"
)

// Defaults of a CephDeployment's spec.
const (
	// DefaultImage is the Ceph image Rook runs when the spec names none.
	DefaultImage = "quay.io/ceph/ceph:v18.2.7"
	// DefaultKeysSecret is the Ceph Secret's name.
	DefaultKeysSecret = "openstack-ceph-keys"
	// DefaultOpenStackNamespace is where the Ceph Secret goes.
	DefaultOpenStackNamespace = "openstack"
	// DefaultObjectStore is the object store's name; osk's object-storage
	// service writes the gateway's options for this name.
	DefaultObjectStore = "openstack-store"
	// DefaultRGWPort is the gateway's HTTP port.
	DefaultRGWPort = 8080
	// DefaultReplicas is the number of copies of a replicated pool.
	DefaultReplicas = 3
	// DataDirHostPath is where Rook keeps the daemons' state on each node.
	DataDirHostPath = "/var/lib/rook"
)

// LabelDeployment, on every Rook object osk renders, names its
// CephDeployment.
const LabelDeployment = "osk.dev/ceph-deployment"

// hostnameLabel is the node label Rook places daemons by.
const hostnameLabel = "kubernetes.io/hostname"

// KeysSecretName is the name of the Ceph Secret of a spec.
func KeysSecretName(s *v1.CephDeploymentSpec) string {
	return orDefault(s.KeysSecret, DefaultKeysSecret)
}

// OpenStackNamespace is the namespace the Ceph Secret of a spec goes to.
func OpenStackNamespace(s *v1.CephDeploymentSpec) string {
	return orDefault(s.OpenStackNamespace, DefaultOpenStackNamespace)
}

// ObjectStoreName is the name of a spec's object store.
func ObjectStoreName(o *v1.CephObjectStoreSpec) string { return orDefault(o.Name, DefaultObjectStore) }

// PoolName is a pool's name in Ceph (and its CephBlockPool's).
func PoolName(p v1.CephPool) string { return orDefault(p.Name, string(p.Role)) }

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}

// MatchNodes says which of nodes each entry of spec.nodes matches, by
// entry: the named node when it exists, the nodes its selector matches.
func MatchNodes(entries []v1.CephNode, nodes []corev1.Node) ([][]string, error) {
	out := make([][]string, len(entries))
	for i, e := range entries {
		var sel labels.Selector
		if e.Selector != nil {
			s, err := metav1.LabelSelectorAsSelector(e.Selector)
			if err != nil {
				return nil, fmt.Errorf("spec.nodes[%d].selector: %w", i, err)
			}
			sel = s
		}
		for _, n := range nodes {
			if n.Name == e.Name || sel != nil && sel.Matches(labels.Set(n.Labels)) {
				out[i] = append(out[i], n.Name)
			}
		}
		slices.Sort(out[i])
	}
	return out, nil
}

// node is what one node runs, from every entry that matched it.
type node struct {
	roles   map[v1.CephRole]bool
	allFree bool
	devices []rookDevice
}

// nodesOf merges the entries into nodes, by name.
func nodesOf(entries []v1.CephNode, matched [][]string) map[string]*node {
	out := map[string]*node{}
	for i, e := range entries {
		if i >= len(matched) {
			break
		}
		for _, name := range matched[i] {
			n := out[name]
			if n == nil {
				n = &node{roles: map[v1.CephRole]bool{}}
				out[name] = n
			}
			for _, r := range e.Roles {
				n.roles[r] = true
			}
			n.allFree = n.allFree || e.Devices.AllFree
			n.devices = append(n.devices, devicesOf(e.Devices)...)
		}
	}
	return out
}

func devicesOf(d v1.CephDevices) []rookDevice {
	var conf map[string]string
	if d.DeviceClass != "" {
		conf = map[string]string{"deviceClass": d.DeviceClass}
	}
	var out []rookDevice
	for _, n := range d.Names {
		out = append(out, rookDevice{Name: n, Config: conf})
	}
	for _, p := range d.Paths {
		out = append(out, rookDevice{FullPath: p, Config: conf})
	}
	return out
}

// withRole lists the nodes with a role, sorted.
func withRole(nodes map[string]*node, r v1.CephRole) []string {
	var out []string
	for name, n := range nodes {
		if n.roles[r] {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// Render turns a CephDeployment, with the nodes each entry of its
// spec.nodes matched (MatchNodes), into Rook's objects in the
// deployment's namespace: the CephCluster, a CephBlockPool per pool, a
// CephClient per Ceph user (OpenStack's, then the spec's), and the
// CephObjectStore. It fails, naming the field, when the matched nodes
// cannot make a cluster.
func Render(d *v1.CephDeployment, matched [][]string) ([]*unstructured.Unstructured, error) {
	nodes := nodesOf(d.Spec.Nodes, matched)
	c, err := cluster(d, nodes)
	if err != nil {
		return nil, err
	}
	objs := []any{c}
	for _, p := range d.Spec.Pools {
		objs = append(objs, pool(d, p))
	}
	for _, cl := range Clients(&d.Spec) {
		objs = append(objs, &rookClient{TypeMeta: typeMeta(KindClient), ObjectMeta: meta(d, cl.Name), Spec: rookClientSpec{Caps: cl.Caps}})
	}
	if o := d.Spec.ObjectStore; o != nil {
		rgw := withRole(nodes, v1.CephRoleRGW)
		if len(rgw) == 0 {
			return nil, fmt.Errorf("spec.nodes: no node with the rgw role matched, and spec.objectStore needs one")
		}
		objs = append(objs, objectStore(d, o, rgw))
	}
	out := make([]*unstructured.Unstructured, 0, len(objs))
	for _, o := range objs {
		m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o)
		if err != nil {
			return nil, fmt.Errorf("converting a Rook object: %w", err)
		}
		out = append(out, &unstructured.Unstructured{Object: m})
	}
	return out, nil
}

func typeMeta(kind string) metav1.TypeMeta {
	return metav1.TypeMeta{APIVersion: RookAPIVersion, Kind: kind}
}

func meta(d *v1.CephDeployment, name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: d.Namespace, Labels: map[string]string{LabelDeployment: d.Name}}
}

// cluster renders the CephCluster: monitors and managers on the nodes
// with their roles, an OSD per device of the nodes with the osd role.
func cluster(d *v1.CephDeployment, nodes map[string]*node) (*rookCluster, error) {
	mons, mgrs, osds := withRole(nodes, v1.CephRoleMon), withRole(nodes, v1.CephRoleMgr), withRole(nodes, v1.CephRoleOSD)
	switch {
	case len(mons)%2 == 0 || len(mons) > 5:
		return nil, fmt.Errorf("spec.nodes: %d nodes with the mon role matched; Ceph needs 1, 3 or 5 monitors", len(mons))
	case len(mgrs) == 0:
		return nil, fmt.Errorf("spec.nodes: no node with the mgr role matched")
	case len(osds) == 0:
		return nil, fmt.Errorf("spec.nodes: no node with the osd role matched")
	}
	s := rookClusterSpec{
		CephVersion:     rookCephVersion{Image: orDefault(d.Spec.Image, DefaultImage)},
		DataDirHostPath: DataDirHostPath,
		Mon:             rookDaemonCount{Count: len(mons)},
		Mgr:             rookDaemonCount{Count: min(len(mgrs), 2)},
		Placement: map[string]rookPlacement{
			"mon": onNodes(mons), "mgr": onNodes(mgrs), "osd": onNodes(osds),
		},
	}
	if n := d.Spec.Network; n.Public != "" || n.Cluster != "" {
		r := rookAddressRanges{Cluster: nonEmpty(orDefault(n.Cluster, n.Public))}
		r.Public = nonEmpty(n.Public)
		s.Network = &rookNetwork{AddressRanges: r}
	}
	for _, name := range osds {
		n := nodes[name]
		disks := rookNodeDisks{Name: name, Devices: slices.CompactFunc(n.devices, sameDevice)}
		if n.allFree {
			disks.UseAllDevices, disks.Devices = ptr(true), nil
		}
		s.Storage.Nodes = append(s.Storage.Nodes, disks)
	}
	return &rookCluster{TypeMeta: typeMeta(KindCluster), ObjectMeta: meta(d, d.Name), Spec: s}, nil
}

func sameDevice(a, b rookDevice) bool { return a.Name == b.Name && a.FullPath == b.FullPath }

func nonEmpty(v string) []string {
	if v == "" {
		return nil
	}
	return []string{v}
}

// onNodes places daemons on the named nodes.
func onNodes(names []string) rookPlacement {
	return rookPlacement{NodeAffinity: &corev1.NodeAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
			MatchExpressions: []corev1.NodeSelectorRequirement{{Key: hostnameLabel, Operator: corev1.NodeSelectorOpIn, Values: names}},
		}}},
	}}
}

// pool renders a CephBlockPool, annotated with its OpenStack role.
func pool(d *v1.CephDeployment, p v1.CephPool) *rookPool {
	m := meta(d, PoolName(p))
	if p.Role != "" {
		m.Annotations = map[string]string{AnnotationRole: string(p.Role)}
	}
	s := poolSpec(p.CephPoolLayout)
	if p.TargetSizeRatio != "" {
		s.Parameters = map[string]string{"target_size_ratio": p.TargetSizeRatio}
	}
	return &rookPool{TypeMeta: typeMeta(KindBlockPool), ObjectMeta: m, Spec: s}
}

func poolSpec(l v1.CephPoolLayout) rookPoolSpec {
	s := rookPoolSpec{FailureDomain: orDefault(l.FailureDomain, "host"), DeviceClass: l.DeviceClass}
	if ec := l.ErasureCoded; ec != nil {
		s.ErasureCoded = &rookErasureCoded{DataChunks: ec.DataChunks, CodingChunks: ec.CodingChunks}
		return s
	}
	size := l.Replicas
	if size == 0 {
		size = DefaultReplicas
	}
	s.Replicated = &rookReplicated{Size: size}
	return s
}

// objectStore renders the CephObjectStore: Swift (and S3 when asked)
// behind Keystone, one gateway per node with the rgw role.
func objectStore(d *v1.CephDeployment, o *v1.CephObjectStoreSpec, rgw []string) *rookObjectStore {
	roles := o.Keystone.AcceptedRoles
	if len(roles) == 0 {
		roles = []string{"member", "admin"}
	}
	// Rook manages users and buckets through the admin API.
	apis := []string{"swift", "admin"}
	if o.S3 {
		apis = append(apis, "s3")
	}
	port := o.Port
	if port == 0 {
		port = DefaultRGWPort
	}
	placement := onNodes(rgw)
	s := rookObjectStoreSpec{
		MetadataPool:          poolSpec(o.MetadataPool),
		DataPool:              poolSpec(o.DataPool),
		PreservePoolsOnDelete: !d.Spec.AllowPoolDeletion,
		Gateway: rookGateway{Port: port, Instances: int32(len(rgw)), Placement: &placement,
			// Rook sets no admin roles: the one osk's object-storage
			// service writes, which nobody holds until granted (a gateway
			// admin reaches every project's account).
			RgwConfig: map[string]string{"rgw_keystone_accepted_admin_roles": cephkeys.GatewayAdminRole}},
		Auth: rookAuth{Keystone: rookKeystone{
			URL: o.Keystone.URL, ServiceUserSecretName: o.Keystone.ServiceUserSecret,
			AcceptedRoles: roles, ImplicitTenants: "true",
		}},
		Protocols: rookProtocols{
			EnableAPIs: apis,
			S3:         &rookS3{Enabled: o.S3, AuthUseKeystone: o.S3},
			Swift:      &rookSwift{AccountInURL: true, URLPrefix: "swift", VersioningEnabled: true},
		},
	}
	return &rookObjectStore{TypeMeta: typeMeta(KindObjectStore), ObjectMeta: meta(d, ObjectStoreName(o)), Spec: s}
}

func ptr[T any](v T) *T { return &v }
