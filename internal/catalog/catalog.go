// Package catalog knows every service osk runs: its components and how
// each runs, the configuration files they read, the one-off jobs the
// service needs, what it depends on and its place in the upgrade order.
// The renderer has one mechanism for all services; the catalog says how
// they differ.
package catalog

import (
	"fmt"
	"sort"

	v1 "github.com/oskproject/osk/api/v1alpha1"
)

// Node-role labels; each is set to "enabled" on the nodes of that role.
const (
	RoleControlPlane = "openstack-control-plane"
	RoleCompute      = "openstack-compute-node"
	RoleOpenVSwitch  = "openvswitch"
	RoleGateway      = "openstack-gateway"
	// RoleValue is the value of every role label.
	RoleValue = "enabled"
)

// WorkloadKind is the Kubernetes kind that runs a component.
type WorkloadKind string

// Workload kinds.
const (
	Deployment  WorkloadKind = "Deployment"
	StatefulSet WorkloadKind = "StatefulSet"
	DaemonSet   WorkloadKind = "DaemonSet"
)

// Scale is a component's replica class; the size table turns it into a
// replica count.
type Scale string

// Replica classes.
const (
	// ScaleAPI components serve requests and grow with the cloud.
	ScaleAPI Scale = "api"
	// ScaleWorker components process queues.
	ScaleWorker Scale = "worker"
	// ScaleSingleton components run once.
	ScaleSingleton Scale = "singleton"
	// ScaleQuorum components form a cluster that needs a majority.
	ScaleQuorum Scale = "quorum"
	// ScaleNode components run on every node of their role.
	ScaleNode Scale = "node"
)

// Profile is a component's resource class; the size table turns it into
// requests and limits.
type Profile string

// Resource classes.
const (
	ProfileLight    Profile = "light"
	ProfileAPI      Profile = "api"
	ProfileWorker   Profile = "worker"
	ProfileAgent    Profile = "agent"
	ProfileDatabase Profile = "database"
	// ProfileInit is an init container that copies or writes a few files.
	ProfileInit Profile = "init"
	// ProfileJob is a one-off or periodic job (schema migrations, key
	// rotation, registration).
	ProfileJob Profile = "job"
)

// Service is one service osk can run.
type Service struct {
	// Name is the catalog name used in the spec (for example "compute").
	Name string
	// Project is the OpenStack project or infrastructure piece (for
	// example "nova" or "mariadb"); it prefixes object names.
	Project string
	// Description says what the service is, for documentation.
	Description string
	// Infrastructure services are not listed in the spec; they run when a
	// service that needs them runs.
	Infrastructure bool
	// Durable services hold data that outlives the deployment (the
	// database): deleting the deployment keeps their volume claims unless
	// features.database.volumeClaimPolicy is Delete. The claims of other
	// services go with their StatefulSets.
	Durable bool
	// DependsOn lists the services that must be ready before this one is
	// applied.
	DependsOn []string
	// Image is the catalog image name of the service's components and
	// jobs, unless a component names its own.
	Image string
	// Databases are the MariaDB databases of the service; db-init creates
	// them and one user with access to all of them.
	Databases []string
	// Messaging is true when the service's components talk over a
	// RabbitMQ bus.
	Messaging bool
	// ExtraCredentials are more keys of the service's credential Secret
	// that osk generates (for example barbican's "kek").
	ExtraCredentials []string
	// Keystone describes what keystone-register creates for the service.
	Keystone *Keystone
	// Config lists the files of the service, lowest layer first.
	Config []ConfigFile
	// Components are the long-running parts of the service.
	Components []Component
	// Jobs are the service's own one-off jobs (db-sync, bootstrap, ...);
	// db-init, rabbit-init and keystone-register are added from the
	// fields above.
	Jobs []Job
	// CronJobs are the service's periodic jobs.
	CronJobs []CronJob
	// UpgradeOrder is the service's place in a release upgrade (1 first);
	// 0 for infrastructure, which is not upgraded service by service.
	UpgradeOrder int
	// Upgrade is how the service's data moves to a new release while it
	// keeps serving; nil runs its db-sync job, if it has one, before its
	// components roll.
	Upgrade *Upgrade
	// Features is the features layer: it sets options from the deployment's
	// features. It runs once for the deployment and once for every node
	// override, with that override's features applied.
	Features func(c *Context, files Files)
	// Enabled, for infrastructure, says whether the deployment needs it
	// beyond being a dependency; nil means only as a dependency.
	Enabled func(c *Context) bool
	// Releases limits the service to some releases; nil means all.
	Releases *ReleaseRange
	// PartOf names the spec-level service that enables this one together
	// with its siblings (telemetry enables alarming, metering and metric).
	PartOf string
	// Last is true for services that run after every other enabled
	// service is ready (tempest).
	Last bool
}

