package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// CephDeploymentSpec is the Ceph cluster OpenStack stores its images,
// volumes, instance disks, backups, metrics and objects in. Rook runs it:
// osk turns this spec into Rook's resources (a CephCluster, a
// CephBlockPool per pool, a CephClient per OpenStack service, a
// CephObjectStore) in the CephDeployment's namespace, which must be the
// namespace Rook's operator watches, and, once Rook reports them ready,
// writes the Ceph Secret the OpenStack services read into the OpenStack
// namespace.
type CephDeploymentSpec struct {
	// OpenStackNamespace is the namespace of the OpenStackDeployment that
	// uses this cluster; osk writes the Ceph Secret there. Defaults to
	// openstack.
	// +optional
	OpenStackNamespace string `json:"openstackNamespace,omitempty"`

	// KeysSecret is the name of the Ceph Secret written to the OpenStack
	// namespace; it must match the OpenStackDeployment's
	// features.ceph.keysSecret. Defaults to openstack-ceph-keys.
	// +optional
	KeysSecret string `json:"keysSecret,omitempty"`

	// Image is the Ceph container image Rook runs the daemons from.
	// Defaults to quay.io/ceph/ceph:v18.2.7.
	// +optional
	Image string `json:"image,omitempty"`

	// Network says which networks Ceph's traffic uses.
	// +optional
	Network CephNetwork `json:"network,omitempty"`

	// Nodes are the machines Ceph runs on, what runs on each and which of
	// their disks hold data. A node may be matched by several entries; its
	// roles and devices add up.
	// +kubebuilder:validation:MinItems=1
	Nodes []CephNode `json:"nodes"`

	// Pools are the RADOS block pools, one per OpenStack role the cloud
	// uses, plus any named others.
	// +optional
	Pools []CephPool `json:"pools,omitempty"`

	// ObjectStore is the RADOS gateway serving Swift and S3 behind
	// Keystone; none without it.
	// +optional
	ObjectStore *CephObjectStoreSpec `json:"objectStore,omitempty"`

	// Clients are Ceph users besides those of OpenStack's services
	// (glance, cinder, cinder-backup and gnocchi, which osk makes with the
	// least privilege each needs). Rook publishes each one's key in the
	// Secret rook-ceph-client-<name> of this namespace.
	// +optional
	Clients []CephExtraClient `json:"clients,omitempty"`

	// AllowPoolDeletion lets osk delete pools, and the data in them: a
	// pool removed from Pools, and every pool when the CephDeployment is
	// deleted. Without it osk deletes no pool that Rook has created (Rook
	// reports no usage per pool, so osk counts every created pool as
	// holding data): the CephDeployment's deletion waits, with the
	// condition DeletionAllowed saying which pools hold it back.
	// +optional
	AllowPoolDeletion bool `json:"allowPoolDeletion,omitempty"`
}

// CephNetwork says which networks Ceph's traffic uses. Empty means the
// pods' network.
type CephNetwork struct {
	// Public is the CIDR of the network clients and monitors talk on, for
	// example 10.10.0.0/24.
	// +optional
	Public string `json:"public,omitempty"`
	// Cluster is the CIDR of the network OSDs replicate and recover on;
	// defaults to Public.
	// +optional
	Cluster string `json:"cluster,omitempty"`
}

// CephRole is a Ceph daemon a node may run.
// +kubebuilder:validation:Enum=mon;mgr;osd;rgw
type CephRole string

// Ceph daemon roles.
const (
	// CephRoleMon runs a monitor; the cluster has one monitor per node with
	// this role: 1, 3 or 5 of them.
	CephRoleMon CephRole = "mon"
	// CephRoleMgr runs a manager (at most two run, one active).
	CephRoleMgr CephRole = "mgr"
	// CephRoleOSD runs an OSD per device of the node.
	CephRoleOSD CephRole = "osd"
	// CephRoleRGW runs a RADOS gateway of the object store.
	CephRoleRGW CephRole = "rgw"
)

// CephNode is one machine, or the machines a label selector matches, with
// the Ceph daemons they run and the disks their OSDs use.
type CephNode struct {
	// Name is a Kubernetes node's name. Exactly one of Name and Selector.
	// +optional
	Name string `json:"name,omitempty"`

	// Selector matches nodes by their labels. Exactly one of Name and
	// Selector.
	// +optional
	Selector *metav1.LabelSelector `json:"selector,omitempty"`

	// Roles are the daemons the nodes run.
	// +kubebuilder:validation:MinItems=1
	Roles []CephRole `json:"roles"`

	// Devices are the disks OSDs use, on nodes with the osd role.
	// +optional
	Devices CephDevices `json:"devices,omitempty"`
}

