package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Preset chooses a sensible set of services for a kind of cloud.
// +kubebuilder:validation:Enum=core;compute;compute-tf
type Preset string

const (
	// PresetCore runs identity, image, placement, compute, networking,
	// block-storage and dashboard.
	PresetCore Preset = "core"
	// PresetCompute adds the rest of a usual cloud to core: DNS, load
	// balancing, key management, orchestration and instance HA.
	PresetCompute Preset = "compute"
	// PresetComputeTF is compute with Tungsten Fabric as the network backend.
	PresetComputeTF Preset = "compute-tf"
)

// Size sets replica counts and resources for the whole cloud.
// +kubebuilder:validation:Enum=single;tiny;small;medium
type Size string

const (
	// SizeSingle runs one replica of everything; for a lab on one node.
	SizeSingle Size = "single"
	// SizeTiny runs a highly available database and two API replicas.
	SizeTiny Size = "tiny"
	// SizeSmall runs three API replicas and two of each worker.
	SizeSmall Size = "small"
	// SizeMedium runs many API replicas for clouds of hundreds of computes.
	SizeMedium Size = "medium"
)

// OpenStackDeploymentSpec describes the cloud osk should run.
type OpenStackDeploymentSpec struct {
	// OpenStackVersion is the OpenStack release to run, by its code name
	// (for example "caracal" or "epoxy"). Changing it upgrades the cloud.
	// +kubebuilder:validation:MinLength=1
	OpenStackVersion string `json:"openstackVersion"`

	// Preset chooses the default set of services.
	Preset Preset `json:"preset"`

	// Size chooses replica counts and resources.
	Size Size `json:"size"`

	// Region is the Keystone region of every endpoint. Defaults to RegionOne.
	// +optional
	Region string `json:"region,omitempty"`

	// PublicDomainName is the DNS domain of the public API endpoints:
	// each API is published as <service-type>.<publicDomainName>.
	PublicDomainName string `json:"publicDomainName"`

	// InternalDomainName is the cluster's DNS domain, used for internal
	// endpoints. Defaults to cluster.local.
	// +optional
	InternalDomainName string `json:"internalDomainName,omitempty"`

	// StorageClasses names the storage classes osk's volumes use.
	// +optional
	StorageClasses StorageClasses `json:"storageClasses,omitempty"`

	// Images sets where container images come from.
	// +optional
	Images Images `json:"images,omitempty"`

	// Features turns on and tunes the capabilities of the cloud.
	// +optional
	Features Features `json:"features,omitempty"`

	// Services holds per-service overrides, keyed by the catalog's service
	// name (for example "compute" or "identity"): replicas and resources of
	// each component and oslo.config overrides of each configuration file.
	// +optional
	Services map[string]ServiceOverride `json:"services,omitempty"`

	// Nodes holds overrides for the agents on a group of nodes, keyed
	// "<label>::<value>" (for example "openstack-compute-node::enabled" or
	// "rack::r12"). Each key gets its own DaemonSet of every agent whose
	// configuration it changes, placed on the nodes with that label; the
	// general DaemonSet leaves those nodes out. When a node carries the
	// labels of several keys, the key that sorts first wins.
	// +optional
	Nodes map[string]NodeOverride `json:"nodes,omitempty"`
}

// StorageClasses names the storage classes osk's volumes use.
type StorageClasses struct {
	// Local is the class of node-local volumes, used by the database and
	// other latency-sensitive stateful pieces. Defaults to local-volume.
	// +optional
	Local string `json:"local,omitempty"`

	// Persistent is the class of network-backed volumes (for example Ceph
	// RBD), used where data must survive the loss of a node. Defaults to
	// the cluster's default class when empty.
	// +optional
	Persistent string `json:"persistent,omitempty"`
}

