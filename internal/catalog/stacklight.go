package catalog

import (
	"fmt"
	"slices"
)

// StackLight's OpenStack exporter, osk exporter: a Deployment of the osk
// image with its own Keystone user, which holds the reader role and the
// monitoring role (MonitoringRole) only. It
// reads the catalog's endpoints and the services' states; from the
// Kubernetes API, the metadata of the deployment's credential Secrets and
// the OpenStackDeployment's state.
const (
	// ExporterPort is where osk exporter serves /metrics.
	ExporterPort int32 = 9180
	// ExporterUser is the exporter's Keystone user.
	ExporterUser = "stacklight"
	// ExporterRole is its read-only role, in the service project; it
	// holds MonitoringRole there too.
	ExporterRole = "reader"
)

func stacklight() *Service {
	return &Service{
		Name:           "stacklight",
		Project:        "stacklight",
		Description:    "StackLight's OpenStack exporter (osk exporter), with a read-only Keystone user.",
		Infrastructure: true,
		DependsOn:      []string{"identity"},
		Image:          "osk",
		Keystone:       &Keystone{User: true, UserRoles: []string{ExporterRole, MonitoringRole}},
		Enabled:        StackLightEnabled,
		Components: []Component{{
			Name:    "exporter",
			Kind:    Deployment,
			Role:    RoleControlPlane,
			Scale:   ScaleSingleton,
			Profile: ProfileLight,
			Command: []string{"osk", "exporter", fmt.Sprintf("--listen=0.0.0.0:%d", ExporterPort)},
			Args:    exporterArgs,
			Ports:   []Port{{Name: MetricsPort, Port: ExporterPort}},
			Probe:   Probe{Kind: ProbeHTTP, Path: "/healthz"},
			Env:     []Env{{Name: "OS_PASSWORD", Secret: CredentialSecret("stacklight"), Key: KeyKeystonePassword}},
			// It probes every API of the catalog, which admit every pod
			// of the deployment; Keystone is the one it logs in to.
			Connects: []Connect{ConnectKeystone},
		}},
	}
}

// exporterArgs are the exporter's Keystone and Kubernetes options: the
// deployment and the credential Secrets whose age it reports.
func exporterArgs(c *Context) []string {
	args := []string{"--auth-url=" + c.KeystoneURL() + "/v3", "--username=" + ExporterUser, "--project=service",
		"--region=" + c.Spec.Region, "--namespace=" + c.Namespace, "--deployment=" + c.Deployment}
	for _, s := range ExporterSecrets(c) {
		args = append(args, "--secret="+s)
	}
	return args
}

// ExporterSecrets are the generated credential Secrets of a deployment's
// enabled services, sorted: the Secrets whose age the exporter reports
// and whose metadata its Role may read.
func ExporterSecrets(c *Context) []string {
	out := []string{AdminSecret, DatabaseRootSecret, FernetKeysSecret, CredentialKeysSecret}
	for _, s := range Default().services {
		if c.Enabled(s.Name) && (len(s.Databases) > 0 || s.Messaging || s.Keystone != nil && s.Keystone.User || len(s.ExtraCredentials) > 0) {
			out = append(out, CredentialSecret(s.Project))
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// MemcachedExporterPort is where the memcached members' exporter serves.
const MemcachedExporterPort int32 = 9150

// memcachedExporter is StackLight's exporter beside each memcached
// member: osk exporter memcached, over loopback.
var memcachedExporter = Container{
	Name:  "exporter",
	Image: "osk",
	Command: []string{"osk", "exporter", "memcached", fmt.Sprintf("--address=127.0.0.1:%d", MemcachedPort),
		fmt.Sprintf("--listen=0.0.0.0:%d", MemcachedExporterPort)},
	Ports:    []Port{{Name: MetricsPort, Port: MemcachedExporterPort}},
	Isolated: true,
	When:     StackLightEnabled,
}

// The metrics ports of the infrastructure's own endpoints.
const (
	// EtcdMetricsPort is where etcd serves /metrics (--listen-metrics-urls).
	EtcdMetricsPort int32 = 2381
	// IngressMetricsPort is where ingress-nginx serves /metrics and /healthz.
	IngressMetricsPort int32 = 10254
)

// LibvirtExporterPort is where the libvirt exporter beside each libvirtd
// serves (the node's network: libvirtd's pod is the host's).
const LibvirtExporterPort int32 = 9177

// libvirtExporter is StackLight's exporter beside each libvirtd: it
// reads libvirt through its read-only socket (the socket directory
// mounted read-only, nothing else of the pod), as nobody, and adds Nova's
// metadata of each domain (instance name, flavor, project) to its series.
var libvirtExporter = Container{
	Name:  "exporter",
	Image: "libvirt-exporter",
	Command: []string{"/opt/libvirt-exporter", fmt.Sprintf("--web.listen-address=0.0.0.0:%d", LibvirtExporterPort),
		"--libvirt.uri=qemu:///system?socket=/run/libvirt/libvirt-sock-ro", "--libvirt.export-nova-metadata"},
	Ports:           []Port{{Name: MetricsPort, Port: LibvirtExporterPort}},
	Isolated:        true,
	ReadOnlyVolumes: []string{"libvirt-run"},
	When:            StackLightEnabled,
}