// CephDevices are the disks of a node an OSD each is made on. Rook only
// uses a disk with no partitions, file system or LVM on it.
type CephDevices struct {
	// Names are device names under /dev, for example sdb or nvme0n1.
	// +optional
	Names []string `json:"names,omitempty"`

	// Paths are full device paths, preferably stable ones such as
	// /dev/disk/by-id/wwn-0x5000c500a1b2c3d4.
	// +optional
	Paths []string `json:"paths,omitempty"`

	// AllFree uses every free disk of the node.
	// +optional
	AllFree bool `json:"allFree,omitempty"`

	// DeviceClass tags the OSDs made on these devices (hdd, ssd, nvme or
	// a name of your own), for pools that keep to one class; empty lets
	// Ceph detect it.
	// +optional
	DeviceClass string `json:"deviceClass,omitempty"`
}

// CephPoolRole is what OpenStack keeps in a pool.
// +kubebuilder:validation:Enum=images;volumes;vms;backup;metrics
type CephPoolRole string

// CephPool is one RADOS pool.
type CephPool struct {
	// Role is what OpenStack keeps in the pool: images (glance), volumes
	// (cinder), vms (nova's instance disks), backup (cinder-backup) or
	// metrics (gnocchi). Empty for a pool of your own, which needs a Name.
	// Each role has at most one pool.
	// +optional
	Role CephPoolRole `json:"role,omitempty"`

	// Name is the pool's name in Ceph. Defaults to the role.
	// +optional
	Name string `json:"name,omitempty"`

	// CephPoolLayout says how the pool's data is spread and kept.
	CephPoolLayout `json:",inline"`

	// TargetSizeRatio is the pool's expected share of the cluster's
	// capacity, a decimal such as "0.4"; Ceph sizes its placement groups
	// from it. Empty leaves the autoscaler to observed usage.
	// +optional
	// +kubebuilder:validation:Pattern=`^([0-9]+\.?[0-9]*|\.[0-9]+)$`
	TargetSizeRatio string `json:"targetSizeRatio,omitempty"`
}

// CephPoolLayout says how a pool's data is kept: replicated (the
// default, three copies) or erasure-coded, over which failure domain and
// which device class.
type CephPoolLayout struct {
	// Replicas is the number of copies of each object (1 to 7). Defaults
	// to 3 unless ErasureCoded is set.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=7
	Replicas int32 `json:"replicas,omitempty"`

	// ErasureCoded keeps objects as data and coding chunks instead of
	// copies. Only for pools of your own and the object store's data: RBD
	// images (images, volumes, vms, backup) and gnocchi's metrics need
	// replicated pools.
	// +optional
	ErasureCoded *CephErasureCoding `json:"erasureCoded,omitempty"`

	// FailureDomain is what no two copies or chunks share: host (the
	// default), osd, rack, row, room, datacenter or zone.
	// +optional
	FailureDomain string `json:"failureDomain,omitempty"`

	// DeviceClass keeps the pool on OSDs of one class (hdd, ssd, nvme or
	// a class given in a node's devices).
	// +optional
	DeviceClass string `json:"deviceClass,omitempty"`
}

// CephErasureCoding is an erasure code profile.
type CephErasureCoding struct {
	// DataChunks is the number of chunks each object is split into.
	// +kubebuilder:validation:Minimum=2
	DataChunks int32 `json:"dataChunks"`
	// CodingChunks is the number of chunks that may be lost.
	// +kubebuilder:validation:Minimum=1
	CodingChunks int32 `json:"codingChunks"`
}

// CephObjectStoreSpec is the RADOS gateway: Swift and S3 behind
// Keystone, on the nodes with the rgw role.
type CephObjectStoreSpec struct {
	// Name is the object store's name. Defaults to openstack-store.
	// +optional
	Name string `json:"name,omitempty"`

	// Port is the gateway's HTTP port. Defaults to 8080.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	Port int32 `json:"port,omitempty"`

	// MetadataPool keeps the buckets' indexes and metadata; it must be
	// replicated. Defaults to three copies over hosts.
	// +optional
	MetadataPool CephPoolLayout `json:"metadataPool,omitempty"`

	// DataPool keeps the objects. Defaults to three copies over hosts.
	// +optional
	DataPool CephPoolLayout `json:"dataPool,omitempty"`

	// Keystone is how the gateway checks tokens.
	Keystone CephKeystone `json:"keystone"`

	// S3 serves the S3 API besides Swift, with EC2 credentials from
	// Keystone.
	// +optional
	S3 bool `json:"s3,omitempty"`
}