// Images sets where container images come from.
type Images struct {
	// Registry replaces the registry and repository prefix of every default
	// image, for mirrors and air-gapped clouds (for example
	// "registry.example.com/openstack-helm").
	// +optional
	Registry string `json:"registry,omitempty"`

	// Overrides sets individual images by the catalog's image name (for
	// example "nova" or "mariadb") to a full image reference.
	// +optional
	Overrides map[string]string `json:"overrides,omitempty"`
}

// Features turns on and tunes the capabilities of the cloud.
type Features struct {
	// Services enables services in addition to the preset's, by the
	// catalog's names (for example "dns" or "telemetry").
	// +optional
	// +listType=set
	Services []string `json:"services,omitempty"`

	// DisabledServices turns off services the preset would enable.
	// +optional
	// +listType=set
	DisabledServices []string `json:"disabledServices,omitempty"`

	// Neutron configures networking.
	// +optional
	Neutron NeutronFeatures `json:"neutron,omitempty"`

	// Nova configures compute.
	// +optional
	Nova NovaFeatures `json:"nova,omitempty"`

	// SSL configures TLS of the public and the internal endpoints.
	// +optional
	SSL SSLFeatures `json:"ssl,omitempty"`

	// Database configures the MariaDB Galera cluster.
	// +optional
	Database DatabaseFeatures `json:"database,omitempty"`

	// Messaging configures RabbitMQ.
	// +optional
	Messaging MessagingFeatures `json:"messaging,omitempty"`

	// NetworkPolicy tunes the NetworkPolicies osk renders.
	// +optional
	NetworkPolicy NetworkPolicyFeatures `json:"networkPolicy,omitempty"`

	// NodeAgents says where the privileged node agents run.
	// +optional
	NodeAgents NodeAgentsFeatures `json:"nodeAgents,omitempty"`

	// Keystone configures identity.
	// +optional
	Keystone KeystoneFeatures `json:"keystone,omitempty"`

	// Glance configures the image service's store.
	// +optional
	Glance GlanceFeatures `json:"glance,omitempty"`

	// Cinder configures the block storage backend.
	// +optional
	Cinder CinderFeatures `json:"cinder,omitempty"`

	// Ceph says where the Ceph cluster's client keys are published.
	// +optional
	Ceph CephFeatures `json:"ceph,omitempty"`

	// StackLight connects the cloud to monitoring.
	// +optional
	StackLight StackLightFeatures `json:"stacklight,omitempty"`

	// Telemetry tunes metering, when the telemetry service is enabled.
	// +optional
	Telemetry TelemetryFeatures `json:"telemetry,omitempty"`

	// Tempest chooses what the acceptance run tests, when the tempest
	// service is enabled.
	// +optional
	Tempest TempestFeatures `json:"tempest,omitempty"`
}

// TempestFeatures chooses what the tempest Job runs. The Job creates what
// Tempest needs (two flavors, a small image, and a public network on the
// floating network's physnet when the cloud has none), runs the tests,
// records the results on its volume and in status.tempest, and removes
// what it created.
type TempestFeatures struct {
	// Regex selects the tests to run, as Tempest's --regex (a Python
	// regular expression over test names, for example
	// `^tempest\.api\.(identity|image)\.`). Empty runs the smoke tests.
	// +optional
	Regex string `json:"regex,omitempty"`

	// ExcludeRegex leaves out the tests it matches.
	// +optional
	ExcludeRegex string `json:"excludeRegex,omitempty"`

	// Concurrency is how many test workers run at once; 0 lets Tempest
	// run one per CPU.
	// +optional
	// +kubebuilder:validation:Minimum=0
	Concurrency int32 `json:"concurrency,omitempty"`
}

// NeutronBackend is the networking implementation.
// +kubebuilder:validation:Enum=ml2/ovs;ovn;tungstenfabric
type NeutronBackend string

