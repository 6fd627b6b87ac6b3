package catalog

import (
	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/release"
)

const (
	barbicanConf = "barbican.conf"
	// barbicanKEK is the key of the key-encryption key in barbican's
	// credential Secret: a Fernet key, 32 random bytes in URL-safe base64,
	// which osk generates once.
	barbicanKEK = "kek"
)

// keyManager is Barbican with the simple_crypto plugin: secrets are stored
// in MariaDB, encrypted with per-project keys that the generated KEK
// encrypts. The worker processes asynchronous orders. The keystone listener,
// which only cleans up after deleted projects, is not run.
func keyManager() *Service {
	api, uwsgi := wsgiAPI("barbican", "api", 9311, "barbican-wsgi-api", barbicanConf, httpProbe("/"))
	// Barbican's WSGI application reads /etc/barbican/barbican-api-paste.ini
	// and nothing else.
	api.Command = prepared(linkShipped("barbican", "barbican-api-paste.ini")+"\n"+barbicanKEKFile, api.Command)
	work := daemon("barbican", "worker")
	work.Command = prepared(barbicanKEKFile, work.Command)
	// Before 2024.1 Barbican reads its database from [DEFAULT] sql_connection.
	legacyDB := databaseURLEnv("barbican", "barbican", "DEFAULT", "sql_connection")
	kek := Env{Name: "BARBICAN_KEK", Secret: CredentialSecret("barbican"), Key: barbicanKEK}
	for _, c := range []*Component{&api, &work} {
		c.Env = append(append(c.Env, legacyDB...), kek)
		c.Connects = []Connect{ConnectDatabase}
		c.Volumes = append(c.Volumes, etcVolume("barbican"))
	}
	upgrade := dbSync("barbican", "barbican-manage", "db", "upgrade")
	upgrade.Env = legacyDB
	return &Service{
		Name:             "key-manager",
		Project:          "barbican",
		Description:      "Barbican: secrets and keys, encrypted with a key osk generates.",
		DependsOn:        []string{"identity"},
		Image:            "barbican",
		Databases:        []string{"barbican"},
		Messaging:        true,
		ExtraCredentials: []string{barbicanKEK},
		UpgradeOrder:     9,
		Keystone: &Keystone{User: true, Endpoints: []Endpoint{
			{Type: "key-manager", Name: "barbican", Component: "api"},
		}},
		Config: []ConfigFile{
			mainFile("barbican", v1.OsloFile{
				"DEFAULT": {"db_auto_create": "false"},
				// The API hands orders to the worker over the bus.
				"queue":           {"enable": "true"},
				"secretstore":     {"enabled_secretstore_plugins": "store_crypto"},
				"crypto":          {"enabled_crypto_plugins": "simple_crypto"},
				"oslo_middleware": {"enable_proxy_headers_parsing": "true"},
			}, standardWiring(Wire{Kind: WireDatabase, Database: "barbican"})),
			uwsgi,
		},
		Components: []Component{api, work},
		Jobs:       []Job{upgrade},
		Features: func(c *Context, f Files) {
			wsgiModuleSince(c, f, uwsgi.Name, "flamingo", "barbican.wsgi.api:application")
			// Secret references carry this URL.
			f.Set(barbicanConf, "DEFAULT", "host_href", c.PublicURL("barbican", ""))
			if !release.AtLeast(c.Release, "caracal") {
				// Before 2024.1 there is no [database] group: the URL
				// comes from [DEFAULT] sql_connection (legacyDB), the
				// retries from sql_max_retries.
				f.Delete(barbicanConf, "database", "connection")
				f.Delete(barbicanConf, "database", "max_retries")
				f.Set(barbicanConf, "DEFAULT", "sql_max_retries", "-1")
			}
		},
	}
}

// barbicanKEKFile writes the KEK to /etc/barbican/barbican.conf.d, which
// oslo.config reads for every Barbican program. [simple_crypto_plugin] kek
// cannot come from oslo.config's environment source: it is a multi-valued
// option since 2025.1, and the environment source would split the value
// into characters.
const barbicanKEKFile = `umask 077
mkdir -p /etc/barbican/barbican.conf.d
printf '[simple_crypto_plugin]\nkek = %s\n' "$BARBICAN_KEK" > /etc/barbican/barbican.conf.d/kek.conf`
