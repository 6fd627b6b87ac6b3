package catalog

import (
	"fmt"
	"strings"

	v1 "github.com/oskproject/osk/api/v1alpha1"
)

// The infrastructure services are not named in the spec: they run when an
// OpenStack service that needs them runs.

// Ports of the infrastructure other services connect to.
const (
	DatabasePort  int32 = 3306
	MessagingPort int32 = 5672
	MemcachedPort int32 = 11211
	EtcdPort      int32 = 2379
)

func database() *Service {
	return &Service{
		Name:           "database",
		Project:        "mariadb",
		Description:    "MariaDB Galera cluster shared by every service, one database and user each.",
		Infrastructure: true,
		Durable:        true,
		Image:          "mariadb",
		Config: []ConfigFile{{
			Name: "galera.cnf",
			Dir:  "/etc/mysql/conf.d",
			Defaults: v1.OsloFile{
				"mysqld": {
					"bind-address":                   "0.0.0.0",
					"port":                           fmt.Sprint(DatabasePort),
					"skip-name-resolve":              "1",
					"max_connections":                "8192",
					"max_connect_errors":             "1000000",
					"innodb_buffer_pool_size":        "1024M",
					"innodb_file_per_table":          "1",
					"innodb_flush_log_at_trx_commit": "2",
					"innodb_autoinc_lock_mode":       "2",
					"default_storage_engine":         "InnoDB",
					"binlog_format":                  "ROW",
					"character_set_server":           "utf8mb4",
					"collation_server":               "utf8mb4_general_ci",
				},
				"galera": {
					"wsrep_on":               "ON",
					"wsrep_provider":         "/usr/lib/galera/libgalera_smm.so",
					"wsrep_cluster_name":     "openstack",
					"wsrep_sst_method":       "mariabackup",
					"wsrep_slave_threads":    "4",
					"wsrep_provider_options": `"gcache.size=1G; gcs.fc_limit=160"`,
				},
			},
			Wiring: []Wire{{Kind: WireSSTAuth}},
		}},
		Components: []Component{{
			Name:    "server",
			Kind:    StatefulSet,
			Role:    RoleControlPlane,
			Scale:   ScaleQuorum,
			Profile: ProfileDatabase,
			// osk galera start decides whether the member bootstraps or
			// joins (internal/galera), then runs mariadbd; the members are
			// the StatefulSet's pods ($MEMBERS) at their peers DNS names
			// ($PEERS). The image's mysql user (999) owns the data.
			Command: []string{OskDir + "/osk", "galera", "start", "--record-name=" + GaleraRecord,
				"--defaults-file=/etc/mysql/my.cnf", "--datadir=/var/lib/mysql", "--user=mysql",
				"--mysql-address=127.0.0.1:3306", "--status-file=" + galeraRun + "/status.json"},
			OskBinary:  true,
			ConfigMaps: []string{GaleraRecord},
			Ports: []Port{
				{Name: "mysql", Port: DatabasePort}, {Name: "wsrep", Port: GaleraPort},
				{Name: "ist", Port: 4568}, {Name: "sst", Port: 4444},
				{Name: "backup", Port: BackupAgentPort},
			},
			// The members replicate to each other and a joining member
			// receives its state from a donor.
			Connects: []Connect{{Component: "server", Port: "wsrep"}, {Component: "server", Port: "ist"},
				{Component: "server", Port: "sst"}},
			// Ready: Synced, Primary, writable. Live: the supervisor's
			// heartbeat, and mariadbd's port once it answered, so that a long
			// state transfer is not killed.
			Probe: Probe{Kind: ProbeExec,
				Command:     []string{OskDir + "/osk", "galera", "probe", "ready", "--mysql-address=127.0.0.1:3306"},
				LiveCommand: []string{OskDir + "/osk", "galera", "probe", "live", "--mysql-address=127.0.0.1:3306", "--status-file=" + galeraRun + "/status.json"}},
			Reads: []string{"galera.cnf"},
			Volumes: []Volume{
				{Name: "data", Kind: VolumeLocal, MountPath: "/var/lib/mysql", Size: "10Gi"},
				{Name: "galera-run", Kind: VolumeEmpty, MountPath: galeraRun},
			},
			Env: []Env{
				{Name: "MARIADB_ROOT_PASSWORD", Secret: DatabaseRootSecret, Key: KeyPassword},
				{Name: "MARIADB_SST_PASSWORD", Secret: DatabaseRootSecret, Key: KeySSTPassword},
			},
			Sidecars: []Container{backupAgent, mysqldExporter},
		}},
		Jobs: []Job{monitoringUserJob},
		CronJobs: []CronJob{
			backupJob("full", func(b v1.DatabaseBackup) string { return b.FullSchedule }),
			backupJob("incremental", func(b v1.DatabaseBackup) string { return b.IncrementalSchedule }),
		},
	}
}