// CephKeystone is how the RADOS gateway checks Keystone tokens.
type CephKeystone struct {
	// URL is Keystone's internal URL, for example
	// http://keystone-api.openstack.svc:5000.
	// +kubebuilder:validation:Pattern=`^https?://`
	URL string `json:"url"`

	// ServiceUserSecret names a Secret of this namespace holding the
	// gateway's Keystone service user as OS_* variables (OS_AUTH_TYPE,
	// OS_USERNAME, OS_PASSWORD, OS_PROJECT_NAME, OS_USER_DOMAIN_NAME,
	// OS_PROJECT_DOMAIN_NAME, OS_IDENTITY_API_VERSION), as Rook reads it.
	// osk registers that user as swift; its password is the
	// keystone-password key of the swift-credentials Secret in the
	// OpenStack namespace.
	// +kubebuilder:validation:MinLength=1
	ServiceUserSecret string `json:"serviceUserSecret"`

	// AcceptedRoles are the Keystone roles whose holders may use the
	// store. Defaults to member and admin.
	// +optional
	AcceptedRoles []string `json:"acceptedRoles,omitempty"`
}

// CephExtraClient is a Ceph user of your own.
type CephExtraClient struct {
	// Name is the user's name, without "client.".
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`

	// Caps are the user's capabilities by daemon type (mon, osd, mgr,
	// mds), for example {"mon": "profile rbd", "osd": "profile rbd
	// pool=images"}.
	// +kubebuilder:validation:MinProperties=1
	Caps map[string]string `json:"caps"`
}

// CephHealth is Ceph's own word on the cluster's health.
type CephHealth string

// Ceph's health states.
const (
	// CephHealthOK means every check passes.
	CephHealthOK CephHealth = "HEALTH_OK"
	// CephHealthWarn means a check warns; data is still served.
	CephHealthWarn CephHealth = "HEALTH_WARN"
	// CephHealthErr means a check fails; some data may be unavailable.
	CephHealthErr CephHealth = "HEALTH_ERR"
)

// CephHealthCheck is one of Ceph's health checks that is not passing.
type CephHealthCheck struct {
	// Name is the check's code, for example OSD_DOWN.
	Name string `json:"name"`
	// Severity is HEALTH_WARN or HEALTH_ERR.
	Severity CephHealth `json:"severity"`
	// Message is Ceph's message.
	Message string `json:"message"`
}

// CephCapacity is the cluster's raw capacity, as Ceph last reported it.
type CephCapacity struct {
	// TotalBytes is the raw size of every OSD.
	TotalBytes int64 `json:"totalBytes,omitempty"`
	// UsedBytes is what is used of it, copies included.
	UsedBytes int64 `json:"usedBytes,omitempty"`
	// AvailableBytes is what is left.
	AvailableBytes int64 `json:"availableBytes,omitempty"`
}

// CephPoolStatus is what Rook reports of one pool.
type CephPoolStatus struct {
	// Name is the pool's name in Ceph.
	Name string `json:"name"`
	// Role is the pool's OpenStack role; empty for a pool of your own.
	// +optional
	Role string `json:"role,omitempty"`
	// Phase is Rook's phase of the pool (Progressing, Ready, Failure).
	// +optional
	Phase string `json:"phase,omitempty"`
	// Created is true once Rook has made the pool in Ceph: from then on
	// osk counts it as holding data.
	// +optional
	Created bool `json:"created,omitempty"`
}

// CephDeploymentStatus is what osk observed of the cluster.
type CephDeploymentStatus struct {
	// ObservedGeneration is the generation of the spec the last successful
	// pass acted on.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Health is Ceph's health, as Rook last reported it.
	// +optional
	Health CephHealth `json:"health,omitempty"`
	// HealthChecks are the checks that do not pass.
	// +optional
	HealthChecks []CephHealthCheck `json:"healthChecks,omitempty"`
	// Capacity is the cluster's raw capacity.
	// +optional
	Capacity *CephCapacity `json:"capacity,omitempty"`
	// Pools are the pools and their state.
	// +optional
	Pools []CephPoolStatus `json:"pools,omitempty"`
	// KeysSecret is the Ceph Secret osk wrote, as namespace/name; empty
	// until Rook reports everything it needs ready.
	// +optional
	KeysSecret string `json:"keysSecret,omitempty"`
	// Conditions are Ready (Rook reports everything ready and the Ceph
	// Secret is written), SpecValid, KeysPublished and DeletionAllowed.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// CephDeployment is a Ceph cluster for OpenStack, run by Rook.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=cephd
// +kubebuilder:printcolumn:name="Health",type=string,JSONPath=`.status.health`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type CephDeployment struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   CephDeploymentSpec   `json:"spec,omitempty"`
	Status CephDeploymentStatus `json:"status,omitempty"`
}

// CephDeploymentList is a list of CephDeployments.
// +kubebuilder:object:root=true
type CephDeploymentList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []CephDeployment `json:"items"`
}

func init() {
	SchemeBuilder.Register(&CephDeployment{}, &CephDeploymentList{})
}