const (
	// NeutronML2OVS is ML2 with the Open vSwitch agent and the L3, DHCP and
	// metadata agents on gateway nodes.
	NeutronML2OVS NeutronBackend = "ml2/ovs"
	// NeutronOVN is ML2 with OVN: northd and its databases on the control
	// plane, ovn-controller on every Open vSwitch node.
	NeutronOVN NeutronBackend = "ovn"
	// NeutronTungstenFabric hands networking to a Tungsten Fabric cluster
	// run outside osk; osk runs neutron-server with its plugin.
	NeutronTungstenFabric NeutronBackend = "tungstenfabric"
)

// NeutronFeatures configures networking.
type NeutronFeatures struct {
	// Backend is the networking implementation. Defaults to ml2/ovs, or
	// tungstenfabric for the compute-tf preset.
	// +optional
	Backend NeutronBackend `json:"backend,omitempty"`

	// TunnelInterface is the host interface that carries tenant (VXLAN or
	// Geneve) traffic. Defaults to eth0.
	// +optional
	TunnelInterface string `json:"tunnelInterface,omitempty"`

	// ExternalNetworks maps physical networks to host interfaces.
	// +optional
	// +listType=map
	// +listMapKey=physnet
	ExternalNetworks []ExternalNetwork `json:"externalNetworks,omitempty"`

	// FloatingNetwork describes the network floating IPs come from.
	// +optional
	FloatingNetwork *FloatingNetwork `json:"floatingNetwork,omitempty"`

	// DVR enables distributed virtual routing: L3 and metadata agents also
	// run on compute nodes.
	// +optional
	DVR bool `json:"dvr,omitempty"`

	// OVSDatapath is the Open vSwitch datapath of every bridge osk's
	// networking creates or plugs into. Defaults to system (the kernel's
	// openvswitch module); netdev switches packets in ovs-vswitchd itself,
	// for hosts without that module (labs, CI), much slower. With netdev,
	// the DHCP and L3 agents plug their namespaces with veth pairs.
	// +optional
	OVSDatapath OVSDatapath `json:"ovsDatapath,omitempty"`
}

// OVSDatapath is an Open vSwitch datapath type.
// +kubebuilder:validation:Enum=system;netdev
type OVSDatapath string

// Open vSwitch datapaths.
const (
	// OVSDatapathSystem is the kernel's openvswitch module.
	OVSDatapathSystem OVSDatapath = "system"
	// OVSDatapathNetdev is the userspace datapath of ovs-vswitchd.
	OVSDatapathNetdev OVSDatapath = "netdev"
)

// ExternalNetwork maps one physical network to a host interface.
type ExternalNetwork struct {
	// Physnet is the physical network name used in Neutron.
	// +kubebuilder:validation:MinLength=1
	Physnet string `json:"physnet"`

	// Interface is the host interface plugged into the physical network's
	// bridge.
	// +kubebuilder:validation:MinLength=1
	Interface string `json:"interface"`

	// Bridge is the Open vSwitch bridge. Defaults to br-<physnet>.
	// +optional
	Bridge string `json:"bridge,omitempty"`

	// NetworkTypes are the network types allowed on it (flat, vlan).
	// +optional
	NetworkTypes []string `json:"networkTypes,omitempty"`

	// VLANRanges is the VLAN range for tenant networks, for example
	// "1000:2000".
	// +optional
	VLANRanges string `json:"vlanRanges,omitempty"`

	// MTU of the physical network.
	// +optional
	MTU int32 `json:"mtu,omitempty"`
}

// FloatingNetwork describes the network floating IPs come from; osk
// creates it after networking is up.
type FloatingNetwork struct {
	// Physnet is the physical network it lives on.
	// +kubebuilder:validation:MinLength=1
	Physnet string `json:"physnet"`

	// Subnet is its IP range.
	Subnet FloatingSubnet `json:"subnet"`
}

// FloatingSubnet is the IP range of the floating network.
type FloatingSubnet struct {
	// Range in CIDR form, for example 10.11.12.0/24.
	Range string `json:"range"`
	// Gateway address.
	Gateway string `json:"gateway"`
	// PoolStart is the first address handed out.
	PoolStart string `json:"poolStart"`
	// PoolEnd is the last address handed out.
	PoolEnd string `json:"poolEnd"`
}