// ReleaseRange limits a service or component to a range of releases.
// Empty bounds are open.
type ReleaseRange struct {
	// Since is the first release that has it.
	Since string
	// Until is the last release that has it.
	Until string
}

// Keystone describes a service's registration in Keystone.
type Keystone struct {
	// User is true when the service has a service user (in the "service"
	// project, with the admin and service roles, or UserRoles).
	User bool
	// UserRoles, when set, are the service user's only roles in the
	// "service" project, instead of admin and service (StackLight's
	// read-only exporter: reader).
	UserRoles []string
	// Endpoints are the APIs registered in the catalog.
	Endpoints []Endpoint
	// Roles are extra roles the service needs to exist (for example
	// heat_stack_owner).
	Roles []string
	// Domain is a Keystone domain the service owns, with its admin user
	// (heat's stack domain).
	Domain *Domain
}

// Domain is a Keystone domain a service owns.
type Domain struct {
	// Name of the domain.
	Name string
	// AdminUser is the user that administers it; its password is the
	// service's "domain-password" credential.
	AdminUser string
}

// Endpoint is one API in the Keystone catalog.
type Endpoint struct {
	// Type is the Keystone service type (for example "compute").
	Type string
	// Name is the Keystone service name (for example "nova").
	Name string
	// Component serves the API; its first port is the endpoint's port.
	Component string
	// Path is appended to the URL (for example "/v2.1"). It may hold
	// Keystone's "$(project_id)s" placeholder.
	Path string
	// Host is the public host name's first label. Defaults to Name.
	Host string
	// InternalURL, for APIs served outside osk (Ceph's RADOS gateway,
	// whose URL is in the Ceph Secret), is their internal base URL,
	// without Path.
	InternalURL func(c *Context) string
}

// ConfigFile is one configuration file of a service.
type ConfigFile struct {
	// Name is the file name (for example "nova.conf").
	Name string
	// Dir is where the file is mounted (for example "/etc/nova").
	Dir string
	// Defaults is the catalog's defaults layer: section → option → value.
	Defaults v1.OsloFile
	// Wiring lists the environment-dependent sections osk computes for the
	// file (database, bus, Keystone, cache, ...).
	Wiring []Wire
	// Format is how the file is written; INI by default.
	Format Format
	// Generate writes a file of FormatRaw from the deployment.
	Generate func(c *Context) []byte
	// When decides whether the service has the file; nil means always.
	When func(c *Context) bool
}

// Format is how a configuration file is written.
type Format string

// File formats.
const (
	// FormatINI is an INI file with sections, as oslo.config reads.
	FormatINI Format = ""
	// FormatFlat is "key = value" lines with no sections (libvirtd.conf,
	// Horizon's local_settings.py); options live in section "".
	FormatFlat Format = "flat"
	// FormatRaw is written whole by ConfigFile.Generate.
	FormatRaw Format = "raw"
)

// Env is an environment variable of a container: a literal value or a key
// of one of the deployment's credential Secrets.
type Env struct {
	// Name of the variable.
	Name string
	// Value, for a literal.
	Value string
	// Secret and Key, for a credential.
	Secret, Key string
}

