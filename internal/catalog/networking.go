package catalog

import (
	"fmt"
	"sort"
	"strings"

	v1 "github.com/oskproject/osk/api/v1alpha1"
)

const neutronDir = "/etc/neutron"

func networking() *Service {
	return &Service{
		Name:         "networking",
		Project:      "neutron",
		Description:  "Neutron with ML2/Open vSwitch agents, OVN, or Tungsten Fabric.",
		DependsOn:    []string{"identity"},
		Image:        "neutron",
		Databases:    []string{"neutron"},
		Messaging:    true,
		UpgradeOrder: 4,
		// The expand branch goes in before neutron-server rolls; the
		// contract branch only once no old server is left.
		Upgrade: &Upgrade{
			Before: []Job{neutronDB("expand")},
			After:  []Job{neutronDB("contract")},
		},
		Keystone: &Keystone{User: true, Endpoints: []Endpoint{
			{Type: "network", Name: "neutron", Component: "server"},
		}},
		Config:     neutronFiles(),
		Components: neutronComponents(),
		Jobs: []Job{{
			Name:    "db-sync",
			Command: oslo("neutron-db-manage", neutronDir, "neutron.conf", "plugins/ml2/ml2_conf.ini"),
			Args:    func(*Context) []string { return []string{"upgrade", "heads"} },
			Reads:   []string{"neutron.conf", "plugins/ml2/ml2_conf.ini"},
			After:   []string{"db-init"},
		}},
		Features: neutronFeatures,
	}
}

// neutronDB is one branch of neutron's database upgrade.
func neutronDB(branch string) Job {
	files := []string{"neutron.conf", "plugins/ml2/ml2_conf.ini"}
	return upgradeStep(branch, files, append(oslo("neutron-db-manage", neutronDir, files...), "upgrade", "--"+branch)...)
}

func neutronFiles() []ConfigFile {
	agentDefaults := v1.OsloFile{"DEFAULT": {"interface_driver": "openvswitch"}, "ovs": {"ovsdb_connection": ovsdbConnection}}
	return []ConfigFile{
		{Name: "neutron.conf", Dir: neutronDir,
			Defaults: v1.OsloFile{
				"DEFAULT": {
					"bind_host": "0.0.0.0",
					"bind_port": "9696", "core_plugin": "ml2",
					// The agents' state, under the host directory they
					// share (neutronStateVolume).
					"state_path":              "/var/lib/neutron",
					"dhcp_agents_per_network": "2", "l3_ha": "false", "max_l3_agents_per_router": "2",
					// The agents answer the liveness checks' pings.
					"rpc_ping_enabled": "true",
				},
				"agent": {
					"root_helper": "sudo neutron-rootwrap /etc/neutron/rootwrap.conf",
					// One long-lived rootwrap process per agent rather than a
					// sudo and a Python start per command.
					"root_helper_daemon": "sudo neutron-rootwrap-daemon /etc/neutron/rootwrap.conf",
				},
				// neutron calls nova and placement on their internal
				// endpoints, as every other service does.
				"nova":             {"endpoint_type": "internal"},
				"placement":        {"endpoint_type": "internal"},
				"oslo_concurrency": {"lock_path": "/var/lib/neutron/tmp"},
				"oslo_middleware":  {"enable_proxy_headers_parsing": "true"},
			},
			Wiring: standardWiring(
				Wire{Kind: WireCache},
				Wire{Kind: WireDatabase, Database: "neutron"},
				Wire{Kind: WireServiceAuth, Section: "nova"},
				Wire{Kind: WireServiceAuth, Section: "placement"},
			)},
		{Name: "plugins/ml2/ml2_conf.ini", Dir: neutronDir, Defaults: v1.OsloFile{
			"ml2":             {"extension_drivers": "port_security"},
			"securitygroup":   {"enable_security_group": "true"},
			"ml2_type_vxlan":  {"vni_ranges": "1:65535"},
			"ml2_type_geneve": {"vni_ranges": "1:65535", "max_header_size": "38"},
		}},
		{Name: "plugins/ml2/openvswitch_agent.ini", Dir: neutronDir, Defaults: v1.OsloFile{
			"agent":         {"tunnel_types": "vxlan", "l2_population": "true", "arp_responder": "true"},
			"ovs":           {"bridge_mappings": "", "ovsdb_connection": ovsdbConnection},
			"securitygroup": {"firewall_driver": "openvswitch"},
		}},
		{Name: "l3_agent.ini", Dir: neutronDir, Defaults: agentDefaults},
		{Name: "dhcp_agent.ini", Dir: neutronDir, Defaults: v1.OsloFile{
			"DEFAULT": {
				"interface_driver": "openvswitch", "dhcp_driver": "neutron.agent.linux.dhcp.Dnsmasq",
				"enable_isolated_metadata": "true",
			},
			"ovs": {"ovsdb_connection": ovsdbConnection},
		}},
		{Name: "metadata_agent.ini", Dir: neutronDir, Defaults: v1.OsloFile{"DEFAULT": {"nova_metadata_port": "8775"}},
			Wiring: []Wire{{Kind: WireMetadataProxy, Section: "DEFAULT"}}},
		{Name: "neutron_ovn_metadata_agent.ini", Dir: neutronDir, Defaults: v1.OsloFile{
			"DEFAULT": {"nova_metadata_port": "8775"},
			"ovs":     {"ovsdb_connection": "unix:/run/openvswitch/db.sock"},
		}, Wiring: []Wire{{Kind: WireMetadataProxy, Section: "DEFAULT"}}},
		{Name: "plugins/tungstenfabric/tf_plugin.ini", Dir: neutronDir, Defaults: v1.OsloFile{
			"APISERVER": {"api_server_port": "8082", "multi_tenancy": "true"},
		}},
	}
}