// ImagesBackend is where instance disks live.
// +kubebuilder:validation:Enum=local;ceph
type ImagesBackend string

const (
	// ImagesLocal keeps instance disks on the compute node.
	ImagesLocal ImagesBackend = "local"
	// ImagesCeph keeps instance disks in the Ceph "vms" pool.
	ImagesCeph ImagesBackend = "ceph"
)

// ConsoleKind is the remote console protocol.
// +kubebuilder:validation:Enum=novnc;spice;serial;none
type ConsoleKind string

// Console kinds.
const (
	ConsoleNoVNC  ConsoleKind = "novnc"
	ConsoleSpice  ConsoleKind = "spice"
	ConsoleSerial ConsoleKind = "serial"
	ConsoleNone   ConsoleKind = "none"
)

// NovaFeatures configures compute.
type NovaFeatures struct {
	// AllocationRatios set how far resources are overcommitted.
	// +optional
	AllocationRatios AllocationRatios `json:"allocationRatios,omitempty"`

	// LiveMigrationInterface is the host interface live migration uses.
	// Defaults to the tunnel interface.
	// +optional
	LiveMigrationInterface string `json:"liveMigrationInterface,omitempty"`

	// ImagesBackend is where instance disks live. Defaults to local.
	// +optional
	ImagesBackend ImagesBackend `json:"imagesBackend,omitempty"`

	// Console is the remote console kind. Defaults to novnc.
	// +optional
	Console ConsoleKind `json:"console,omitempty"`

	// VirtType is the hypervisor libvirt runs instances with. Defaults to
	// kvm, which needs /dev/kvm on the compute nodes; qemu emulates the
	// CPU in software, for nodes without hardware virtualisation (nested
	// labs, CI), many times slower.
	// +optional
	VirtType VirtType `json:"virtType,omitempty"`
}

// VirtType is a libvirt hypervisor type.
// +kubebuilder:validation:Enum=kvm;qemu
type VirtType string

// Hypervisor types.
const (
	// VirtKVM runs instances with hardware virtualisation.
	VirtKVM VirtType = "kvm"
	// VirtQEMU emulates the instances' CPU in software.
	VirtQEMU VirtType = "qemu"
)

// AllocationRatios set how far resources are overcommitted. Each is a
// decimal number written as a string, for example "8.0".
type AllocationRatios struct {
	// CPU allocation ratio. Defaults to 8.0.
	// +optional
	CPU string `json:"cpu,omitempty"`
	// RAM allocation ratio. Defaults to 1.0.
	// +optional
	RAM string `json:"ram,omitempty"`
	// Disk allocation ratio. Defaults to 1.0.
	// +optional
	Disk string `json:"disk,omitempty"`
}

// SSLFeatures configures TLS of the public and the internal endpoints.
type SSLFeatures struct {
	// PublicEndpoints is the certificate served on every public endpoint.
	// Without it, the public endpoints are plain HTTP.
	// +optional
	PublicEndpoints *PublicEndpointsTLS `json:"publicEndpoints,omitempty"`

	// Internal configures TLS inside the cloud.
	// +optional
	Internal InternalTLS `json:"internal,omitempty"`
}

// InternalTLS configures TLS on the internal endpoints.
type InternalTLS struct {
	// Enabled serves the internal endpoints Keystone's catalog lists
	// with HTTPS, where their server (uWSGI) allows it, with certificates
	// of osk's own CA: the CA is generated once into Secret
	// internal-tls-credentials, each API's certificate (for its Service's
	// DNS names) is issued there and renewed by the operator before it
	// expires, and the CA's certificate (never its key) is given to every
	// client. Off by default: the internal endpoints are plain HTTP.
	// +optional
	Enabled bool `json:"enabled,omitempty"`
}

