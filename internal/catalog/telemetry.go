package catalog

import (
	"fmt"
	"strings"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/cephkeys"
)

const (
	gnocchiConf    = "gnocchi.conf"
	aodhConf       = "aodh.conf"
	ceilometerConf = "ceilometer.conf"
	pollingFile    = "polling.yaml"
	// telemetryOrder is the place of every telemetry service in upgrades.
	telemetryOrder = 14
)

// telemetry is the services the spec enables together as "telemetry":
// Gnocchi stores metrics, Aodh evaluates alarms on them, Ceilometer polls
// and collects meters into Gnocchi. Panko, the event store, is declared but
// never runs.
func telemetry() []*Service {
	services := []*Service{telemetryMetric(), telemetryAlarming(), telemetryMetering(), telemetryEvent()}
	for _, s := range services {
		s.PartOf = "telemetry"
		s.UpgradeOrder = telemetryOrder
	}
	return services
}

// telemetryMetric is Gnocchi, with its metrics in the Ceph pool "gnocchi"
// and its index in MariaDB. Without a coordination URL, Gnocchi's metricd
// replicas coordinate through the index database.
func telemetryMetric() *Service {
	api, uwsgi := wsgiAPI("gnocchi", "api", 8041, "", gnocchiConf, httpProbe("/"))
	// Gnocchi has no WSGI script; its application is a module.
	wsgiModule(&uwsgi, "gnocchi.rest.wsgi:application")
	metricd := sized(daemon("gnocchi", "metricd"), gnocchiConf, "metricd", "workers")
	// Gnocchi reads the index database from [indexer] url, not from a
	// "connection" key.
	indexer := databaseURLEnv("gnocchi", "gnocchi", "indexer", "url")
	for _, c := range []*Component{&api, &metricd} {
		c.Reads = append(c.Reads, cephReads(cephkeys.ClientGnocchi)...)
		c.Env = append(c.Env, indexer...)
		c.Connects = []Connect{ConnectDatabase}
	}
	upgrade := dbSync("gnocchi", oslo("gnocchi-upgrade", "/etc/gnocchi", gnocchiConf)...)
	upgrade.Reads = append(upgrade.Reads, cephReads(cephkeys.ClientGnocchi)...)
	upgrade.Env, upgrade.Connects = indexer, []Connect{ConnectDatabase}
	return &Service{
		Name:        "telemetry-metric",
		Project:     "gnocchi",
		Description: "Gnocchi: the metric store of telemetry, in Ceph.",
		DependsOn:   []string{"identity"},
		Image:       "gnocchi",
		Databases:   []string{"gnocchi"},
		Keystone: &Keystone{User: true, Endpoints: []Endpoint{
			{Type: "metric", Name: "gnocchi", Component: "api"},
		}},
		Config: append([]ConfigFile{
			mainFile("gnocchi", v1.OsloFile{
				"api": {"auth_mode": "keystone"},
				"storage": {
					"driver":        "ceph",
					"ceph_username": cephkeys.ClientGnocchi,
					"ceph_conffile": cephDir + "/" + cephkeys.ConfFile,
					"ceph_keyring":  cephDir + "/" + cephkeys.KeyringFile(cephkeys.ClientGnocchi),
				},
				// No WireLogging: Gnocchi logs with daiquiri, to standard
				// error unless given a log file, and has no use_stderr.
			}, []Wire{{Kind: WireAuthToken}}),
			uwsgi,
		}, cephFiles(always, cephkeys.ClientGnocchi)...),
		Components: []Component{api, metricd},
		Features: func(c *Context, f Files) {
			f.Set(gnocchiConf, "storage", "ceph_pool", c.Ceph(cephkeys.Pool(cephkeys.RoleMetrics)))
		},
		// gnocchi-upgrade creates the index and the storage objects.
		Jobs: []Job{upgrade},
	}
}

// telemetryAlarming is Aodh. The evaluators share the alarms out over etcd;
// they read metrics from Gnocchi as the aodh service user.
func telemetryAlarming() *Service {
	api, uwsgi := wsgiAPI("aodh", "api", 8042, "aodh-api", aodhConf, httpProbe("/"))
	return &Service{
		Name:        "telemetry-alarming",
		Project:     "aodh",
		Description: "Aodh: alarms on telemetry.",
		DependsOn:   []string{"identity", "coordination"},
		Image:       "aodh",
		Databases:   []string{"aodh"},
		Messaging:   true,
		Keystone: &Keystone{User: true, Endpoints: []Endpoint{
			{Type: "alarming", Name: "aodh", Component: "api"},
		}},
		Config: []ConfigFile{
			mainFile("aodh", v1.OsloFile{
				"service_credentials": {"interface": "internalURL"},
				"oslo_middleware":     {"enable_proxy_headers_parsing": "true"},
			}, standardWiring(
				Wire{Kind: WireDatabase, Database: "aodh"},
				Wire{Kind: WireCoordination},
				Wire{Kind: WireServiceAuth, Section: "service_credentials"},
			)),
			uwsgi,
		},
		Components: []Component{
			api, daemon("aodh", "evaluator"), daemon("aodh", "listener"), daemon("aodh", "notifier"),
		},
		Jobs: []Job{dbSync("aodh", oslo("aodh-dbsync", "/etc/aodh", aodhConf)...)},
		Features: func(c *Context, f Files) {
			wsgiModuleSince(c, f, uwsgi.Name, "flamingo", "aodh.wsgi.api:application")
		},
	}
}

