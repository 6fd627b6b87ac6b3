package catalog

import (
	"fmt"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/cephkeys"
)

const novaConf = "nova.conf"

func compute() *Service {
	api, apiUWSGI := wsgiAPI("nova", "api", 8774, "nova-api-wsgi", novaConf, httpProbe("/"))
	api.Replicas = map[v1.Size]int32{v1.SizeMedium: 15}
	metadata, metaUWSGI := wsgiAPI("nova", "metadata", 8775, "nova-metadata-wsgi", novaConf, httpProbe("/"))
	metadata.Ports[0].Public = false
	manage := func(args ...string) []string {
		return append(oslo("nova-manage", "/etc/nova", novaConf), args...)
	}
	return &Service{
		Name:         "compute",
		Project:      "nova",
		Description:  "Nova: the API, scheduler and conductor on the control plane, nova-compute on every hypervisor.",
		DependsOn:    []string{"identity", "placement", "networking", "image", "libvirt"},
		Image:        "nova",
		Databases:    []string{"nova", "nova_api", "nova_cell0"},
		Messaging:    true,
		UpgradeOrder: 5,
		// Both schemas before anything rolls; the data moves online once
		// every nova-compute runs the new release.
		Upgrade: &Upgrade{
			Before: []Job{
				upgradeStep("api-db-sync", []string{novaConf}, manage("api_db", "sync")...),
				upgradeStep("db-sync", []string{novaConf}, manage("db", "sync")...),
			},
			After: []Job{upgradeStep("online-data-migrations", []string{novaConf}, manage("db", "online_data_migrations")...)},
		},
		Keystone: &Keystone{User: true, Endpoints: []Endpoint{
			{Type: "compute", Name: "nova", Component: "api", Path: "/v2.1"},
		}},
		Config: append([]ConfigFile{
			mainFile("nova", v1.OsloFile{
				"DEFAULT": {
					"compute_driver": "libvirt.LibvirtDriver", "instances_path": "/var/lib/nova/instances",
					"state_path": "/var/lib/nova", "metadata_listen_port": "8775", "osapi_compute_listen_port": "8774",
					"metadata_listen": "0.0.0.0", "osapi_compute_listen": "0.0.0.0",
					// The RPC servers answer the liveness checks' pings.
					"rpc_ping_enabled": "true",
				},
				"api":       {"auth_strategy": "keystone"},
				"conductor": {"workers": "2"},
				// A new compute node takes servers within a minute of
				// reporting in: until the scheduler maps it to its cell,
				// every boot fails with "No valid host". The check is
				// one indexed query of each cell's database.
				"scheduler": {"workers": "2", "discover_hosts_in_cells_interval": "60"},
				"libvirt":   {"connection_uri": "qemu+unix:///system", "live_migration_scheme": "tls"},
				// os-vif plugs the instances' ports into the host's Open vSwitch.
				"os_vif_ovs":       {"ovsdb_connection": ovsdbConnection},
				"oslo_concurrency": {"lock_path": "/var/lib/nova/tmp"},
				"oslo_middleware":  {"enable_proxy_headers_parsing": "true"},
				"wsgi":             {"api_paste_config": "/etc/nova/api-paste.ini"},
				"service_user":     {"send_service_user_token": "true"},
				// Rolling upgrades: services pin their RPC to the oldest
				// nova-compute running.
				"upgrade_levels": {"compute": "auto"},
			}, standardWiring(
				Wire{Kind: WireCache},
				Wire{Kind: WireDatabase, Database: "nova"},
				Wire{Kind: WireDatabase, Section: "api_database", Database: "nova_api"},
				Wire{Kind: WireServiceAuth, Section: "neutron"},
				Wire{Kind: WireServiceAuth, Section: "placement"},
				Wire{Kind: WireServiceAuth, Section: "service_user", NoRegion: true},
				// [cinder] names the region os_region_name (novaFeatures).
				// [glance] takes no credentials: nova calls Glance with the
				// user's token.
				Wire{Kind: WireServiceAuth, Section: "cinder", NoRegion: true},
				Wire{Kind: WireMetadataProxy, Section: "neutron"},
			)),
			apiUWSGI, metaUWSGI,
		}, cephFiles(novaCeph, cephkeys.ClientCinder)...),
		Components: []Component{
			api, metadata,
			rpcServer(daemon("nova", "scheduler"), "nova-scheduler", "/etc/nova/"+novaConf, "scheduler"),
			rpcServer(daemon("nova", "conductor"), "nova-conductor", "/etc/nova/"+novaConf, "conductor"),
			consoleProxy(v1.ConsoleNoVNC, "novncproxy", 6080),
			consoleProxy(v1.ConsoleSpice, "spicehtml5proxy", 6082),
			consoleProxy(v1.ConsoleSerial, "serialproxy", 6083),
			novaCompute(),
		},
		Jobs: []Job{
			{Name: "api-db-sync", Command: manage("api_db", "sync"), Reads: []string{novaConf}, After: []string{"db-init"}},
			{Name: "cell-setup", Reads: []string{novaConf}, After: []string{"api-db-sync", "rabbit-init"},
				// Each nova-manage names its file: its default search path
				// may find another nova.conf first.
				Command: shell(`m="nova-manage --config-file /etc/nova/nova.conf"; $m cell_v2 map_cell0; ` +
					`$m cell_v2 list_cells | grep -q ' cell1 ' || $m cell_v2 create_cell --name cell1 --verbose`)},
			{Name: "db-sync", Command: manage("db", "sync"), Reads: []string{novaConf}, After: []string{"cell-setup"}},
		},
		Features: novaFeatures,
	}
}

