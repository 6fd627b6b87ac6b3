package catalog

import (
	"errors"
	"fmt"
)

// Every container osk renders runs restricted unless the catalog says
// otherwise: as its image's unprivileged user (runAsNonRoot), on a
// read-only root filesystem with emptyDirs where its image writes, without
// privilege escalation, with every capability dropped and the runtime's
// default seccomp profile. Privileges are the exceptions, each with its
// reason.

// Privileges are what a component's pods or a sidecar need beyond the
// restricted default. Every exception must say why.
type Privileges struct {
	// Why says what the container does that needs these privileges; it is
	// required.
	Why string
	// Root runs the container as root (uid 0) rather than its image's
	// unprivileged user.
	Root bool
	// Privileged gives the container every capability and the host's
	// devices; implies Root.
	Privileged bool
	// HostNetwork and HostPID put the pod in the host's network or process
	// namespace; pod-level, so components only.
	HostNetwork, HostPID bool
	// Capabilities are added back after every capability is dropped (for
	// example "NET_ADMIN"), for unprivileged containers.
	Capabilities []string
	// WritableRoot leaves the container's root filesystem writable, for
	// images that write where no emptyDir can go.
	WritableRoot bool
}

// Validate reports an exception without a reason, a contradiction, or
// pod-level privileges where only container-level ones apply (sidecar).
func (p *Privileges) Validate(sidecar bool) error {
	if p == nil {
		return nil
	}
	var errs []error
	if p.Why == "" {
		errs = append(errs, errors.New("privileges without a reason (Why)"))
	}
	if p.Privileged && !p.Root {
		errs = append(errs, errors.New("privileged but not root"))
	}
	if p.Privileged && len(p.Capabilities) > 0 {
		errs = append(errs, errors.New("privileged already has every capability"))
	}
	if sidecar && (p.HostNetwork || p.HostPID) {
		errs = append(errs, errors.New("host network or PID on a container: they are the pod's"))
	}
	return errors.Join(errs...)
}

// RunsAsRoot reports whether the container runs as uid 0.
func (p *Privileges) RunsAsRoot() bool { return p != nil && (p.Root || p.Privileged) }

// Runtime is how an image runs: the unprivileged user and group its
// processes run as, and the directories they write besides the volumes
// the catalog gives them (each becomes an emptyDir).
type Runtime struct {
	// UID and GID of the image's service user; 0 for images that only
	// run as root (their components must say so in Privileges).
	UID, GID int64
	// Writable lists the directories the image's processes write.
	Writable []string
}

// openstackUser is the service user of every OpenStack-Helm image (nova,
// neutron, ...: uid and gid 42424).
const openstackUser = 42424

// infraRuntimes are the users of the images that are not OpenStack-Helm's.
var infraRuntimes = map[string]Runtime{
	// The official image's mysql user; mariadbd writes its socket and pid
	// in /run/mysqld.
	"mariadb": {UID: 999, GID: 999, Writable: []string{"/tmp", "/run/mysqld"}},
	// The official image's rabbitmq user; the data directory holds the
	// Erlang cookie, /var/log/rabbitmq the crash dumps.
	"rabbitmq": {UID: 999, GID: 999, Writable: []string{"/tmp", "/var/lib/rabbitmq", "/var/log/rabbitmq"}},
	// The official image's memcache user; memcached writes nothing.
	"memcached": {UID: 11211, GID: 11211},
	// etcd's image is distroless with no user of its own: any
	// unprivileged uid works, with fsGroup on its data volume.
	"etcd": {UID: 65532, GID: 65532, Writable: []string{"/tmp"}},
	// ingress-nginx's www-data (101, group 82); its rendered nginx.conf
	// goes to /etc/nginx (see the ingress's Privileges).
	"ingress": {UID: 101, GID: 82, Writable: []string{"/tmp"}},
	// Open vSwitch manages the host's datapath as root.
	"openvswitch": {Writable: []string{"/tmp", "/var/log/openvswitch"}},
	// OVN's databases and northd need no root: their run directory and
	// databases are the only things they write.
	"ovn": {UID: openstackUser, GID: openstackUser, Writable: []string{"/tmp", "/run/ovn", "/var/lib/ovn", "/var/log/ovn"}},
	// The PowerDNS image's pdns user; its control socket lives in
	// /var/run/pdns.
	"powerdns": {UID: 953, GID: 953, Writable: []string{"/tmp", "/var/run/pdns"}},
	// Prometheus's exporter images run as nobody and write nothing.
	"mysqld-exporter": {UID: 65534, GID: 65534},
	// The libvirt exporter needs no user of its own: libvirt's read-only
	// socket admits everyone, and it writes nothing.
	"libvirt-exporter": {UID: 65534, GID: 65534},
	// syslog-ng's image runs as root (see render's log shipper for why);
	// it writes its pid file and control socket to /tmp.
	"syslog-ng": {Writable: []string{"/tmp"}},
	// The pause image runs as 65535.
	"pause": {UID: 65535, GID: 65535},
	// osk's image is distroless "nonroot".
	"osk": {UID: 65532, GID: 65532, Writable: []string{"/tmp"}},
}

// ImageRuntime returns how a catalog image runs.
func ImageRuntime(image string) (Runtime, error) {
	if r, ok := infraRuntimes[image]; ok {
		return r, nil
	}
	for _, name := range openstackImages {
		if name == image {
			return Runtime{UID: openstackUser, GID: openstackUser, Writable: []string{"/tmp", "/var/lib/" + name}}, nil
		}
	}
	return Runtime{}, fmt.Errorf("catalog: no runtime for image %q", image)
}

// Justified reasons shared by several components.
const (
	whyHostNetworkAgent = "manages the host's network: Open vSwitch ports and flows, network namespaces, iptables and the processes " +
		"(dnsmasq, haproxy, keepalived) it starts in them through rootwrap as root"
	whyComputeHost = "runs instances: manages the host's libvirt and QEMU processes, devices, cgroups and instance files, " +
		"and attaches volumes through os-brick's privileged helper"
	whyMasakariMonitor = "watches the host: its processes (host PID namespace), libvirt's events through the root-owned socket " +
		"and the cluster stack on the host's network"
)

// hostAgent is the privileges of a node agent that manages the host.
func hostAgent(why string) *Privileges {
	return &Privileges{Why: why, Root: true, Privileged: true, HostNetwork: true}
}