// Wire names a piece of the environment osk wires into a file.
type Wire struct {
	// Kind of wiring.
	Kind WireKind
	// Section it is written to, when not the kind's usual one.
	Section string
	// Database is the database, for WireDatabase.
	Database string
	// NoRegion, for WireServiceAuth, leaves region_name out: the section
	// only authenticates ([service_user], heat's [trustee]), and
	// keystoneauth's auth plugins have no region option.
	NoRegion bool
	// NoSession, for WireServiceAuth, leaves cafile out with TLS inside
	// the cloud: the service registers only the auth plugin's options
	// in the section, not keystoneauth's session options (heat's
	// [trustee], whose requests go through [clients_keystone]).
	NoSession bool
}

// WireKind is a kind of environment-dependent configuration.
type WireKind string

// Kinds of wiring.
const (
	// WireDatabase writes [database] connection (or Section's).
	WireDatabase WireKind = "database"
	// WireMessaging writes [DEFAULT] transport_url and the RabbitMQ options.
	WireMessaging WireKind = "messaging"
	// WireNotifications writes [oslo_messaging_notifications].
	WireNotifications WireKind = "notifications"
	// WireAuthToken writes [keystone_authtoken] for an API that checks
	// tokens.
	WireAuthToken WireKind = "authtoken"
	// WireServiceAuth writes Keystone credentials of the service user, and
	// region_name unless NoRegion, to Section (for example nova.conf's
	// [neutron]).
	WireServiceAuth WireKind = "service-auth"
	// WireCache writes [cache] with the memcached servers.
	WireCache WireKind = "cache"
	// WireCoordination writes [coordination] backend_url with etcd.
	WireCoordination WireKind = "coordination"
	// WireLogging writes [DEFAULT] options that make services log to
	// standard output.
	WireLogging WireKind = "logging"
	// WireSSTAuth writes [galera] wsrep_sst_auth: the user a joining
	// member's state transfer (mariabackup) logs in as on its donor, with
	// the generated password osk galera start gives it.
	WireSSTAuth WireKind = "sst-auth"
	// WireMetadataProxy writes metadata_proxy_shared_secret to Section:
	// the secret Neutron's metadata agents sign instance requests with and
	// Nova's metadata API checks, one generated value for both.
	WireMetadataProxy WireKind = "metadata-proxy"
)

// Files are the configuration files of a service being built, by name.
type Files interface {
	// Set sets one option of one file.
	Set(file, section, key, value string)
	// Delete removes one option of one file.
	Delete(file, section, key string)
}