func neutronComponents() []Component {
	ovs := backend(v1.NeutronML2OVS)
	ovn := backend(v1.NeutronOVN)
	tunnel := NodeAddress{
		Name:      "TUNNEL_IP",
		Interface: func(c *Context) string { return c.Features.Neutron.TunnelInterface },
		Options:   []Option{{File: "plugins/ml2/openvswitch_agent.ini", Section: "ovs", Key: "local_ip"}},
	}
	server := Component{
		Name: "server", Kind: Deployment, Role: RoleControlPlane, Scale: ScaleAPI, Profile: ProfileAPI,
		Command: []string{"neutron-server", "--config-file", neutronDir + "/neutron.conf"},
		Args:    serverArgs,
		Ports:   []Port{{Name: "api", Port: 9696, Public: true}},
		Probe:   tcpProbe(),
		// neutron-server (oslo.service) finishes its requests on SIGTERM
		// within graceful_shutdown_timeout.
		DrainSeconds: drainSeconds,
		Reads:        []string{"neutron.conf", "plugins/ml2/ml2_conf.ini", "plugins/tungstenfabric/tf_plugin.ini"},
		Connects:     []Connect{ovnNB, ovnSB},
		Workers:      &Option{File: "neutron.conf", Section: "DEFAULT", Key: "api_workers"},
	}
	ovsAgent := agent("ovs-agent", RoleOpenVSwitch, hostAgent(whyHostNetworkAgent), nil,
		"neutron.conf", "plugins/ml2/openvswitch_agent.ini")
	ovsAgent.Command = shellArgs(externalBridgesScript + "exec " + strings.Join(append(
		oslo("neutron-openvswitch-agent", neutronDir, "neutron.conf", "plugins/ml2/openvswitch_agent.ini"),
		"--config-file", NodeConfigDir+"/node.conf"), " "))
	ovsAgent.Args = externalBridges
	ovsAgent.NodeAddresses = []NodeAddress{tunnel}
	ovsAgent.NoDatabase = true
	ovsAgent.Volumes = ovsRunVolumes
	ovsAgent.When = ovs

	l3 := agent("l3-agent", RoleGateway, hostAgent(whyHostNetworkAgent), oslo("neutron-l3-agent", neutronDir, "neutron.conf", "l3_agent.ini"), "neutron.conf", "l3_agent.ini")
	l3 = rpcServer(l3, "neutron-l3-agent", neutronDir+"/neutron.conf", "l3_agent")
	l3.Volumes, l3.When, l3.NoDatabase = gatewayVolumes, ovs, true
	l3.Layer = map[string]v1.OsloFile{"l3_agent.ini": {"DEFAULT": {"agent_mode": "legacy"}}}
	l3dvr := l3
	l3dvr.Name, l3dvr.Role = "l3-agent-compute", RoleCompute
	l3dvr.Layer = map[string]v1.OsloFile{"l3_agent.ini": {"DEFAULT": {"agent_mode": "dvr"}}}
	l3dvr.When = func(c *Context) bool { return ovs(c) && c.Features.Neutron.DVR }

	dhcp := agent("dhcp-agent", RoleGateway, hostAgent(whyHostNetworkAgent), oslo("neutron-dhcp-agent", neutronDir, "neutron.conf", "dhcp_agent.ini"), "neutron.conf", "dhcp_agent.ini")
	dhcp = rpcServer(dhcp, "neutron-dhcp-agent", neutronDir+"/neutron.conf", "dhcp_agent")
	dhcp.Volumes, dhcp.When, dhcp.NoDatabase = gatewayVolumes, ovs, true

	meta := agent("metadata-agent", RoleGateway, hostAgent(whyMetadataAgent), oslo("neutron-metadata-agent", neutronDir, "neutron.conf", "metadata_agent.ini"), "neutron.conf", "metadata_agent.ini")
	meta.When, meta.NoDatabase = ovs, true
	meta.Volumes = []Volume{neutronStateVolume}
	meta.Connects = []Connect{novaMetadata}
	metaDVR := meta
	metaDVR.Name, metaDVR.Role = "metadata-agent-compute", RoleCompute
	metaDVR.When = l3dvr.When

	return []Component{server, ovsAgent, l3, l3dvr, dhcp, meta, metaDVR,
		ovnDatabase("nb", 6641), ovnDatabase("sb", 6642), ovnNorthd(), ovnController(), ovnMetadata(ovn)}
}