// Physical backups (features.database.backup): mariabackup --backup has
// to read a member's data directory, which only its own pod mounts (a
// node-local volume in use), so a sidecar, the backup agent, runs it
// beside each member and streams the backup; the CronJobs store the
// streams on a volume of their own, full weekly and incremental daily by
// default, and keep the last ones. osk galera restore restores one.
const (
	// BackupAgentPort is where the agents serve backups.
	BackupAgentPort = 4445
	// KeyBackupToken is the key, in DatabaseRootSecret, of the token the
	// backup jobs present to the agents.
	KeyBackupToken = "backup-token"
	// BackupClaim is the backup volume's claim, shared by both.
	BackupClaim = "mariadb-backup"
)

// backupEnabled says whether the deployment takes database backups.
func backupEnabled(c *Context) bool { return c.Features.Database.Backup.Enabled }

// backupAgent serves backups of its member (osk galera backup-agent).
var backupAgent = Container{
	Name: "backup-agent",
	Command: []string{OskDir + "/osk", "galera", "backup-agent", fmt.Sprintf("--listen=0.0.0.0:%d", BackupAgentPort),
		"--defaults-file=/etc/mysql/my.cnf", "--datadir=/var/lib/mysql", "--mysql-address=127.0.0.1:3306"},
	Env: []Env{
		{Name: "MARIADB_ROOT_PASSWORD", Secret: DatabaseRootSecret, Key: KeyPassword},
		{Name: "MARIADB_BACKUP_TOKEN", Secret: DatabaseRootSecret, Key: KeyBackupToken},
	},
	// mariabackup reads the member's data while it streams it.
	Profile: ProfileWorker,
	When:    backupEnabled,
}

// StackLight's Galera exporter: mysqld_exporter beside each member, as the
// least-privileged user MonitoringUser, which the job
// mariadb-monitoring-user creates once the members run.
const (
	// MonitoringUser is the database user of the exporters.
	MonitoringUser = "monitoring"
	// MysqldExporterPort is where the exporters serve their metrics.
	MysqldExporterPort int32 = 9104
	// MetricsPort names every exporter's metrics port.
	MetricsPort = "metrics"
	// RabbitMQMetricsPort is where RabbitMQ's own Prometheus plugin serves.
	RabbitMQMetricsPort int32 = 15692
)

// MonitoringGrants are the monitoring user's only privileges: the
// process list and replication state, and performance_schema's tables;
// the wsrep and global status need none.
var MonitoringGrants = []string{"PROCESS, REPLICA MONITOR ON *.*", "SELECT ON performance_schema.*"}

// StackLightEnabled says whether features.stacklight is on.
func StackLightEnabled(c *Context) bool { return c.Features.StackLight.Enabled }

