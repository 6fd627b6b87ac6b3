package catalog

import (
	"fmt"

	v1 "github.com/oskproject/osk/api/v1alpha1"
)

const (
	designateConf = "designate.conf"
	designatePool = "pools.yaml"
	// mdnsPort is where designate-mdns serves zone transfers to PowerDNS.
	mdnsPort int32 = 5354
	// powerdnsDNSPort is where pdns_server listens in its pod; its Service
	// publishes it on 53. The image runs pdns_server unprivileged, so it
	// cannot bind 53 itself.
	powerdnsDNSPort int32 = 5300
	powerdnsAPIPort int32 = 8081
	// powerdnsAPIKey is the key of PowerDNS's API key in its credential
	// Secret.
	powerdnsAPIKey = "api-key"
)

// dns is Designate, DNS as a service. Its one pool is osk's PowerDNS:
// designate-worker creates every zone there through the PowerDNS API as a
// secondary zone of designate-mdns, and PowerDNS transfers it from mdns.
func dns() *Service {
	api, uwsgi := wsgiAPI("designate", "api", 9001, "designate-api-wsgi", designateConf, httpProbe("/"))
	// Designate's WSGI application reads /etc/designate/api-paste.ini and
	// nothing else.
	api.Command = prepared(linkShipped("designate", "api-paste.ini"), api.Command)
	api.Volumes = append(api.Volumes, etcVolume("designate"))
	mdns := designateDaemon("mdns")
	mdns.Ports = []Port{{Name: "mdns", Port: mdnsPort}}
	mdns.Probe = tcpProbe()
	return &Service{
		Name:         "dns",
		Project:      "designate",
		Description:  "Designate: DNS as a service, served by PowerDNS.",
		DependsOn:    []string{"identity", "powerdns", "coordination"},
		Image:        "designate",
		Databases:    []string{"designate"},
		Messaging:    true,
		UpgradeOrder: 8,
		Keystone: &Keystone{User: true, Endpoints: []Endpoint{
			{Type: "dns", Name: "designate", Component: "api"},
		}},
		Config: []ConfigFile{
			mainFile("designate", v1.OsloFile{
				"service:mdns":     {"listen": fmt.Sprintf("0.0.0.0:%d", mdnsPort)},
				"oslo_concurrency": {"lock_path": "/var/lib/designate/tmp"},
				"oslo_middleware":  {"enable_proxy_headers_parsing": "true"},
			}, standardWiring(
				Wire{Kind: WireDatabase, Section: "storage:sqlalchemy", Database: "designate"},
				// The producer and the worker share their work out over etcd.
				Wire{Kind: WireCoordination},
			)),
			uwsgi,
			{Name: designatePool, Dir: "/etc/designate", Format: FormatRaw, Generate: designatePools},
		},
		Components: []Component{
			api, designateDaemon("central"), designateWorker(), designateDaemon("producer"), mdns,
		},
		Jobs: []Job{
			dbSync("designate", "designate-manage", "--config-file", "/etc/designate/"+designateConf, "database", "sync"),
			poolUpdate(),
		},
		Features: func(c *Context, f Files) {
			wsgiModuleSince(c, f, uwsgi.Name, "flamingo", "designate.wsgi.api:application")
			f.Set(designateConf, "service:api", "api_base_uri", c.PublicURL("designate", "/"))
		},
	}
}

// designateDaemon is a Designate worker sized by [service:<name>] workers,
// which otherwise follows the node's CPU count.
func designateDaemon(name string) Component {
	return sized(daemon("designate", name), designateConf, "service:"+name, "workers")
}

// designateWorker creates the zones through the PowerDNS API, notifies
// PowerDNS and queries it for their serials.
func designateWorker() Component {
	c := designateDaemon("worker")
	c.Connects = []Connect{{Service: "powerdns", Component: "server", Port: "api"},
		{Service: "powerdns", Component: "server", Port: "dns"}}
	return c
}

// designatePools describes the pool. PowerDNS takes only IP addresses as
// the primaries of a zone, and Designate queries and notifies its name
// servers by address too, so the file holds placeholders that the
// pool-update job replaces with the addresses of the PowerDNS and mdns
// Services, and with the PowerDNS API key, which the catalog never sees.
// Designate keeps the pool in its database: only the job reads this file.
func designatePools(c *Context) []byte {
	return []byte(fmt.Sprintf(`- name: default
  description: PowerDNS run by osk
  attributes: {}
  ns_records:
    - hostname: ns1.%[1]s.
      priority: 1
  nameservers:
    - host: "@POWERDNS_IP@"
      port: 53
  targets:
    - type: pdns4
      description: PowerDNS run by osk
      masters:
        - host: "@MDNS_IP@"
          port: %[2]d
      options:
        host: "@POWERDNS_IP@"
        port: 53
        api_endpoint: http://%[3]s:%[4]d
        api_token: "@POWERDNS_API_KEY@"
`, c.Spec.PublicDomainName, mdnsPort, c.Host("powerdns", "server"), powerdnsAPIPort))
}