// consoleProxy is the console proxy of one console kind.
func consoleProxy(kind v1.ConsoleKind, binary string, port int32) Component {
	c := daemon("nova", binary)
	c.Scale, c.Profile = ScaleAPI, ProfileLight
	c.Ports = []Port{{Name: "proxy", Port: port, Public: true}}
	c.Probe = tcpProbe()
	c.When = func(ctx *Context) bool { return ctx.Features.Nova.Console == kind }
	return c
}

func novaCompute() Component {
	c := agent("compute", RoleCompute, hostAgent(whyComputeHost),
		append(oslo("nova-compute", "/etc/nova", novaConf), "--config-file", NodeConfigDir+"/node.conf"), novaConf)
	// libvirt's QEMU processes are the host's.
	c.Privileges.HostPID = true
	// nova-compute reaches the database through the conductor only.
	c.NoDatabase = true
	c.Volumes = append(append([]Volume(nil), computeHostVolumes...), withWhen(ovsRunVolume, openvswitchRuns))
	c.Reads = append(c.Reads, cephReads(cephkeys.ClientCinder)...)
	c.Sidecars = []Container{libvirtSecret()}
	c.Probe = processProbe("nova-compute")
	// Instances that ran when the node went down start again with it.
	c.Layer = map[string]v1.OsloFile{novaConf: {"DEFAULT": {"resume_guests_state_on_host_boot": "true"}}}
	c.NodeAddresses = []NodeAddress{
		{Name: "MY_IP", Interface: func(ctx *Context) string { return ctx.Features.Neutron.TunnelInterface },
			Options: []Option{{File: novaConf, Section: "DEFAULT", Key: "my_ip"}}},
		{Name: "LIVE_MIGRATION_IP", Interface: liveMigrationInterface,
			Options: []Option{{File: novaConf, Section: "libvirt", Key: "live_migration_inbound_addr"}}},
	}
	return c
}

// novaCeph says whether nova-compute is a Ceph client: its disks are in
// Ceph, or it attaches cinder's volumes.
func novaCeph(c *Context) bool {
	return c.Features.Nova.ImagesBackend == v1.ImagesCeph || c.Enabled("block-storage")
}

// libvirtSecret keeps the libvirt secret CephSecretUUID defined with
// cinder's key, in nova-compute's pods: libvirt authenticates to Ceph
// with it for instance disks and volume attachments. It sets the value
// when it starts (a rotated key rolls the pod) and defines the secret
// again whenever libvirtd has lost it (a restarted libvirtd).
func libvirtSecret() Container {
	return Container{
		Name: "libvirt-secret",
		Command: []string{"python3", "-c", libvirtSecretScript, "qemu+unix:///system", CephSecretUUID,
			cephkeys.ClientCinder, cephDir + "/" + cephkeys.KeyringFile(cephkeys.ClientCinder)},
		Privileges: &Privileges{Root: true,
			Why: "defines a libvirt secret through the host's libvirt socket, which only root may open"},
		When: novaCeph,
	}
}

// libvirtSecretScript defines a private ceph secret in libvirt and sets
// its value from a keyring: python3 -c script <uri> <uuid> <client>
// <keyring>. It checks every 30 s that the secret still exists.
const libvirtSecretScript = `import base64, sys, time
import libvirt
uri, uuid, client, keyring = sys.argv[1:5]
xml = ("<secret ephemeral='no' private='yes'><uuid>%s</uuid>"
       "<usage type='ceph'><name>client.%s secret</name></usage></secret>" % (uuid, client))
def key():
    for line in open(keyring):
        k, _, v = line.partition("=")
        if k.strip() == "key":
            return base64.b64decode(v.strip())
    raise SystemExit("no key in " + keyring)
value, done = key(), False
while True:
    try:
        conn = libvirt.open(uri)
        try:
            secret = conn.secretLookupByUUIDString(uuid)
        except libvirt.libvirtError:
            secret, done = conn.secretDefineXML(xml), False
        if not done:
            secret.setValue(value)
            done = True
            print("libvirt secret %s holds the key of client.%s" % (uuid, client), flush=True)
        conn.close()
    except libvirt.libvirtError as e:
        print("libvirt: %s" % e, file=sys.stderr, flush=True)
    time.sleep(30)
`