// PublicEndpointsTLS points at the certificate, key and CA of the public
// endpoints. Each is a key of a Secret in the deployment's namespace.
type PublicEndpointsTLS struct {
	// CACert is the CA that signed the certificate.
	CACert corev1.SecretKeySelector `json:"caCert"`
	// APICert is the certificate, for *.<publicDomainName>.
	APICert corev1.SecretKeySelector `json:"apiCert"`
	// APIKey is the certificate's private key.
	APIKey corev1.SecretKeySelector `json:"apiKey"`
}

// VolumeClaimPolicy says what happens to the database's volume claims
// when the deployment is deleted.
// +kubebuilder:validation:Enum=Retain;Delete
type VolumeClaimPolicy string

const (
	// VolumeClaimsRetain keeps the claims, and so the data.
	VolumeClaimsRetain VolumeClaimPolicy = "Retain"
	// VolumeClaimsDelete deletes the claims with the deployment.
	VolumeClaimsDelete VolumeClaimPolicy = "Delete"
)

// NetworkPolicyFeatures tunes the NetworkPolicies osk renders: every pod
// of the deployment accepts only the connections the catalog knows.
type NetworkPolicyFeatures struct {
	// NodeCIDRs are the networks the cluster's nodes' addresses are in.
	// The agents that run in the host's network (Open vSwitch, the Neutron
	// agents, nova-compute, Octavia's controllers) connect from their
	// node's address, which no pod selector matches: the servers they
	// need (their bus, the APIs, the database for Octavia) accept those
	// networks on exactly those ports. When empty, those ports accept
	// every address instead, and a NetworkPolicy then narrows them only
	// to the ports the agents use.
	// +optional
	// +listType=set
	NodeCIDRs []string `json:"nodeCIDRs,omitempty"`
}

// NodeAgentsFeatures says where the node agents run: the pods that the
// Pod Security "restricted" profile refuses because they manage their
// node (root, privileged, the host's network or processes, host paths,
// added capabilities), such as libvirt, nova-compute, Open vSwitch, the
// Neutron agents and cinder-volume.
type NodeAgentsFeatures struct {
	// Namespace is the namespace of the node agents' pods and of
	// everything they mount (copies of their configuration and
	// credential Secrets, their ServiceAccounts). Set it to a namespace
	// of their own, labelled pod-security.kubernetes.io/enforce=privileged,
	// so that the deployment's namespace can enforce "restricted". It
	// must exist: osk does not create namespaces. When empty, or the
	// deployment's own namespace, the agents run beside the control
	// plane. Changing it moves the agents: they start in the new
	// namespace and osk deletes them from the old one.
	// +optional
	Namespace string `json:"namespace,omitempty"`
}

// DatabaseFeatures configures the MariaDB Galera cluster.
type DatabaseFeatures struct {
	// Backup configures physical backups with mariabackup.
	// +optional
	Backup DatabaseBackup `json:"backup,omitempty"`

	// VolumeClaimPolicy says whether deleting the deployment deletes the
	// database's data. Defaults to Retain.
	// +optional
	VolumeClaimPolicy VolumeClaimPolicy `json:"volumeClaimPolicy,omitempty"`
}

// DatabaseBackup configures physical backups of the database.
type DatabaseBackup struct {
	// Enabled turns backups on.
	// +optional
	Enabled bool `json:"enabled,omitempty"`

	// FullSchedule is the cron schedule of full backups. Defaults to
	// weekly, "0 1 * * 0".
	// +optional
	FullSchedule string `json:"fullSchedule,omitempty"`

	// IncrementalSchedule is the cron schedule of incremental backups.
	// Defaults to daily, "0 1 * * 1-6".
	// +optional
	IncrementalSchedule string `json:"incrementalSchedule,omitempty"`

	// Keep is how many backups are kept. Defaults to 10.
	// +optional
	// +kubebuilder:validation:Minimum=1
	Keep int32 `json:"keep,omitempty"`

	// Size of the backup volume. Defaults to 20Gi.
	// +optional
	Size string `json:"size,omitempty"`
}