// poolUpdate loads the pool into Designate. designate-manage asks
// designate-central over RPC, so the job waits for it, and for the Services
// whose addresses it needs.
func poolUpdate() Job {
	return Job{
		Name: "pool-update",
		// pools.yaml names the PowerDNS API, which it may check.
		Connects: []Connect{{Service: "powerdns", Component: "server", Port: "api"}},
		Reads:    []string{designateConf, designatePool},
		After:    []string{"db-sync", "rabbit-init"},
		// designate-manage asks designate-central to update the pool.
		AfterWorkloads: true,
		Env:            []Env{{Name: "POWERDNS_API_KEY", Secret: CredentialSecret("powerdns"), Key: powerdnsAPIKey}},
		Command: shellArgs(`resolve() { getent hosts "$1" | awk '{ print $1; exit }'; }
until POWERDNS_IP=$(resolve "$1") && [ -n "$POWERDNS_IP" ] && MDNS_IP=$(resolve "$2") && [ -n "$MDNS_IP" ]; do sleep 5; done
export POWERDNS_IP MDNS_IP
python3 - /etc/designate/pools.yaml /tmp/pools.yaml <<'EOF'
import os, sys
text = open(sys.argv[1]).read()
for name in ("POWERDNS_IP", "MDNS_IP", "POWERDNS_API_KEY"):
    text = text.replace("@%s@" % name, os.environ[name])
open(sys.argv[2], "w").write(text)
EOF
n=0
until designate-manage --config-file /etc/designate/designate.conf pool update --file /tmp/pools.yaml; do
  n=$((n + 1)); [ "$n" -lt 20 ] || exit 1; sleep 15
done`),
		Args: func(c *Context) []string {
			return []string{c.Host("powerdns", "server"), c.Host("designate", "mdns")}
		},
	}
}

// powerdns is the PowerDNS authoritative server behind Designate, with its
// zones in MariaDB so that every replica serves the same data.
func powerdns() *Service {
	creds := CredentialSecret("powerdns")
	return &Service{
		Name:             "powerdns",
		Project:          "powerdns",
		Description:      "PowerDNS: the authoritative DNS servers of Designate's pool, zones in MariaDB.",
		Infrastructure:   true,
		DependsOn:        []string{"database"},
		Image:            "powerdns",
		Databases:        []string{"powerdns"},
		ExtraCredentials: []string{powerdnsAPIKey},
		Config: []ConfigFile{
			{Name: "pdns.conf", Dir: "/etc/powerdns", Format: FormatFlat, Defaults: v1.OsloFile{"": {
				"launch":               "gmysql",
				"gmysql-port":          fmt.Sprint(DatabasePort),
				"gmysql-dbname":        "powerdns",
				"gmysql-user":          "powerdns",
				"gmysql-dnssec":        "yes",
				"local-address":        "0.0.0.0",
				"local-port":           fmt.Sprint(powerdnsDNSPort),
				"secondary":            "yes",
				"api":                  "yes",
				"webserver":            "yes",
				"webserver-address":    "0.0.0.0",
				"webserver-port":       fmt.Sprint(powerdnsAPIPort),
				"webserver-allow-from": "0.0.0.0/0,::/0",
				// Designate's NOTIFYs come from designate-worker pods, not
				// from mdns, the zones' primary: without this PowerDNS
				// refuses them. A NOTIFY only makes PowerDNS check the
				// zone's primaries.
				"trusted-notification-proxy": "0.0.0.0/0,::/0",
				"disable-syslog":             "yes",
				"setuid":                     "pdns",
				"setgid":                     "pdns",
			}}},
			{Name: "schema.mysql.sql", Dir: "/etc/powerdns", Format: FormatRaw,
				Generate: func(*Context) []byte { return []byte(powerdnsSchema) }},
		},
		Components: []Component{{
			Name:    "server",
			Kind:    Deployment,
			Role:    RoleControlPlane,
			Scale:   ScaleAPI,
			Profile: ProfileLight,
			// PowerDNS reads no secrets from the environment: Kubernetes
			// expands the variables into its arguments.
			Command: []string{"pdns_server", "--config-dir=/etc/powerdns",
				"--gmysql-password=$(GMYSQL_PASSWORD)", "--api-key=$(PDNS_API_KEY)"},
			Ports: []Port{
				{Name: "dns", Port: powerdnsDNSPort, ServicePort: 53, UDP: true, Open: true},
				{Name: "api", Port: powerdnsAPIPort},
			},
			Probe: tcpProbe(),
			Reads: []string{"pdns.conf"},
			// Its zones are in MariaDB; it transfers them from mdns.
			Connects: []Connect{ConnectDatabase, {Service: "dns", Component: "mdns", Port: "mdns"}},
			Env: []Env{
				{Name: "GMYSQL_PASSWORD", Secret: creds, Key: KeyDatabasePassword},
				{Name: "PDNS_API_KEY", Secret: creds, Key: powerdnsAPIKey},
			},
		}},
		Jobs: []Job{{
			// The PowerDNS image has the schema but no MySQL client, and
			// MariaDB's image the client but not the schema: osk carries the
			// schema, written so that loading it again changes nothing.
			Name:     "schema-load",
			Image:    "mariadb",
			Reads:    []string{"schema.mysql.sql"},
			After:    []string{"db-init"},
			Connects: []Connect{ConnectDatabase},
			Env:      []Env{{Name: "MYSQL_PWD", Secret: creds, Key: KeyDatabasePassword}},
			Command:  shellArgs(`exec mariadb -h "$1" -P "$2" -u powerdns powerdns < /etc/powerdns/schema.mysql.sql`),
			Args: func(c *Context) []string {
				return []string{c.Host("mariadb", "server"), fmt.Sprint(DatabasePort)}
			},
		}},
		Features: func(c *Context, f Files) {
			f.Set("pdns.conf", "", "gmysql-host", c.Host("mariadb", "server"))
		},
	}
}