var mysqldExporter = Container{
	Name:  "mysqld-exporter",
	Image: "mysqld-exporter",
	Command: []string{"/bin/mysqld_exporter", "--mysqld.address=127.0.0.1:3306", "--mysqld.username=" + MonitoringUser,
		fmt.Sprintf("--web.listen-address=:%d", MysqldExporterPort)},
	Env:      []Env{{Name: "MYSQLD_EXPORTER_PASSWORD", Secret: DatabaseRootSecret, Key: KeyMonitoringPassword}},
	Ports:    []Port{{Name: MetricsPort, Port: MysqldExporterPort}},
	Isolated: true,
	When:     StackLightEnabled,
}

// monitoringUserJob creates the exporters' user once the members run
// (osk job db-init with global grants only).
var monitoringUserJob = Job{
	Name: "monitoring-user", Image: "osk", AfterWorkloads: true, When: StackLightEnabled,
	Command: monitoringUserCommand(),
	Args:    func(c *Context) []string { return []string{"--host=" + c.Host("mariadb", "server")} },
	Env: []Env{
		{Name: "DB_ROOT_PASSWORD", Secret: DatabaseRootSecret, Key: KeyPassword},
		{Name: "DB_PASSWORD", Secret: DatabaseRootSecret, Key: KeyMonitoringPassword},
	},
	Connects: []Connect{ConnectDatabase},
}

func monitoringUserCommand() []string {
	cmd := []string{"osk", "job", "db-init", fmt.Sprintf("--port=%d", DatabasePort), "--user=" + MonitoringUser}
	for _, g := range MonitoringGrants {
		cmd = append(cmd, "--grant="+g)
	}
	return cmd
}

// backupJob is the CronJob mariadb-backup-<kind> that takes one kind of
// backup (full or incremental) on its schedule.
func backupJob(kind string, schedule func(v1.DatabaseBackup) string) CronJob {
	return CronJob{
		Name:         "backup-" + kind,
		ScheduleFrom: func(c *Context) string { return schedule(c.Features.Database.Backup) },
		Image:        "osk",
		Command:      []string{"osk", "galera", "backup", "--dir=/backup", "--kind=" + kind},
		Args: func(c *Context) []string {
			return []string{fmt.Sprintf("--keep=%d", c.Features.Database.Backup.Keep), "--agents=" + backupAgents(c)}
		},
		Volumes: []Volume{{Name: "backup", Kind: VolumePersistent, MountPath: "/backup", Claim: BackupClaim,
			SizeFrom: func(c *Context) string { return c.Features.Database.Backup.Size }}},
		Env:      []Env{{Name: "MARIADB_BACKUP_TOKEN", Secret: DatabaseRootSecret, Key: KeyBackupToken}},
		Connects: []Connect{{Component: "server", Port: "backup"}},
		When:     backupEnabled,
	}
}

// backupAgents is osk galera backup's --agents: every member's agent at
// its peers DNS name, in a fixed order (highest ordinal first), so that
// full backups, and the incremental ones built on them, come from one
// member while it serves.
func backupAgents(c *Context) string {
	s := database()
	n := int(c.Replicas(s, &s.Components[0]))
	peers := c.Host(s.Project, s.Components[0].Name+"-peers")
	agents := make([]string, 0, n)
	for i := n - 1; i >= 0; i-- {
		m := fmt.Sprintf("%s-%s-%d", s.Project, s.Components[0].Name, i)
		agents = append(agents, fmt.Sprintf("%s=http://%s.%s:%d", m, m, peers, BackupAgentPort))
	}
	return strings.Join(agents, ",")
}

// Galera's coordination record and ports.
const (
	// GaleraRecord is the ConfigMap the database's members coordinate
	// bootstraps through; they create it.
	GaleraRecord = "mariadb-galera"
	// GaleraPort is the members' replication port.
	GaleraPort int32 = 4567
	// galeraRun holds osk galera start's status file.
	galeraRun = "/run/osk-galera"
)