// MessagingFeatures configures RabbitMQ.
type MessagingFeatures struct {
	// DedicatedServices lists the services that get a RabbitMQ of their
	// own. When empty, every service that needs a bus gets its own, which
	// isolates failures and is the default; when set, the services not
	// listed share one instance.
	// +optional
	// +listType=set
	DedicatedServices []string `json:"dedicatedServices,omitempty"`

	// Notifications configures the notification bus.
	// +optional
	Notifications Notifications `json:"notifications,omitempty"`
}

// Notifications configures the separate RabbitMQ that carries OpenStack's
// notifications. It runs, and services emit notifications, when enabled
// here or when telemetry or StackLight need them.
type Notifications struct {
	// Enabled turns notifications on.
	// +optional
	Enabled bool `json:"enabled,omitempty"`

	// Topics are extra topics notifications are sent to, besides
	// "notifications".
	// +optional
	Topics []string `json:"topics,omitempty"`
}

// KeystoneFeatures configures identity.
type KeystoneFeatures struct {
	// FernetRotation configures rotation of the token keys.
	// +optional
	FernetRotation KeyRotation `json:"fernetRotation,omitempty"`

	// CredentialRotation configures rotation of the credential keys.
	// +optional
	CredentialRotation KeyRotation `json:"credentialRotation,omitempty"`

	// TokenExpiration is the lifetime of a token in seconds. Defaults to
	// 3600.
	// +optional
	// +kubebuilder:validation:Minimum=60
	TokenExpiration int32 `json:"tokenExpiration,omitempty"`
}

// KeyRotation configures rotation of a Keystone key repository.
type KeyRotation struct {
	// Schedule is the cron schedule of rotations. Defaults to every 12
	// hours, "0 */12 * * *".
	// +optional
	Schedule string `json:"schedule,omitempty"`

	// MaxActiveKeys is how many keys are kept. Defaults to 7.
	// +optional
	// +kubebuilder:validation:Minimum=3
	MaxActiveKeys int32 `json:"maxActiveKeys,omitempty"`
}

// StoreBackend is where a service keeps its data.
// +kubebuilder:validation:Enum=file;ceph
type StoreBackend string

const (
	// StoreFile keeps data on a volume of the persistent storage class.
	StoreFile StoreBackend = "file"
	// StoreCeph keeps data in a Ceph pool.
	StoreCeph StoreBackend = "ceph"
)

// GlanceFeatures configures the image service's store.
type GlanceFeatures struct {
	// Backend is where images are stored. Defaults to ceph.
	// +optional
	Backend StoreBackend `json:"backend,omitempty"`

	// Size of the file store volume, for the file backend. Defaults to
	// 50Gi.
	// +optional
	Size string `json:"size,omitempty"`
}

// CinderFeatures configures block storage.
type CinderFeatures struct {
	// Backend is where volumes live. Only ceph is supported.
	// +optional
	// +kubebuilder:validation:Enum=ceph
	Backend StoreBackend `json:"backend,omitempty"`

	// Backup enables cinder-backup to the Ceph "backup" pool.
	// +optional
	Backup bool `json:"backup,omitempty"`
}

// CephFeatures says where the Ceph cluster's client keys are published.
type CephFeatures struct {
	// KeysSecret is the Secret holding ceph.conf and the client keyrings
	// (published by the Ceph controller). Defaults to openstack-ceph-keys.
	// +optional
	KeysSecret string `json:"keysSecret,omitempty"`
}