// powerdnsSchema is the database of PowerDNS 4.9's gmysql backend (the
// image osk runs): the tables and indexes the backend's queries use.
const powerdnsSchema = `CREATE TABLE IF NOT EXISTS domains (
  id              INT AUTO_INCREMENT PRIMARY KEY,
  name            VARCHAR(255) NOT NULL,
  master          VARCHAR(128) DEFAULT NULL,
  last_check      INT DEFAULT NULL,
  type            VARCHAR(8) NOT NULL,
  notified_serial INT UNSIGNED DEFAULT NULL,
  account         VARCHAR(40) CHARACTER SET utf8 DEFAULT NULL,
  options         VARCHAR(64000) DEFAULT NULL,
  catalog         VARCHAR(255) DEFAULT NULL,
  UNIQUE KEY name_index (name),
  KEY catalog_idx (catalog)
) ENGINE=InnoDB CHARACTER SET latin1;

CREATE TABLE IF NOT EXISTS records (
  id        BIGINT AUTO_INCREMENT PRIMARY KEY,
  domain_id INT DEFAULT NULL,
  name      VARCHAR(255) DEFAULT NULL,
  type      VARCHAR(10) DEFAULT NULL,
  content   VARCHAR(64000) DEFAULT NULL,
  ttl       INT DEFAULT NULL,
  prio      INT DEFAULT NULL,
  disabled  TINYINT(1) DEFAULT 0,
  ordername VARCHAR(255) BINARY DEFAULT NULL,
  auth      TINYINT(1) DEFAULT 1,
  KEY nametype_index (name, type),
  KEY domain_id (domain_id),
  KEY ordername (ordername)
) ENGINE=InnoDB CHARACTER SET latin1;

CREATE TABLE IF NOT EXISTS supermasters (
  ip         VARCHAR(64) NOT NULL,
  nameserver VARCHAR(255) NOT NULL,
  account    VARCHAR(40) CHARACTER SET utf8 NOT NULL,
  PRIMARY KEY (ip, nameserver)
) ENGINE=InnoDB CHARACTER SET latin1;

CREATE TABLE IF NOT EXISTS comments (
  id          INT AUTO_INCREMENT PRIMARY KEY,
  domain_id   INT NOT NULL,
  name        VARCHAR(255) NOT NULL,
  type        VARCHAR(10) NOT NULL,
  modified_at INT NOT NULL,
  account     VARCHAR(40) CHARACTER SET utf8 DEFAULT NULL,
  comment     TEXT CHARACTER SET utf8 NOT NULL,
  KEY comments_name_type_idx (name, type),
  KEY comments_order_idx (domain_id, modified_at)
) ENGINE=InnoDB CHARACTER SET latin1;

CREATE TABLE IF NOT EXISTS domainmetadata (
  id        INT AUTO_INCREMENT PRIMARY KEY,
  domain_id INT NOT NULL,
  kind      VARCHAR(32),
  content   TEXT,
  KEY domainmetadata_idx (domain_id, kind)
) ENGINE=InnoDB CHARACTER SET latin1;

CREATE TABLE IF NOT EXISTS cryptokeys (
  id        INT AUTO_INCREMENT PRIMARY KEY,
  domain_id INT NOT NULL,
  flags     INT NOT NULL,
  active    BOOL,
  published BOOL DEFAULT 1,
  content   TEXT,
  KEY domainidindex (domain_id)
) ENGINE=InnoDB CHARACTER SET latin1;

CREATE TABLE IF NOT EXISTS tsigkeys (
  id        INT AUTO_INCREMENT PRIMARY KEY,
  name      VARCHAR(255),
  algorithm VARCHAR(50),
  secret    VARCHAR(255),
  UNIQUE KEY namealgoindex (name, algorithm)
) ENGINE=InnoDB CHARACTER SET latin1;
`