// liveMigrationInterface is the host interface instances migrate over.
func liveMigrationInterface(ctx *Context) string {
	if ctx.Features.Nova.LiveMigrationInterface != "" {
		return ctx.Features.Nova.LiveMigrationInterface
	}
	return ctx.Features.Neutron.TunnelInterface
}

func novaFeatures(c *Context, f Files) {
	n := c.Features.Nova
	wsgiModuleSince(c, f, uwsgiFile("nova", "api"), "epoxy", "nova.wsgi.osapi_compute:application")
	wsgiModuleSince(c, f, uwsgiFile("nova", "metadata"), "epoxy", "nova.wsgi.metadata:application")
	f.Set(novaConf, "libvirt", "virt_type", string(n.VirtType))
	f.Set(novaConf, "libvirt", "cpu_mode", cpuMode(n.VirtType))
	f.Set(novaConf, "DEFAULT", "cpu_allocation_ratio", n.AllocationRatios.CPU)
	f.Set(novaConf, "DEFAULT", "ram_allocation_ratio", n.AllocationRatios.RAM)
	f.Set(novaConf, "DEFAULT", "disk_allocation_ratio", n.AllocationRatios.Disk)
	if n.ImagesBackend == v1.ImagesCeph {
		f.Set(novaConf, "libvirt", "images_type", "rbd")
		f.Set(novaConf, "libvirt", "images_rbd_pool", c.Ceph(cephkeys.Pool(cephkeys.RoleVMs)))
		f.Set(novaConf, "libvirt", "images_rbd_ceph_conf", cephDir+"/"+cephkeys.ConfFile)
	} else {
		f.Set(novaConf, "libvirt", "images_type", "qcow2")
	}
	if novaCeph(c) {
		// Disks and volume attachments: one user, one libvirt secret.
		f.Set(novaConf, "libvirt", "rbd_user", cephkeys.ClientCinder)
		f.Set(novaConf, "libvirt", "rbd_secret_uuid", CephSecretUUID)
	}
	if c.Enabled("block-storage") {
		f.Set(novaConf, "cinder", "catalog_info", "volumev3:cinderv3:internalURL")
	}
	f.Set(novaConf, "vnc", "enabled", fmt.Sprint(n.Console == v1.ConsoleNoVNC))
	f.Set(novaConf, "spice", "enabled", fmt.Sprint(n.Console == v1.ConsoleSpice))
	f.Set(novaConf, "serial_console", "enabled", fmt.Sprint(n.Console == v1.ConsoleSerial))
	switch n.Console {
	case v1.ConsoleNoVNC:
		f.Set(novaConf, "vnc", "novncproxy_host", "0.0.0.0")
		f.Set(novaConf, "vnc", "server_listen", "0.0.0.0")
		f.Set(novaConf, "vnc", "server_proxyclient_address", "$my_ip")
		f.Set(novaConf, "vnc", "novncproxy_base_url", c.PublicURL("novncproxy", "/vnc_auto.html"))
	case v1.ConsoleSpice:
		f.Set(novaConf, "spice", "html5proxy_host", "0.0.0.0")
		f.Set(novaConf, "spice", "server_listen", "0.0.0.0")
		f.Set(novaConf, "spice", "server_proxyclient_address", "$my_ip")
		f.Set(novaConf, "spice", "html5proxy_base_url", c.PublicURL("spicehtml5proxy", "/spice_auto.html"))
	case v1.ConsoleSerial:
		f.Set(novaConf, "serial_console", "serialproxy_host", "0.0.0.0")
		f.Set(novaConf, "serial_console", "base_url", "ws://serialproxy."+c.Spec.PublicDomainName+"/")
	}
	f.Set(novaConf, "neutron", "service_metadata_proxy", "true")
	f.Set(novaConf, "cinder", "os_region_name", c.Spec.Region)
	f.Set(novaConf, "glance", "endpoint_override", c.InternalURL("glance", "api", 9292, ""))
	f.Set(novaConf, "glance", "region_name", c.Spec.Region)
}

// cpuMode is the instances' CPU model for a hypervisor: KVM shows them the
// host's CPU, as far as live migration between hosts allows; software
// emulation has no host CPU to copy, so libvirt's default model.
func cpuMode(t v1.VirtType) string {
	if t == v1.VirtQEMU {
		return "none"
	}
	return "host-model"
}