func messaging() *Service {
	return &Service{
		Name:           "messaging",
		Project:        "rabbitmq",
		Description:    "RabbitMQ: one instance per service that needs a bus, and one for notifications.",
		Infrastructure: true,
		Image:          "rabbitmq",
		Config: []ConfigFile{{
			Name:   "rabbitmq.conf",
			Dir:    "/etc/rabbitmq",
			Format: FormatFlat,
			Defaults: v1.OsloFile{"": {
				"listeners.tcp.default":             fmt.Sprintf("0.0.0.0:%d", MessagingPort),
				"management.tcp.ip":                 "0.0.0.0",
				"management.tcp.port":               "15672",
				"prometheus.tcp.ip":                 "0.0.0.0",
				"prometheus.tcp.port":               fmt.Sprint(RabbitMQMetricsPort),
				"loopback_users.guest":              "false",
				"vm_memory_high_watermark.relative": "0.6",
				"disk_free_limit.absolute":          "500MB",
				"cluster_partition_handling":        "autoheal",
				"queue_master_locator":              "min-masters",
			}},
		}},
		// The renderer runs this component once per bus, as rabbitmq-<bus>.
		Components: []Component{{
			Name:    "server",
			Kind:    StatefulSet,
			Role:    RoleControlPlane,
			Scale:   ScaleSingleton,
			Profile: ProfileWorker,
			Command: []string{"rabbitmq-server"},
			// The image enables the rabbitmq_prometheus plugin: StackLight
			// scrapes its metrics port.
			Ports: []Port{{Name: "amqp", Port: MessagingPort}, {Name: "management", Port: 15672},
				{Name: MetricsPort, Port: RabbitMQMetricsPort}},
			Probe:   Probe{Kind: ProbeExec, Command: []string{"rabbitmq-diagnostics", "-q", "check_port_connectivity"}},
			Reads:   []string{"rabbitmq.conf"},
			Volumes: []Volume{{Name: "data", Kind: VolumeLocal, MountPath: "/var/lib/rabbitmq", Size: "5Gi"}},
		}},
	}
}

func memcached() *Service {
	return &Service{
		Name:           "memcached",
		Project:        "memcached",
		Description:    "Memcached for the token and API caches of every service.",
		Infrastructure: true,
		Image:          "memcached",
		Components: []Component{{
			Name:     "server",
			Kind:     StatefulSet,
			Role:     RoleControlPlane,
			Scale:    ScaleWorker,
			Profile:  ProfileLight,
			Command:  []string{"memcached", "-u", "memcache", "-l", "0.0.0.0", "-p", fmt.Sprint(MemcachedPort), "-m", "1024", "-c", "8192", "-U", "0"},
			Ports:    []Port{{Name: "memcache", Port: MemcachedPort}},
			Probe:    tcpProbe(),
			Sidecars: []Container{memcachedExporter},
		}},
	}
}

func coordination() *Service {
	return &Service{
		Name:           "coordination",
		Project:        "etcd",
		Description:    "etcd for the distributed locks of block storage.",
		Infrastructure: true,
		Image:          "etcd",
		Components: []Component{{
			Name:    "server",
			Kind:    StatefulSet,
			Role:    RoleControlPlane,
			Scale:   ScaleQuorum,
			Profile: ProfileLight,
			// POD_NAME, PEERS (the headless Service's domain) and MEMBERS
			// (the pod names) are set on every StatefulSet.
			Command: shell(`cluster=""; for m in $(echo "$MEMBERS" | tr , ' '); do ` +
				`cluster="${cluster:+$cluster,}$m=http://$m.$PEERS:2380"; done; ` +
				`exec etcd --name "$POD_NAME" --data-dir /var/lib/etcd ` +
				`--listen-client-urls http://0.0.0.0:2379 --listen-peer-urls http://0.0.0.0:2380 ` +
				`--advertise-client-urls "http://$POD_NAME.$PEERS:2379" ` +
				`--initial-advertise-peer-urls "http://$POD_NAME.$PEERS:2380" ` +
				`--initial-cluster "$cluster" --initial-cluster-state new ` +
				fmt.Sprintf("--listen-metrics-urls http://0.0.0.0:%d", EtcdMetricsPort)),
			Ports:        []Port{{Name: "client", Port: EtcdPort}, {Name: "peer", Port: 2380}},
			MetricsPorts: []Port{{Name: MetricsPort, Port: EtcdMetricsPort}},
			// The members form one cluster.
			Connects: []Connect{{Component: "server", Port: "peer"}},
			Probe:    tcpProbe(),
			Volumes:  []Volume{{Name: "data", Kind: VolumeLocal, MountPath: "/var/lib/etcd", Size: "2Gi"}},
		}},
	}
}