// Component is a long-running part of a service.
type Component struct {
	// Name is the catalog name (for example "api"); the workload is named
	// <project>-<name>.
	Name string
	// Kind is the workload kind.
	Kind WorkloadKind
	// Role is the node-role label that places the component.
	Role string
	// Scale is the replica class; Replicas overrides it for some sizes.
	Scale Scale
	// Replicas overrides the scale class for the given sizes.
	Replicas map[v1.Size]int32
	// Profile is the resource class.
	Profile Profile
	// Image is the catalog image name, when not the service's.
	Image string
	// Command runs the component.
	Command []string
	// Args computes more arguments from the deployment.
	Args func(c *Context) []string
	// Ports the component listens on; the first is the main one.
	Ports []Port
	// MetricsPorts the component listens on for StackLight's scrapers
	// only: declared on its container, left out of its Services and of
	// the NetworkPolicy of its clients.
	MetricsPorts []Port
	// Probe checks readiness and liveness.
	Probe Probe
	// Privileges, for the components that need more than the restricted
	// default (see Privileges), say what and why. Unprivileged pods run as
	// their image's user (ImageRuntime), whose group is their fsGroup so
	// that the mounted configuration Secrets and volumes are theirs.
	Privileges *Privileges
	// DrainSeconds, for servers of requests, is how long a stopping pod
	// keeps serving after it left its Service's endpoints (a preStop
	// sleep) before it is told to stop; it then has 30 s more to finish
	// the requests in flight.
	DrainSeconds int32
	// Reads lists the configuration files the component reads, by name. A
	// change to one of them rolls the component.
	Reads []string
	// NoDatabase components get their files without the database
	// connections their service's files carry: agents that reach the
	// database through RPC, or not at all, and whose nodes should not
	// hold its password (nova-compute, Neutron's agents).
	NoDatabase bool
	// Volumes the component mounts besides its configuration.
	Volumes []Volume
	// Connects lists the servers it reaches that its files' wiring does
	// not name; the NetworkPolicies admit exactly these and the wiring's.
	Connects []Connect
	// LoadBalancer components get a Service of type LoadBalancer.
	LoadBalancer bool
	// Sidecars are extra containers in the component's pods.
	Sidecars []Container
	// Env are extra environment variables of the main container.
	Env []Env
	// OskBinary components run osk's own binary from OskDir, where an init
	// container of the osk image copies it (osk galera start in the
	// MariaDB image).
	OskBinary bool
	// ListsSecrets, when set, says why the component's service account may
	// list every Secret of the namespace: a controller whose informers list
	// and watch Secrets, which RBAC cannot narrow by name. Without it a
	// component reads at most the Secrets it names.
	ListsSecrets string
	// ConfigMaps name the ConfigMaps the component's pods create and update
	// themselves (Galera's coordination record); its service account may
	// get and update them and create ConfigMaps. osk neither renders nor
	// prunes them.
	ConfigMaps []string
	// NodeAddresses are addresses of the node's interfaces the component
	// needs; an init container finds them on the node and hands them to
	// the component as options of /run/osk/node.conf (add it with
	// --config-file) and as variables of /run/osk/node.env.
	NodeAddresses []NodeAddress
	// NodeCertificates, when set, has the init container issue the
	// node's own TLS certificates at one of its NodeAddresses.
	NodeCertificates *NodeCertificates
	// Layer is the component's own defaults layer, laid over the
	// service's: file → section → option → value.
	Layer map[string]v1.OsloFile
	// Workers, when set, is the option that sets the component's worker
	// count; the size table fills it.
	Workers *Option
	// TLS, when set, is the option by which the component serves HTTP on
	// its first port (uWSGI's http11-socket): with TLS inside the cloud
	// on, it serves HTTPS there instead (see Service.ServesTLS).
	TLS *Option
	// When decides whether the component runs; nil means always.
	When func(c *Context) bool
	// Releases limits the component to some releases; nil means all.
	Releases *ReleaseRange
}

// NodeAddress is the address of one of the node's interfaces.
type NodeAddress struct {
	// Name is the variable in /run/osk/node.env (for example TUNNEL_IP).
	Name string
	// Interface computes the interface name from the deployment's
	// features (node overrides included).
	Interface func(c *Context) string
	// Options are set to the address in /run/osk/node.conf.
	Options []Option
}

// NodeCertificates are TLS certificates made on the node at every start of
// the pod, because only the node knows its address: osk node-config signs
// a server certificate for the address (and the node's host name) and a
// client certificate with a CA kept under one key of a credential Secret,
// and writes them, with the CA's certificate, in libvirt's layout under
// Dir (CA/cacert.pem, libvirt/servercert.pem, libvirt/clientcert.pem and
// their keys under libvirt/private), where the component reads them. The
// CA's key reaches only the init container.
type NodeCertificates struct {
	// Dir is where the certificates are mounted (an in-memory emptyDir).
	Dir string
	// Address names the NodeAddress the server certificate is for.
	Address string
	// Secret and Key hold the CA, certificate and key in one PEM text.
	Secret, Key string
}

// OskDir is where an OskBinary component finds osk, as OskDir/osk.
const OskDir = "/osk"

// NodeConfigDir holds what the node-config init container writes.
const NodeConfigDir = "/run/osk"