// ovsdbConnection is the host's Open vSwitch database as every component
// that programs Open vSwitch reaches it: ovsdb-server listens on this
// socket only (the agents' and os-vif's default, tcp:127.0.0.1:6640,
// would need a manager entry ovsdb-server does not serve).
const ovsdbConnection = "unix:/run/openvswitch/db.sock"

// externalBridgesScript creates the Open vSwitch bridge of each external
// network with the node's datapath and plugs the network's interface into
// it; the OVS agent exits when a bridge of its bridge_mappings is missing.
// $1 is the datapath, then one BRIDGE:INTERFACE per network.
const externalBridgesScript = `datapath=$1; shift; for m in "$@"; do ` +
	`ovs-vsctl --db=` + ovsdbConnection + ` --may-exist add-br "${m%%:*}" ` +
	`-- set Bridge "${m%%:*}" datapath_type="$datapath" -- --may-exist add-port "${m%%:*}" "${m#*:}"; done; `

// externalBridges are the arguments of externalBridgesScript.
func externalBridges(c *Context) []string {
	args := []string{string(c.Features.Neutron.OVSDatapath)}
	for _, n := range c.Features.Neutron.ExternalNetworks {
		args = append(args, BridgeName(n)+":"+n.Interface)
	}
	return args
}

// whyMetadataAgent is why the metadata agents run as root on the host's
// network.
const whyMetadataAgent = "serves the metadata proxy socket that the haproxy processes of the L3 and DHCP agents, root in " +
	"the host's network namespaces, connect to"

