package sandbox

import (
	"context"
	"fmt"
	"maps"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"

	"github.com/oskproject/osk/internal/poll"
)

// StorageClassName is the StorageClass of the nodes' local volumes.
const StorageClassName = "local-volume"

// Node and volume defaults of a topology.
const (
	defaultVolumeSize = "100Gi"
	podsPerNode       = "110"
	ephemeralStorage  = "500Gi"
	// localVolumeProvisioner marks the local volumes as provisioned outside
	// Kubernetes, as the Local Volume Provisioner does, so that the
	// persistent volume controller leaves released ones alone.
	localVolumeProvisioner = "osk-sandbox-local-volume"
	// createParallelism bounds the concurrent creations of a topology.
	createParallelism = 32
	// MaxNodesPerRole is the most nodes of a role a topology can have: each
	// role's nodes get /24 pod ranges from a quarter of 10.128.0.0/9.
	MaxNodesPerRole = 1 << 13
)

// Topology describes the nodes of a sandbox and their local volumes.
type Topology struct {
	// ControlPlane, Compute and Gateway are the numbers of nodes of each
	// osk role.
	ControlPlane, Compute, Gateway int
	// VolumesPerNode is the number of local persistent volumes of each
	// node, of VolumeSize each (100Gi when empty), behind the local-volume
	// StorageClass.
	VolumesPerNode int
	VolumeSize     string
	// BareComputes gives compute nodes no local volumes: nothing osk
	// renders claims one there, and a topology of thousands of computes
	// would otherwise make the API server hold tens of thousands of them.
	BareComputes bool
}

// DefaultTopology is a small production-like topology: 3 control-plane
// nodes, 2 compute nodes and 1 gateway, with 16 local volumes each (a control-plane node holds a volume of
// MariaDB, etcd and each RabbitMQ instance).
func DefaultTopology() Topology {
	return Topology{ControlPlane: 3, Compute: 2, Gateway: 1, VolumesPerNode: 16, VolumeSize: defaultVolumeSize}
}

// role is a kind of node: its labels, as osk's charts select them, and its
// capacity.
type role struct {
	name        string
	subnet      int // distinguishes the addresses of its nodes from other roles'
	labels      map[string]string
	cpu, memory string
}

var (
	controlPlane = role{name: "control-plane", subnet: 0, cpu: "32", memory: "128Gi",
		labels: map[string]string{"openstack-control-plane": "enabled"}}
	compute = role{name: "compute", subnet: 1, cpu: "64", memory: "256Gi",
		labels: map[string]string{"openstack-compute-node": "enabled", "openvswitch": "enabled"}}
	gateway = role{name: "gateway", subnet: 2, cpu: "32", memory: "128Gi",
		labels: map[string]string{"openstack-gateway": "enabled", "openvswitch": "enabled"}}
)

// Validate checks that t can be created.
func (t Topology) Validate() error {
	if max(t.ControlPlane, t.Compute, t.Gateway) > MaxNodesPerRole || min(t.ControlPlane, t.Compute, t.Gateway) < 0 {
		return fmt.Errorf("invalid topology (%s): each role has between 0 and %d nodes", t, MaxNodesPerRole)
	}
	if t.VolumesPerNode < 0 {
		return fmt.Errorf("invalid topology: %d volumes per node", t.VolumesPerNode)
	}
	if _, err := resource.ParseQuantity(t.volumeSize()); err != nil {
		return fmt.Errorf("invalid topology: volume size %q: %w", t.VolumeSize, err)
	}
	return nil
}

// volumeSize returns the size of t's volumes.
func (t Topology) volumeSize() string {
	if t.VolumeSize == "" {
		return defaultVolumeSize
	}
	return t.VolumeSize
}

// Size returns the number of nodes of t.
func (t Topology) Size() int { return t.ControlPlane + t.Compute + t.Gateway }

// String describes t, e.g. "3 control-plane, 2 compute, 1 gateway".
func (t Topology) String() string {
	return fmt.Sprintf("%d control-plane, %d compute, %d gateway", t.ControlPlane, t.Compute, t.Gateway)
}