// Container is an extra container of a component.
type Container struct {
	// Name of the container.
	Name string
	// Image is the catalog image name, when not the component's.
	Image string
	// Command runs it.
	Command []string
	// Privileges, when it needs more than the restricted default; the
	// pod-level ones are the component's.
	Privileges *Privileges
	// Profile is its resource class; ProfileLight when empty.
	Profile Profile
	// Env are extra environment variables.
	Env []Env
	// When decides whether the container runs; nil means always.
	When func(c *Context) bool
	// Ports it listens on, for its own clients only (a metrics
	// exporter's scrapers): the component's Service and NetworkPolicy
	// leave them out.
	Ports []Port
	// Isolated sidecars mount none of the component's files and volumes
	// (an exporter reaches its server over loopback).
	Isolated bool
	// ReadOnlyVolumes are the component's volumes, by name, that an
	// Isolated sidecar mounts read-only (libvirt's exporter: the socket
	// directory).
	ReadOnlyVolumes []string
}

// Port is a port a component listens on.
type Port struct {
	// Name of the port.
	Name string
	// Port number.
	Port int32
	// Public ports are published through the ingress.
	Public bool
	// Host is the public host name's first label, for public ports that
	// are not a Keystone endpoint. Defaults to the component's name.
	Host string
	// ServicePort is the port of the Service, when not Port.
	ServicePort int32
	// UDP ports are served over UDP as well as TCP (DNS).
	UDP bool
	// Open ports accept every source: they serve the cloud's users
	// directly (the ingress controller, DNS).
	Open bool
}

// Connect names a port of a server a component or job connects to.
type Connect struct {
	// Service is the server's catalog service; empty means the client's
	// own.
	Service string
	// Component is the server component. For "messaging" it is a bus;
	// empty means the client's bus and, when notifications are on, the
	// notifications bus.
	Component string
	// Port is the name of the server's port.
	Port string
}

// Connects every catalog names often.
var (
	// ConnectDatabase is MariaDB's SQL port.
	ConnectDatabase = Connect{Service: "database", Component: "server", Port: "mysql"}
	// ConnectKeystone is the identity API.
	ConnectKeystone = Connect{Service: "identity", Component: "api", Port: "api"}
)

// Exposed is the port clients reach through the component's Service.
func (p Port) Exposed() int32 {
	if p.ServicePort != 0 {
		return p.ServicePort
	}
	return p.Port
}

// ProbeKind is how a component is checked.
type ProbeKind string

// Probe kinds.
const (
	ProbeNone ProbeKind = ""
	ProbeHTTP ProbeKind = "http"
	ProbeTCP  ProbeKind = "tcp"
	ProbeExec ProbeKind = "exec"
)

// Probe checks readiness and liveness.
type Probe struct {
	// Kind of check.
	Kind ProbeKind
	// Port for HTTP and TCP checks; defaults to the first port.
	Port int32
	// Path for HTTP checks.
	Path string
	// Command for exec checks.
	Command []string
	// LiveCommand, for exec checks, is the liveness check when it differs
	// from the readiness check Command.
	LiveCommand []string
	// LiveTimeoutSeconds, for a liveness check slower than the default
	// 5 s (an RPC round trip), is its time limit; it then runs every twice
	// that, from two minutes after the container starts.
	LiveTimeoutSeconds int32
	// StartupSeconds, when set, is how long a starting container may take
	// before its first successful check (a startup probe); liveness checks
	// begin only after it.
	StartupSeconds int32
}

// VolumeKind is where a volume's data lives.
type VolumeKind string

// Volume kinds.
const (
	// VolumeLocal is a claim on the local storage class (StatefulSets).
	VolumeLocal VolumeKind = "local"
	// VolumePersistent is a claim on the persistent storage class.
	VolumePersistent VolumeKind = "persistent"
	// VolumeHostPath is a directory of the node.
	VolumeHostPath VolumeKind = "hostpath"
	// VolumeEmpty is scratch space that lives with the pod.
	VolumeEmpty VolumeKind = "empty"
	// VolumeSecret is a Secret of the deployment, named by Source.
	VolumeSecret VolumeKind = "secret"
)

// Volume is a volume a component mounts.
type Volume struct {
	// Name of the volume.
	Name string
	// Kind says where its data lives.
	Kind VolumeKind
	// MountPath in the containers.
	MountPath string
	// Source is the host path (hostpath) or Secret name (secret).
	Source string
	// Size of a claim; SizeFrom computes it from the deployment.
	Size     string
	SizeFrom func(c *Context) string
	// Claim, for a Job's or CronJob's claim, names a claim the service's
	// jobs share, rendered once, rather than one <job>-<name> each.
	Claim string
	// When decides whether the volume is mounted; nil means always.
	When func(c *Context) bool
}