func ingress() *Service {
	return &Service{
		Name:           "ingress",
		Project:        "ingress",
		Description:    "NGINX ingress controller that publishes the public API endpoints.",
		Infrastructure: true,
		Image:          "ingress",
		Enabled:        func(*Context) bool { return true },
		Components: []Component{{
			Name:    "controller",
			Kind:    Deployment,
			Role:    RoleControlPlane,
			Scale:   ScaleAPI,
			Profile: ProfileAPI,
			Command: []string{"/nginx-ingress-controller"},
			Args: func(c *Context) []string {
				return []string{
					"--ingress-class=" + IngressClass(c.Namespace),
					"--controller-class=osk.dev/" + IngressClass(c.Namespace),
					"--watch-namespace=" + c.Namespace,
					"--election-id=ingress-controller-leader",
					"--publish-service=" + c.Namespace + "/ingress-controller",
					"--http-port=8080", "--https-port=8443",
				}
			},
			Ports: []Port{{Name: "http", Port: 8080, ServicePort: 80, Open: true},
				{Name: "https", Port: 8443, ServicePort: 443, Open: true}},
			// ingress-nginx serves its health and StackLight's metrics on
			// IngressMetricsPort.
			MetricsPorts: []Port{{Name: MetricsPort, Port: IngressMetricsPort}},
			LoadBalancer: true,
			Probe:        Probe{Kind: ProbeHTTP, Port: IngressMetricsPort, Path: "/healthz"},
			// Until the ingress runs in a namespace of its own (issue 14's
			// namespace layout), it shares the control plane's.
			ListsSecrets: "ingress-nginx finds the TLS certificates of its Ingresses through an informer that lists and " +
				"watches every Secret of the namespace it serves; a list cannot be limited by name",
			Privileges: &Privileges{WritableRoot: true,
				Why: "ingress-nginx writes the nginx.conf it renders and the certificates it serves into /etc/nginx and " +
					"/etc/ingress-controller, beside files of the image, where an emptyDir would hide them; " +
					"upstream does not support a read-only root filesystem"},
		}},
	}
}

// IngressClass is the ingress class of a deployment's public endpoints.
func IngressClass(namespace string) string { return "osk-" + namespace }

func imagePrecaching() *Service {
	return &Service{
		Name:           "image-precaching",
		Project:        "image-precaching",
		Description:    "DaemonSets that pull every image a node will run before it is needed.",
		Infrastructure: true,
		Image:          "pause",
		Enabled:        func(*Context) bool { return true },
	}
}