// Nodes returns t's nodes, named <role>-<index>, played by kwok, reporting
// kubeletVersion.
func (t Topology) Nodes(kubeletVersion string) []*corev1.Node {
	nodes := make([]*corev1.Node, 0, t.Size())
	for _, rc := range []struct {
		role  role
		count int
	}{{controlPlane, t.ControlPlane}, {compute, t.Compute}, {gateway, t.Gateway}} {
		for i := range rc.count {
			nodes = append(nodes, rc.role.node(i, kubeletVersion))
		}
	}
	return nodes
}

// node returns the i-th node of r. Its address and pod range derive from
// r and i, so that they are unique and stable across ApplyTopology calls.
func (r role) node(i int, kubeletVersion string) *corev1.Node {
	name := r.name + "-" + strconv.Itoa(i)
	labels := map[string]string{
		corev1.LabelHostname:   name,
		corev1.LabelOSStable:   "linux",
		corev1.LabelArchStable: "amd64",
	}
	maps.Copy(labels, r.labels)
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:              resource.MustParse(r.cpu),
		corev1.ResourceMemory:           resource.MustParse(r.memory),
		corev1.ResourcePods:             resource.MustParse(podsPerNode),
		corev1.ResourceEphemeralStorage: resource.MustParse(ephemeralStorage),
	}
	ip := ipAt(netip.MustParseAddr("172.16.0.0"), r.subnet<<16+i+1)
	podCIDR := netip.PrefixFrom(ipAt(netip.MustParseAddr("10.128.0.0"), (r.subnet<<13+i)<<8), 24).String()
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Labels:      labels,
			Annotations: map[string]string{kwokNodeAnnotation: "fake"},
		},
		Spec: corev1.NodeSpec{PodCIDR: podCIDR, PodCIDRs: []string{podCIDR}},
		Status: corev1.NodeStatus{
			Capacity:    capacity,
			Allocatable: capacity,
			Addresses: []corev1.NodeAddress{
				{Type: corev1.NodeInternalIP, Address: ip.String()},
				{Type: corev1.NodeHostName, Address: name},
			},
			NodeInfo: corev1.NodeSystemInfo{
				Architecture:    "amd64",
				OperatingSystem: "linux",
				KubeletVersion:  kubeletVersion,
			},
		},
	}
}

// ipAt returns the IPv4 address offset after base.
func ipAt(base netip.Addr, offset int) netip.Addr {
	b := base.As4()
	n := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]) + uint32(offset)
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
}

// StorageClass returns the local-volume StorageClass: volumes exist
// beforehand, and are bound once a pod using the claim is scheduled, as
// with the Local Volume Provisioner. It is the sandbox's default class, so
// that claims naming no class (a deployment's "persistent" storage left to
// the cluster's default) bind too.
func StorageClass() *storagev1.StorageClass {
	bindLate := storagev1.VolumeBindingWaitForFirstConsumer
	reclaim := corev1.PersistentVolumeReclaimDelete
	return &storagev1.StorageClass{
		ObjectMeta: metav1.ObjectMeta{Name: StorageClassName,
			Annotations: map[string]string{"storageclass.kubernetes.io/is-default-class": "true"}},
		Provisioner:       "kubernetes.io/no-provisioner",
		VolumeBindingMode: &bindLate,
		ReclaimPolicy:     &reclaim,
	}
}

// Volumes returns the local persistent volumes of node, named
// <node>-volume-<index>, each pinned to node. It panics if t is not valid.
func (t Topology) Volumes(node string) []*corev1.PersistentVolume {
	size := t.volumeSize()
	volumes := make([]*corev1.PersistentVolume, 0, t.VolumesPerNode)
	for i := range t.VolumesPerNode {
		volumes = append(volumes, &corev1.PersistentVolume{
			ObjectMeta: metav1.ObjectMeta{
				Name:        fmt.Sprintf("%s-volume-%d", node, i),
				Annotations: map[string]string{"pv.kubernetes.io/provisioned-by": localVolumeProvisioner},
			},
			Spec: corev1.PersistentVolumeSpec{
				Capacity:                      corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(size)},
				AccessModes:                   []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimDelete,
				StorageClassName:              StorageClassName,
				PersistentVolumeSource: corev1.PersistentVolumeSource{
					Local: &corev1.LocalVolumeSource{Path: fmt.Sprintf("/mnt/local-volumes/vol%d", i)},
				},
				NodeAffinity: &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{
					NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{{
						Key: corev1.LabelHostname, Operator: corev1.NodeSelectorOpIn, Values: []string{node},
					}}}},
				}},
			},
		})
	}
	return volumes
}