// StackLightFeatures connects the cloud to StackLight, the monitoring
// stack (Prometheus Operator with Prometheus, Alertmanager and Grafana).
type StackLightFeatures struct {
	// Enabled turns on notifications for StackLight and renders the
	// monitoring objects: alert rules (PrometheusRule), inhibitions
	// (AlertmanagerConfig), scrape objects and dashboards.
	// +optional
	Enabled bool `json:"enabled,omitempty"`
	// Namespace is where the monitoring stack runs; its pods may reach
	// the metrics ports. Defaults to stacklight.
	// +optional
	Namespace string `json:"namespace,omitempty"`
	// Labels are put on every monitoring object osk renders, so that the
	// stack's rule, monitor and dashboard selectors pick them up.
	// Defaults to {"release": "stacklight"}.
	// +optional
	Labels map[string]string `json:"labels,omitempty"`
	// Thresholds tune the alerts.
	// +optional
	Thresholds StackLightThresholds `json:"thresholds,omitempty"`
	// Logs turns log collection on or off.
	// +optional
	Logs StackLightLogs `json:"logs,omitempty"`
}

// StackLightThresholds are the alert thresholds worth tuning; each
// defaults when 0.
type StackLightThresholds struct {
	// APILatencyMilliseconds: an API slower than this for 10 minutes
	// raises OpenStackAPISlow. Defaults to 2000.
	// +optional
	// +kubebuilder:validation:Minimum=1
	APILatencyMilliseconds int32 `json:"apiLatencyMilliseconds,omitempty"`
	// API5xxPercent: an API answering more than this share of its
	// requests with a server error for 10 minutes raises
	// OpenStackAPIErrors. Defaults to 5.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	API5xxPercent int32 `json:"api5xxPercent,omitempty"`
	// NotificationsBacklog: a notification queue holding more ready
	// messages than this with no consumer raises
	// RabbitMQNotificationsNotConsumed. Defaults to 10000.
	// +optional
	// +kubebuilder:validation:Minimum=1
	NotificationsBacklog int32 `json:"notificationsBacklog,omitempty"`
	// BackupMaxAgeHours: no successful database backup for this long
	// raises GaleraBackupTooOld. Defaults to 48 (two daily incrementals).
	// +optional
	// +kubebuilder:validation:Minimum=1
	BackupMaxAgeHours int32 `json:"backupMaxAgeHours,omitempty"`
	// UpgradeStepTimeoutMinutes: an upgrade resting on one step longer
	// than this raises OskUpgradeStuck. Defaults to 60.
	// +optional
	// +kubebuilder:validation:Minimum=1
	UpgradeStepTimeoutMinutes int32 `json:"upgradeStepTimeoutMinutes,omitempty"`
	// CertificateWarningDays: a public certificate expiring within this
	// many days raises CertificateExpiringSoon. Defaults to 30.
	// +optional
	// +kubebuilder:validation:Minimum=1
	CertificateWarningDays int32 `json:"certificateWarningDays,omitempty"`
	// CertificateCriticalDays: within this many days it raises
	// CertificateExpiringCritical; must be below CertificateWarningDays.
	// Defaults to 7.
	// +optional
	// +kubebuilder:validation:Minimum=1
	CertificateCriticalDays int32 `json:"certificateCriticalDays,omitempty"`
}

// StackLightLogs turns log collection on or off and says where the logs
// go.
type StackLightLogs struct {
	// Enabled collects the logs of every osk pod: a log shipper on every
	// node tails them, parses OpenStack's log lines and sends them to
	// OpenSearch.
	// +optional
	Enabled bool `json:"enabled,omitempty"`
	// URL is OpenSearch's address (http or https, no path), whose _bulk
	// API receives the logs. Defaults to
	// http://opensearch-cluster-master.<stacklight namespace>.svc:9200.
	// +optional
	// +kubebuilder:validation:Pattern=`^https?://[^/\s]+$`
	URL string `json:"url,omitempty"`
	// CredentialsSecret names a Secret in the deployment's namespace with
	// the keys username and password, for OpenSearch's basic
	// authentication. Empty sends no credentials.
	// +optional
	CredentialsSecret string `json:"credentialsSecret,omitempty"`
}

// TelemetryFeatures tunes metering.
type TelemetryFeatures struct {
	// Interval is the polling interval of ceilometer in seconds. Defaults
	// to 300.
	// +optional
	// +kubebuilder:validation:Minimum=10
	Interval int32 `json:"interval,omitempty"`
}