func openvswitch() *Service {
	return &Service{
		Name:           "openvswitch",
		Project:        "openvswitch",
		Description:    "Open vSwitch on every node that carries tenant traffic.",
		Infrastructure: true,
		Image:          "openvswitch",
		Enabled:        openvswitchRuns,
		Components: []Component{{
			Name:    "vswitchd",
			Kind:    DaemonSet,
			Role:    RoleOpenVSwitch,
			Scale:   ScaleNode,
			Profile: ProfileAgent,
			Privileges: &Privileges{Root: true, Privileged: true, HostNetwork: true,
				Why: "ovs-vswitchd is the host's virtual switch: it drives the kernel datapath, creates the bridges' " +
					"interfaces in the host's network and locks its memory"},
			// $1 turns the userspace datapath's offloads on or off, which
			// ovs-vswitchd reads only when it starts.
			Command: shellArgs(`mkdir -p /run/openvswitch; ` +
				`while [ ! -S /run/openvswitch/db.sock ]; do sleep 1; done; ` +
				`ovs-vsctl --db=` + ovsdbConnection + ` --no-wait init -- ` +
				`set Open_vSwitch . other_config:userspace-tso-enable="$1"; ` +
				`exec ovs-vswitchd unix:/run/openvswitch/db.sock --mlockall --pidfile=/run/openvswitch/ovs-vswitchd.pid`),
			Args:  userspaceOffloads,
			Probe: processProbe("ovs-vswitchd"),
			Sidecars: []Container{{
				Name: "ovsdb-server",
				Command: shell(`[ -f /var/lib/openvswitch/conf.db ] || ovsdb-tool create /var/lib/openvswitch/conf.db; ` +
					`exec ovsdb-server /var/lib/openvswitch/conf.db --remote=punix:/run/openvswitch/db.sock ` +
					`--pidfile=/run/openvswitch/ovsdb-server.pid`),
				Privileges: &Privileges{Root: true,
					Why: "owns the host's Open vSwitch database and socket (host directories owned by root), which root " +
						"agents use"},
				Profile: ProfileAgent,
			}},
			Volumes: []Volume{
				{Name: "run", Kind: VolumeHostPath, Source: "/run/openvswitch", MountPath: "/run/openvswitch"},
				{Name: "db", Kind: VolumeHostPath, Source: "/var/lib/openvswitch", MountPath: "/var/lib/openvswitch"},
				{Name: "modules", Kind: VolumeHostPath, Source: "/lib/modules", MountPath: "/lib/modules"},
			},
		}},
	}
}

// userspaceOffloads is whether ovs-vswitchd's userspace datapath keeps
// the offload metadata of the packets it reads from and writes to the
// host's interfaces (other_config:userspace-tso-enable): on netdev it
// must. A TCP segment that a namespace or guest sends through a veth or
// tap carries only a partial checksum, which the kernel would complete
// on the way out; read raw by ovs-vswitchd and written to another
// interface, it arrives with a bad checksum and is dropped. Seen with
// Debian's Open vSwitch 3.1: an HTTP request between two namespaces on
// veths of a netdev bridge timed out, the server's namespace counting
// every SYN in TcpInCsumErrors; with the option, it was answered. With
// the offloads kept, the packet goes on marked as needing its checksum
// and the receiver accepts it. (ICMP and DHCP pass either way: Neutron's
// DHCP agent fills its UDP checksums with an iptables rule.)
func userspaceOffloads(c *Context) []string {
	return []string{fmt.Sprint(c.Features.Neutron.OVSDatapath == v1.OVSDatapathNetdev)}
}

// openvswitchRuns says whether the deployment runs Open vSwitch on its
// nodes: every networking backend but Tungsten Fabric does.
func openvswitchRuns(c *Context) bool {
	return c.Enabled("networking") && c.Features.Neutron.Backend != v1.NeutronTungstenFabric
}