// ApplyTopology creates t's nodes, their volumes and the local-volume
// StorageClass, concurrently, then waits until every node is ready.
// Objects that exist already are left as they are, so applying a topology
// twice, or a larger one after a smaller one, is fine.
func (s *Sandbox) ApplyTopology(ctx context.Context, t Topology) error {
	if t.Size() == 0 {
		return nil
	}
	if err := t.Validate(); err != nil {
		return err
	}
	start := time.Now()
	nodes := t.Nodes(s.bins.KubernetesVersion())
	objects := []runtime.Object{StorageClass()}
	for _, n := range nodes {
		objects = append(objects, n)
		if t.BareComputes && strings.HasPrefix(n.Name, compute.name+"-") {
			continue
		}
		for _, v := range t.Volumes(n.Name) {
			objects = append(objects, v)
		}
	}
	if err := createAll(ctx, s.clientset, objects); err != nil {
		return fmt.Errorf("creating the topology (%s): %w", t, err)
	}
	if err := waitNodesReady(ctx, s.clientset, nodes); err != nil {
		return fmt.Errorf("creating the topology (%s): %w", t, err)
	}
	s.log.Info("topology ready", "topology", t.String(), "nodes", len(nodes),
		"volumes", len(nodes)*t.VolumesPerNode, "elapsed", time.Since(start).Round(time.Millisecond))
	return nil
}

// createAll creates objects, createParallelism at a time, ignoring those
// that exist already.
func createAll(ctx context.Context, cs kubernetes.Interface, objects []runtime.Object) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(createParallelism)
	for _, obj := range objects {
		g.Go(func() error {
			var err error
			switch o := obj.(type) {
			case *corev1.Node:
				_, err = cs.CoreV1().Nodes().Create(ctx, o, metav1.CreateOptions{})
			case *corev1.PersistentVolume:
				_, err = cs.CoreV1().PersistentVolumes().Create(ctx, o, metav1.CreateOptions{})
			case *storagev1.StorageClass:
				_, err = cs.StorageV1().StorageClasses().Create(ctx, o, metav1.CreateOptions{})
			default:
				return fmt.Errorf("cannot create a %T", obj)
			}
			if apierrors.IsAlreadyExists(err) {
				return nil
			}
			return err
		})
	}
	return g.Wait()
}

// waitNodesReady waits until every node of nodes reports Ready.
func waitNodesReady(ctx context.Context, cs kubernetes.Interface, nodes []*corev1.Node) error {
	// Listing a thousand nodes costs the API server; poll them less often.
	interval := 250*time.Millisecond + time.Duration(len(nodes))*time.Millisecond
	return poll.Until(ctx, interval, fmt.Sprintf("%d nodes to be ready", len(nodes)), func(ctx context.Context) error {
		list, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{ResourceVersion: "0"})
		if err != nil {
			return err
		}
		ready := map[string]bool{}
		for _, n := range list.Items {
			ready[n.Name] = NodeReady(&n)
		}
		var missing []string
		for _, n := range nodes {
			if !ready[n.Name] {
				missing = append(missing, n.Name)
			}
		}
		if len(missing) > 0 {
			return fmt.Errorf("%d of %d nodes not ready, e.g. %s", len(missing), len(nodes), missing[0])
		}
		return nil
	})
}

// NodeReady reports whether node's Ready condition is true.
func NodeReady(node *corev1.Node) bool {
	for _, c := range node.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