// ovsRunVolumes give an agent the host's Open vSwitch socket and network
// namespaces.
var ovsRunVolumes = []Volume{
	ovsRunVolume,
	{Name: "netns", Kind: VolumeHostPath, Source: "/run/netns", MountPath: "/run/netns"},
	{Name: "modules", Kind: VolumeHostPath, Source: "/lib/modules", MountPath: "/lib/modules"},
}

// neutronStateVolume is the host's Neutron state directory, shared by the
// L3, DHCP and metadata agents of a node: the metadata agent serves its
// proxy socket there ($state_path/metadata_proxy), which the haproxy
// processes the L3 and DHCP agents start connect to, and the agents keep
// their processes' state there (dnsmasq's leases, keepalived's) across
// their own restarts.
var neutronStateVolume = Volume{Name: "neutron-state", Kind: VolumeHostPath, Source: "/var/lib/neutron", MountPath: "/var/lib/neutron"}

// gatewayVolumes are the host directories of the L3 and DHCP agents.
var gatewayVolumes = append(append([]Volume(nil), ovsRunVolumes...), neutronStateVolume)

// ovsRunVolume is the host's Open vSwitch socket directory.
var ovsRunVolume = Volume{Name: "ovs-run", Kind: VolumeHostPath, Source: "/run/openvswitch", MountPath: "/run/openvswitch"}

// serverArgs adds the files of the backend's plugin to neutron-server.
func serverArgs(c *Context) []string {
	if c.Features.Neutron.Backend == v1.NeutronTungstenFabric {
		return []string{"--config-file", neutronDir + "/plugins/tungstenfabric/tf_plugin.ini"}
	}
	return []string{"--config-file", neutronDir + "/plugins/ml2/ml2_conf.ini"}
}

func ovnDatabase(name string, port int32) Component {
	db := "OVN_Northbound"
	if name == "sb" {
		db = "OVN_Southbound"
	}
	file := fmt.Sprintf("/var/lib/ovn/ovn%s_db.db", name)
	return Component{
		Name: "ovn-ovsdb-" + name, Kind: StatefulSet, Role: RoleControlPlane, Scale: ScaleQuorum, Profile: ProfileWorker,
		Image: "ovn",
		Command: shell(fmt.Sprintf(`[ -f %[1]s ] || ovsdb-tool create %[1]s /usr/share/ovn/ovn-%[2]s.ovsschema; `+
			`exec ovsdb-server %[1]s --remote=ptcp:%[3]d:0.0.0.0 --pidfile=/run/ovn/%[2]s.pid --unixctl=/run/ovn/%[2]s.ctl`,
			file, name, port)),
		Ports:   []Port{{Name: "ovsdb", Port: port}},
		Probe:   tcpProbe(),
		Volumes: []Volume{{Name: "data", Kind: VolumeLocal, MountPath: "/var/lib/ovn", Size: "5Gi"}},
		When:    backend(v1.NeutronOVN),
		Env:     []Env{{Name: "OVN_DATABASE", Value: db}},
	}
}

func ovnNorthd() Component {
	return Component{
		Name: "ovn-northd", Kind: Deployment, Role: RoleControlPlane, Scale: ScaleWorker, Profile: ProfileWorker,
		Image:   "ovn",
		Command: []string{"ovn-northd"},
		Args: func(c *Context) []string {
			return []string{"--ovnnb-db=" + ovnURL(c, "nb", 6641), "--ovnsb-db=" + ovnURL(c, "sb", 6642)}
		},
		Probe:    processProbe("ovn-northd"),
		Connects: []Connect{ovnNB, ovnSB},
		When:     backend(v1.NeutronOVN),
	}
}