func libvirt() *Service {
	return &Service{
		Name:           "libvirt",
		Project:        "libvirt",
		Description:    "libvirt and QEMU/KVM on every compute node.",
		Infrastructure: true,
		Image:          "libvirt",
		Config: []ConfigFile{
			{Name: "libvirtd.conf", Dir: "/etc/libvirt", Format: FormatFlat, Defaults: v1.OsloFile{"": {
				// Remote clients (the other nodes' libvirtd, live
				// migrating) speak TLS only, each side proving itself with
				// a certificate of the deployment's libvirt CA; only
				// client certificates are let in.
				"listen_tls": "1", "listen_tcp": "0", "auth_tls": `"none"`, "auth_unix_rw": `"none"`,
				"tls_allowed_dn_list": `["CN=` + LibvirtClientName + `"]`,
				"unix_sock_group":     `"root"`, "log_outputs": `"1:stderr"`, "log_level": "3",
				// The read-only socket (the exporter's) asks no polkit,
				// which the container has not.
				"auth_unix_ro": `"none"`,
			}}},
			{Name: "qemu.conf", Dir: "/etc/libvirt", Format: FormatFlat, Defaults: v1.OsloFile{"": {
				"stdio_handler": `"file"`, "user": `"nova"`, "group": `"kvm"`,
			}}},
		},
		Components: []Component{{
			Name:    "libvirtd",
			Kind:    DaemonSet,
			Role:    RoleCompute,
			Scale:   ScaleNode,
			Profile: ProfileAgent,
			Privileges: &Privileges{Root: true, Privileged: true, HostNetwork: true, HostPID: true, WritableRoot: true,
				Why: "libvirtd runs the instances' QEMU processes on the host: devices, cgroups, network taps, " +
					"the host's process table, and its own state (domain definitions, logs, caches) under /etc, " +
					"/var/log and /var/cache of the image"},
			// libvirtd accepts live migrations (TLS with client
			// certificates) on the node's live-migration address only,
			// which osk node-config finds: its file gets that address, in
			// the container's own /etc/libvirt. node-config also makes the
			// node's certificates for that address, in libvirt's default
			// places under /etc/pki, where libvirtd also finds its client
			// certificate when it migrates to another node.
			Command: shell(`. ` + NodeConfigDir + `/node.env; ` +
				`{ cat /etc/libvirt/libvirtd.conf; echo "listen_addr = \"$LIVE_MIGRATION_IP\""; } >/etc/libvirt/libvirtd-node.conf; ` +
				`exec libvirtd --listen --config /etc/libvirt/libvirtd-node.conf`),
			NodeAddresses: []NodeAddress{{Name: "LIVE_MIGRATION_IP", Interface: liveMigrationInterface}},
			NodeCertificates: &NodeCertificates{Dir: "/etc/pki", Address: "LIVE_MIGRATION_IP",
				Secret: CredentialSecret("libvirt"), Key: KeyLibvirtCA},
			Probe: Probe{Kind: ProbeExec, Command: []string{"virsh", "connect"}},
			Reads: []string{"libvirtd.conf", "qemu.conf"},
			// libvirtd plugs each instance's tap into the host's Open
			// vSwitch bridge itself (ovs-vsctl on the bridge os-vif
			// names), through the host's ovsdb socket.
			Volumes:  append(append([]Volume(nil), computeHostVolumes...), withWhen(ovsRunVolume, openvswitchRuns)),
			Sidecars: []Container{libvirtExporter},
		}},
	}
}

// LibvirtClientName is the common name of the client certificate of every
// compute node's libvirtd, the only one libvirtd lets in over TLS.
const LibvirtClientName = "osk-libvirt-client"

// computeHostVolumes are the host directories libvirt and nova-compute
// share on a compute node.
var computeHostVolumes = []Volume{
	{Name: "libvirt-run", Kind: VolumeHostPath, Source: "/run/libvirt", MountPath: "/run/libvirt"},
	{Name: "libvirt-lib", Kind: VolumeHostPath, Source: "/var/lib/libvirt", MountPath: "/var/lib/libvirt"},
	{Name: "nova-instances", Kind: VolumeHostPath, Source: "/var/lib/nova", MountPath: "/var/lib/nova"},
	// nova.conf's instances_path, which nova-compute does not create: on
	// a new node, its disk inventory fails without it.
	{Name: "nova-instance-files", Kind: VolumeHostPath, Source: "/var/lib/nova/instances", MountPath: "/var/lib/nova/instances"},
	{Name: "modules", Kind: VolumeHostPath, Source: "/lib/modules", MountPath: "/lib/modules"},
	{Name: "cgroup", Kind: VolumeHostPath, Source: "/sys/fs/cgroup", MountPath: "/sys/fs/cgroup"},
	{Name: "dev", Kind: VolumeHostPath, Source: "/dev", MountPath: "/dev"},
}