// Option names one option of one file.
type Option struct {
	// File, Section and Key locate the option: file name, section, key.
	File, Section, Key string
}

// Job is a one-off job of a service.
type Job struct {
	// Name of the job (for example "db-sync"); the Job is named
	// <project>-<name>.
	Name string
	// Command it runs, in the service's image unless Image is set.
	Command []string
	// Args computes more arguments from the deployment.
	Args func(c *Context) []string
	// Image is the catalog image name, when not the service's.
	Image string
	// Reads lists the configuration files it reads.
	Reads []string
	// After lists the jobs of the same service that must succeed first
	// (including the generated db-init, rabbit-init and keystone-register).
	After []string
	// AfterWorkloads jobs talk to the service's own daemons, so they run
	// once its workloads are ready; other jobs run before the workloads
	// start or roll.
	AfterWorkloads bool
	// Volumes it mounts besides its configuration.
	Volumes []Volume
	// Env are extra environment variables.
	Env []Env
	// Connects lists the servers it reaches that its files' wiring does
	// not name; the NetworkPolicies admit exactly these and the wiring's.
	Connects []Connect
	// OskBinary jobs run osk's own binary from OskDir in another image,
	// as OskBinary components do (osk job tempest in Tempest's image).
	OskBinary bool
	// When decides whether the job runs; nil means always.
	When func(c *Context) bool
}

// Upgrade is how a service's data moves to a new release: what runs in the
// new release's image before the service's components roll, and what runs
// once every one of them runs the new release. The jobs are named
// <project>-upgrade-<name>, run only during an upgrade, and are removed
// when it completes.
type Upgrade struct {
	// Before run in order before the components roll: they make the
	// database ready for the new code while the old code still uses it
	// (expand, migrate, db sync).
	Before []Job
	// After run in order once every component runs the new release: they
	// remove what only the old code needed (contract, online data
	// migrations, old service records).
	After []Job
	// RestartAfter rolls the service's components once more after the
	// After jobs: services that read what those change only when they
	// start (cinder's versions, pinned while old service records exist).
	RestartAfter bool
}

// UpgradeSteps returns the jobs of a service's release upgrade: its own
// Upgrade, or else its db-sync job before the components roll.
func (s *Service) UpgradeSteps() (before, after []Job) {
	if s.Upgrade != nil {
		return s.Upgrade.Before, s.Upgrade.After
	}
	for _, j := range s.Jobs {
		if j.Name == "db-sync" {
			before = append(before, j)
		}
	}
	return before, nil
}

// CronJob is a periodic job of a service.
type CronJob struct {
	// Name of the job; the CronJob is named <project>-<name>.
	Name string
	// Schedule in cron syntax; ScheduleFrom may compute it.
	Schedule string
	// ScheduleFrom computes the schedule from the deployment.
	ScheduleFrom func(c *Context) string
	// Command it runs.
	Command []string
	// Args computes more arguments from the deployment.
	Args func(c *Context) []string
	// Image is the catalog image name, when not the service's.
	Image string
	// Reads lists the configuration files it reads.
	Reads []string
	// Volumes it mounts besides its configuration.
	Volumes []Volume
	// Env are extra environment variables.
	Env []Env
	// Connects lists the servers it reaches that its files' wiring does
	// not name; the NetworkPolicies admit exactly these and the wiring's.
	Connects []Connect
	// UpdatesSecrets names the Secrets the job rewrites (key rotation);
	// its service account gets the right to read and update them.
	UpdatesSecrets []string
	// When decides whether it runs; nil means always.
	When func(c *Context) bool
}