// OsloSection holds the options of one section of an oslo.config file,
// option name to value. Values are strings, as in the file.
type OsloSection map[string]string

// OsloFile holds overrides of one oslo.config file, section name to
// options. The section of global options is "DEFAULT".
type OsloFile map[string]OsloSection

// ServiceOverride holds overrides for one service.
type ServiceOverride struct {
	// Components holds per-component overrides, keyed by the catalog's
	// component name (for example "api" or "scheduler").
	// +optional
	Components map[string]ComponentOverride `json:"components,omitempty"`

	// Config overrides options of the service's configuration files,
	// keyed by file name (for example "nova.conf"). Applied after
	// everything osk computes.
	// +optional
	Config map[string]OsloFile `json:"config,omitempty"`
}

// ComponentOverride holds overrides for one component of a service.
type ComponentOverride struct {
	// Replicas of the component. Not allowed for components that run on
	// every labelled node.
	// +optional
	// +kubebuilder:validation:Minimum=0
	Replicas *int32 `json:"replicas,omitempty"`

	// Resources of the component's main container.
	// +optional
	Resources *corev1.ResourceRequirements `json:"resources,omitempty"`

	// MaxUnavailable is, for a component that runs on every labelled node,
	// how many nodes' pods a rollout (an upgrade, a changed setting) may
	// replace at once: a number, or a percentage of the nodes, rounded up.
	// The default, 10%, rolls 100 of 1,000 compute nodes at a time and one
	// node of fewer than 11; Kubernetes' own default of one node at a time
	// would take hours on a large cloud. Not allowed for other components.
	// +optional
	// +kubebuilder:validation:XIntOrString
	MaxUnavailable *intstr.IntOrString `json:"maxUnavailable,omitempty"`

	// Config overrides options of the configuration files this component
	// reads, after the service-level overrides.
	// +optional
	Config map[string]OsloFile `json:"config,omitempty"`
}

// NodeOverride holds overrides for the agents on a group of nodes.
type NodeOverride struct {
	// Features overrides node-level features.
	// +optional
	Features *NodeFeatures `json:"features,omitempty"`

	// Services overrides configuration of the services' agents on these
	// nodes, keyed by the catalog's service name.
	// +optional
	Services map[string]NodeServiceOverride `json:"services,omitempty"`
}

// NodeFeatures are the features that may differ between nodes.
type NodeFeatures struct {
	// Neutron overrides networking features on these nodes.
	// +optional
	Neutron *NodeNeutronFeatures `json:"neutron,omitempty"`
	// Nova overrides compute features on these nodes.
	// +optional
	Nova *NodeNovaFeatures `json:"nova,omitempty"`
}

// NodeNeutronFeatures are networking features that may differ per node.
type NodeNeutronFeatures struct {
	// TunnelInterface on these nodes.
	// +optional
	TunnelInterface string `json:"tunnelInterface,omitempty"`
	// ExternalNetworks on these nodes; replaces the deployment's list.
	// +optional
	// +listType=map
	// +listMapKey=physnet
	ExternalNetworks []ExternalNetwork `json:"externalNetworks,omitempty"`
}

// NodeNovaFeatures are compute features that may differ per node.
type NodeNovaFeatures struct {
	// AllocationRatios on these nodes.
	// +optional
	AllocationRatios *AllocationRatios `json:"allocationRatios,omitempty"`
	// LiveMigrationInterface on these nodes.
	// +optional
	LiveMigrationInterface string `json:"liveMigrationInterface,omitempty"`
	// ImagesBackend on these nodes.
	// +optional
	ImagesBackend ImagesBackend `json:"imagesBackend,omitempty"`
}

// NodeServiceOverride overrides configuration of one service's agents on
// a group of nodes.
type NodeServiceOverride struct {
	// Config overrides options of the agents' configuration files, keyed
	// by file name.
	// +optional
	Config map[string]OsloFile `json:"config,omitempty"`
}
