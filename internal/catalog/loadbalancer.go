package catalog

import (
	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/release"
)

const (
	octaviaConf  = "octavia.conf"
	octaviaCerts = "/etc/octavia/certs"
)

// OctaviaCertsSecret is the Secret, provided by the operator, with the
// certificates of the controllers' channel to the amphorae, mounted in
// /etc/octavia/certs: server_ca.cert.pem and server_ca.key.pem (the CA that
// signs every amphora's server certificate; the key unencrypted),
// client_ca.cert.pem (the CA the amphorae trust) and client.cert-and-key.pem
// (the controllers' certificate and key, signed by that CA).
const OctaviaCertsSecret = "octavia-amphora-certs"

// loadBalancer is Octavia with the amphora provider. The worker,
// housekeeping and health manager run on gateway nodes in the host's
// network, which must reach the load-balancer management network the
// amphorae boot on; the deployment sets that network, the amphora flavor
// and security group ([controller_worker] amp_boot_network_list,
// amp_flavor_id, amp_secgroup_list) and the health managers' addresses
// ([health_manager] controller_ip_port_list) in the service's overrides.
// The amphora image is the Glance image tagged "amphora". TaskFlow's
// jobboard stays off, so no persistence database is needed.
func loadBalancer() *Service {
	api, uwsgi := wsgiAPI("octavia", "api", 9876, "octavia-wsgi", octaviaConf, httpProbe("/"))
	certs := Volume{Name: "certs", Kind: VolumeSecret, Source: OctaviaCertsSecret, MountPath: octaviaCerts}
	controller := func(c Component) Component {
		c.Role = RoleGateway
		c.Privileges = &Privileges{HostNetwork: true,
			Why: "reaches the amphorae on the load-balancer management network, which only the gateway nodes' own network has"}
		c.Env = octaviaSecrets()
		return c
	}
	work := controller(daemon("octavia", "worker"))
	work.Volumes = []Volume{certs}
	housekeeping := controller(daemon("octavia", "housekeeping"))
	housekeeping.Scale = ScaleSingleton
	housekeeping.Volumes = []Volume{certs}
	health := controller(agent("health-manager", RoleGateway, nil, oslo("octavia-health-manager", "/etc/octavia", octaviaConf), octaviaConf))
	return &Service{
		Name:             "load-balancer",
		Project:          "octavia",
		Description:      "Octavia: load balancers run in amphora instances.",
		DependsOn:        []string{"identity", "networking", "compute", "image"},
		Image:            "octavia",
		Databases:        []string{"octavia"},
		Messaging:        true,
		ExtraCredentials: []string{octaviaHeartbeatKey, octaviaCertsPassphrase},
		UpgradeOrder:     7,
		Keystone: &Keystone{User: true, Endpoints: []Endpoint{
			{Type: "load-balancer", Name: "octavia", Component: "api"},
		}},
		Config: []ConfigFile{
			mainFile("octavia", v1.OsloFile{
				"controller_worker": {"amp_image_tag": "amphora", "client_ca": octaviaCerts + "/client_ca.cert.pem"},
				"certificates": {
					"ca_certificate": octaviaCerts + "/server_ca.cert.pem",
					"ca_private_key": octaviaCerts + "/server_ca.key.pem",
					"endpoint_type":  "internalURL",
				},
				"haproxy_amphora": {
					"client_cert": octaviaCerts + "/client.cert-and-key.pem",
					"server_ca":   octaviaCerts + "/server_ca.cert.pem",
				},
				// Heartbeats arrive on the management network's interface.
				"health_manager":   {"bind_ip": "0.0.0.0", "bind_port": "5555"},
				"nova":             {"endpoint_type": "internalURL"},
				"glance":           {"endpoint_type": "internalURL"},
				"cinder":           {"endpoint_type": "internalURL"},
				"oslo_concurrency": {"lock_path": "/var/lib/octavia/tmp"},
				"oslo_middleware":  {"enable_proxy_headers_parsing": "true"},
			}, standardWiring(
				Wire{Kind: WireDatabase, Database: "octavia"},
				// Nova, Neutron, Glance and Barbican are called as the service user.
				Wire{Kind: WireServiceAuth, Section: "service_auth", NoRegion: true},
			)),
			uwsgi,
		},
		Components: []Component{api, work, housekeeping, health},
		Jobs:       []Job{dbSync("octavia", "octavia-db-manage", "--config-file", "/etc/octavia/"+octaviaConf, "upgrade", "head")},
		Features: func(c *Context, f Files) {
			wsgiModuleSince(c, f, uwsgi.Name, "flamingo", "octavia.wsgi.api:application")
			for _, s := range []string{"nova", "glance", "cinder", "certificates", "neutron"} {
				f.Set(octaviaConf, s, "region_name", c.Spec.Region)
			}
			// [neutron] took keystoneauth's adapter options in 2023.2.
			if release.AtLeast(c.Release, "bobcat") {
				f.Set(octaviaConf, "neutron", "valid_interfaces", "internal")
			} else {
				f.Set(octaviaConf, "neutron", "endpoint_type", "internalURL")
			}
		},
	}
}

// Octavia's generated credentials. The passphrase encrypts the amphorae's
// certificates in the database and must be 32 URL-safe base64 characters.
const (
	octaviaHeartbeatKey    = "heartbeat-key"
	octaviaCertsPassphrase = "server-certs-key-passphrase"
)

// octaviaSecrets hands the controllers the heartbeat key (which signs the
// amphorae's heartbeats) and the certificates' passphrase through
// oslo.config's environment source, so they stay out of octavia.conf.
func octaviaSecrets() []Env {
	creds := CredentialSecret("octavia")
	return []Env{
		{Name: "OS_HEALTH_MANAGER__HEARTBEAT_KEY", Secret: creds, Key: octaviaHeartbeatKey},
		{Name: "OS_CERTIFICATES__SERVER_CERTS_KEY_PASSPHRASE", Secret: creds, Key: octaviaCertsPassphrase},
	}
}