// Context is what the catalog's functions see of a deployment.
type Context struct {
	// Spec is the defaulted spec.
	Spec *v1.OpenStackDeploymentSpec
	// Features are the effective features: the spec's, with a node
	// override applied when building a node variant.
	Features *v1.Features
	// Release is the OpenStack release being rendered.
	Release string
	// Namespace of the deployment.
	Namespace string
	// Deployment is the OpenStackDeployment's name.
	Deployment string
	// Enabled reports whether a service runs in this deployment.
	Enabled func(service string) bool
	// Ceph returns one key of the Ceph Secret (see internal/cephkeys):
	// its value, or offline a placeholder naming it. The renderer records
	// which keys each service reads, and the operator holds a service
	// until every key it reads is present and well-formed.
	Ceph func(key string) string
	// TLS reports whether a project's component serves HTTPS on its
	// internal endpoint; nil when none does.
	TLS func(project, component string) bool
}

// Host returns the cluster DNS name of a component's Service.
func (c *Context) Host(project, component string) string {
	return fmt.Sprintf("%s-%s.%s.svc.%s", project, component, c.Namespace, c.Spec.InternalDomainName)
}

// InternalURL returns the cluster-internal URL of a component's port.
func (c *Context) InternalURL(project, component string, port int32, path string) string {
	scheme := "http"
	if c.TLS != nil && c.TLS(project, component) {
		scheme = "https"
	}
	return fmt.Sprintf("%s://%s:%d%s", scheme, c.Host(project, component), port, path)
}

// PublicURL returns the public URL of an API published under host.
func (c *Context) PublicURL(host, path string) string {
	scheme := "http"
	if c.Features.SSL.PublicEndpoints != nil {
		scheme = "https"
	}
	return fmt.Sprintf("%s://%s.%s%s", scheme, host, c.Spec.PublicDomainName, path)
}

// KeystoneURL is the internal URL of the identity API.
func (c *Context) KeystoneURL() string { return c.InternalURL("keystone", "api", 5000, "") }

// Catalog is the set of services osk knows.
type Catalog struct {
	services map[string]*Service
	order    []string
}

// New builds a catalog from services; names must be unique.
func New(services ...*Service) (*Catalog, error) {
	c := &Catalog{services: map[string]*Service{}}
	for _, s := range services {
		if _, dup := c.services[s.Name]; dup {
			return nil, fmt.Errorf("catalog: service %q defined twice", s.Name)
		}
		c.services[s.Name] = s
		c.order = append(c.order, s.Name)
	}
	sort.Strings(c.order)
	return c, nil
}

// Get returns a service by catalog name.
func (c *Catalog) Get(name string) (*Service, bool) {
	s, ok := c.services[name]
	return s, ok
}

// Names returns every service name, sorted.
func (c *Catalog) Names() []string { return append([]string(nil), c.order...) }

// UserServices returns the names a spec may enable, sorted.
func (c *Catalog) UserServices() []string {
	var names []string
	for _, n := range c.order {
		if !c.services[n].Infrastructure {
			names = append(names, n)
		}
	}
	return names
}

// Component returns a service's component by name.
func (s *Service) Component(name string) (*Component, bool) {
	for i := range s.Components {
		if s.Components[i].Name == name {
			return &s.Components[i], true
		}
	}
	return nil, false
}

// File returns a service's configuration file by name.
func (s *Service) File(name string) (*ConfigFile, bool) {
	for i := range s.Config {
		if s.Config[i].Name == name {
			return &s.Config[i], true
		}
	}
	return nil, false
}

// Infrastructure returns the names of the infrastructure services.
func (c *Catalog) Infrastructure() map[string]bool {
	out := map[string]bool{}
	for _, n := range c.order {
		if c.services[n].Infrastructure {
			out[n] = true
		}
	}
	return out
}

// UpgradeSequence returns the services that are upgraded one by one, in
// upgrade order.
func (c *Catalog) UpgradeSequence() []string {
	var names []string
	for _, n := range c.order {
		if c.services[n].UpgradeOrder > 0 {
			names = append(names, n)
		}
	}
	sort.SliceStable(names, func(i, j int) bool {
		return c.services[names[i]].UpgradeOrder < c.services[names[j]].UpgradeOrder
	})
	return names
}