func ovnController() Component {
	c := agent("ovn-controller", RoleOpenVSwitch, hostAgent("programs the host's Open vSwitch (its database socket and "+
		"datapath) with the flows of the node's ports"), nil)
	c.Image = "ovn"
	// $1 is the southbound database; NODE_NAME is set on every container.
	c.Command = shell(`. ` + NodeConfigDir + `/node.env; ` +
		`ovs-vsctl set open . external-ids:ovn-remote="$1" external-ids:ovn-encap-type=geneve ` +
		`external-ids:ovn-encap-ip="$TUNNEL_IP" external-ids:system-id="$NODE_NAME" ` +
		`external-ids:ovn-bridge-datapath-type="$2"; ` +
		`exec ovn-controller unix:/run/openvswitch/db.sock`)
	c.Args = func(ctx *Context) []string {
		return []string{"ovn-controller", ovnURL(ctx, "sb", 6642), string(ctx.Features.Neutron.OVSDatapath)}
	}
	c.NodeAddresses = []NodeAddress{{Name: "TUNNEL_IP", Interface: func(c *Context) string { return c.Features.Neutron.TunnelInterface }}}
	c.Probe = processProbe("ovn-controller")
	c.Connects = []Connect{ovnSB}
	c.Volumes = ovsRunVolumes
	c.When = backend(v1.NeutronOVN)
	return c
}

func ovnMetadata(when func(*Context) bool) Component {
	c := agent("ovn-metadata-agent", RoleCompute, hostAgent(whyHostNetworkAgent),
		oslo("neutron-ovn-metadata-agent", neutronDir, "neutron.conf", "neutron_ovn_metadata_agent.ini"),
		"neutron.conf", "neutron_ovn_metadata_agent.ini")
	c.Volumes, c.When, c.NoDatabase = ovsRunVolumes, when, true
	c.Connects = []Connect{ovnSB, novaMetadata}
	return c
}

// The servers Neutron's components reach besides their wiring: OVN's
// databases and Nova's metadata API, which the metadata agents proxy to.
var (
	ovnNB        = Connect{Component: "ovn-ovsdb-nb", Port: "ovsdb"}
	ovnSB        = Connect{Component: "ovn-ovsdb-sb", Port: "ovsdb"}
	novaMetadata = Connect{Service: "compute", Component: "metadata", Port: "api"}
)

// ovnURL is the address of one of OVN's databases.
func ovnURL(c *Context, name string, port int32) string {
	return fmt.Sprintf("tcp:%s:%d", c.Host("neutron", "ovn-ovsdb-"+name), port)
}