// telemetryMetering is Ceilometer: the central agent polls the APIs, the
// compute agent libvirt on every compute node, and the notification agent
// turns the samples and the services' notifications into Gnocchi's metrics.
// All of it travels on the notification bus. Ceilometer declares a bus
// (Messaging) although it makes no RPC calls: rabbit-init creates its user
// on the notification bus only for services with one.
func telemetryMetering() *Service {
	poll := func(namespace string) []string {
		return append(oslo("ceilometer-polling", "/etc/ceilometer", ceilometerConf), "--polling-namespaces", namespace)
	}
	// Root, for the root-owned libvirt socket, but no capability; the
	// host's network so that it reports the node's host name, as
	// nova-compute does.
	compute := agent("compute", RoleCompute, &Privileges{Root: true, HostNetwork: true,
		Why: "reads instance statistics through the host's libvirt socket, which only root may open, " +
			"and names the node as nova-compute does (the host's network and host name)"},
		poll("compute"), ceilometerConf, pollingFile)
	compute.Volumes = []Volume{libvirtRunVolume}
	return &Service{
		Name:        "telemetry-metering",
		Project:     "ceilometer",
		Description: "Ceilometer: polls and collects meters into Gnocchi.",
		DependsOn:   []string{"identity", "telemetry-metric", "coordination"},
		Image:       "ceilometer",
		Messaging:   true,
		Keystone:    &Keystone{User: true},
		Config: []ConfigFile{
			mainFile("ceilometer", v1.OsloFile{
				"service_credentials": {"interface": "internalURL"},
				"oslo_concurrency":    {"lock_path": "/var/lib/ceilometer/tmp"},
			}, []Wire{
				{Kind: WireMessaging}, {Kind: WireNotifications}, {Kind: WireCache}, {Kind: WireLogging},
				// The central agents share the polling out over etcd.
				{Kind: WireCoordination},
				{Kind: WireServiceAuth, Section: "service_credentials"},
			}),
			{Name: pollingFile, Dir: "/etc/ceilometer", Format: FormatRaw, Generate: pollingSources},
		},
		Components: []Component{
			worker("central", poll("central"), ceilometerConf, pollingFile),
			worker("notification", oslo("ceilometer-agent-notification", "/etc/ceilometer", ceilometerConf), ceilometerConf),
			compute,
		},
		Jobs: []Job{{
			// Creates Gnocchi's resource types and archive policies.
			Name:    "upgrade",
			Command: oslo("ceilometer-upgrade", "/etc/ceilometer", ceilometerConf),
			Reads:   []string{ceilometerConf},
			After:   []string{"keystone-register"},
		}},
	}
}

// pollingMeters are the meters the agents poll, in every release osk
// supports; the rest come from notifications.
var pollingMeters = []string{
	// compute
	"cpu", "memory.usage", "memory.resident",
	"disk.device.read.bytes", "disk.device.write.bytes",
	"disk.device.read.requests", "disk.device.write.requests",
	"disk.device.capacity", "disk.device.allocation", "disk.device.usage",
	"network.incoming.bytes", "network.outgoing.bytes",
	"network.incoming.packets", "network.outgoing.packets",
	// central
	"image.size", "volume.size", "volume.snapshot.size", "volume.backup.size", "ip.floating",
}

// pollingSources writes polling.yaml with the deployment's interval.
func pollingSources(c *Context) []byte {
	interval := c.Features.Telemetry.Interval
	if interval == 0 {
		interval = 300
	}
	return []byte(fmt.Sprintf("---\nsources:\n  - name: osk\n    interval: %d\n    meters:\n      - %s\n",
		interval, strings.Join(pollingMeters, "\n      - ")))
}

// telemetryEvent is Panko. It was retired upstream after Wallaby, before
// every release osk supports, so it never runs; it stays declared so that
// the telemetry group keeps its historical shape.
func telemetryEvent() *Service {
	return &Service{
		Name:        "telemetry-event",
		Project:     "panko",
		Description: "Panko: the event store of telemetry (retired upstream after Wallaby).",
		DependsOn:   []string{"identity"},
		Image:       "panko",
		Releases:    &ReleaseRange{Until: "wallaby"},
	}
}