func neutronFeatures(c *Context, f Files) {
	n := c.Features.Neutron
	switch n.Backend {
	case v1.NeutronOVN:
		f.Set("neutron.conf", "DEFAULT", "service_plugins", "ovn-router")
		f.Set("plugins/ml2/ml2_conf.ini", "ml2", "mechanism_drivers", "ovn")
		f.Set("plugins/ml2/ml2_conf.ini", "ml2", "type_drivers", "flat,vlan,geneve")
		f.Set("plugins/ml2/ml2_conf.ini", "ml2", "tenant_network_types", "geneve")
		for _, file := range []string{"plugins/ml2/ml2_conf.ini", "neutron_ovn_metadata_agent.ini"} {
			f.Set(file, "ovn", "ovn_nb_connection", ovnURL(c, "nb", 6641))
			f.Set(file, "ovn", "ovn_sb_connection", ovnURL(c, "sb", 6642))
		}
		f.Set("plugins/ml2/ml2_conf.ini", "ovn", "ovn_metadata_enabled", "true")
	case v1.NeutronTungstenFabric:
		f.Set("neutron.conf", "DEFAULT", "core_plugin", "neutron_plugin_contrail.plugins.opencontrail.contrail_plugin.NeutronPluginContrailCoreV2")
		f.Set("neutron.conf", "DEFAULT", "service_plugins", "neutron_plugin_contrail.plugins.opencontrail.l3_router_plugin.ContrailL3Router")
		f.Set("plugins/tungstenfabric/tf_plugin.ini", "APISERVER", "api_server_ip", "tf-config-api.tf.svc."+c.Spec.InternalDomainName)
	default:
		f.Set("neutron.conf", "DEFAULT", "service_plugins", "router")
		f.Set("neutron.conf", "DEFAULT", "router_distributed", fmt.Sprint(n.DVR))
		f.Set("plugins/ml2/ml2_conf.ini", "ml2", "mechanism_drivers", "openvswitch,l2population")
		f.Set("plugins/ml2/ml2_conf.ini", "ml2", "type_drivers", "flat,vlan,vxlan")
		f.Set("plugins/ml2/ml2_conf.ini", "ml2", "tenant_network_types", "vxlan")
		f.Set("plugins/ml2/openvswitch_agent.ini", "agent", "enable_distributed_routing", fmt.Sprint(n.DVR))
		if n.DVR {
			f.Set("l3_agent.ini", "DEFAULT", "agent_mode", "dvr_snat")
		}
		// Routers, and with DVR their source NAT, run on two gateway
		// nodes with keepalived, so that losing one keeps them; the
		// single size is a lab with one gateway.
		f.Set("neutron.conf", "DEFAULT", "l3_ha", fmt.Sprint(c.Spec.Size != v1.SizeSingle))
	}
	physnets(c, f)
	ovsDatapath(c, f)
	metadata := c.Host("nova", "metadata")
	f.Set("metadata_agent.ini", "DEFAULT", "nova_metadata_host", metadata)
	f.Set("neutron_ovn_metadata_agent.ini", "DEFAULT", "nova_metadata_host", metadata)
}

// physnets writes the external networks: flat and VLAN type settings and
// the agent's bridge mappings.
func physnets(c *Context, f Files) {
	var flat, vlan, mappings []string
	nets := append([]v1.ExternalNetwork(nil), c.Features.Neutron.ExternalNetworks...)
	sort.Slice(nets, func(i, j int) bool { return nets[i].Physnet < nets[j].Physnet })
	for _, n := range nets {
		flat = append(flat, n.Physnet)
		r := n.Physnet
		if n.VLANRanges != "" {
			r += ":" + n.VLANRanges
		}
		vlan = append(vlan, r)
		mappings = append(mappings, n.Physnet+":"+BridgeName(n))
	}
	f.Set("plugins/ml2/ml2_conf.ini", "ml2_type_flat", "flat_networks", strings.Join(flat, ","))
	f.Set("plugins/ml2/ml2_conf.ini", "ml2_type_vlan", "network_vlan_ranges", strings.Join(vlan, ","))
	f.Set("plugins/ml2/openvswitch_agent.ini", "ovs", "bridge_mappings", strings.Join(mappings, ","))
}

// ovsDatapath writes the datapath of the bridges the agents create or plug
// into. The userspace datapath cannot move an Open vSwitch internal port
// into a network namespace, so the DHCP and L3 agents then plug theirs
// with veth pairs.
func ovsDatapath(c *Context, f Files) {
	datapath := c.Features.Neutron.OVSDatapath
	for _, file := range []string{"plugins/ml2/openvswitch_agent.ini", "dhcp_agent.ini", "l3_agent.ini"} {
		f.Set(file, "ovs", "datapath_type", string(datapath))
	}
	veth := fmt.Sprint(datapath == v1.OVSDatapathNetdev)
	f.Set("dhcp_agent.ini", "DEFAULT", "ovs_use_veth", veth)
	f.Set("l3_agent.ini", "DEFAULT", "ovs_use_veth", veth)
}

// BridgeName is the Open vSwitch bridge of an external network.
func BridgeName(n v1.ExternalNetwork) string {
	if n.Bridge != "" {
		return n.Bridge
	}
	return "br-" + n.Physnet
}
