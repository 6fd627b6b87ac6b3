package catalog

import (
	"fmt"
	"strconv"
	"strings"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/release"
)

const (
	horizonSettings = "local_settings.py"
	// horizonStatic is where Horizon collects and compresses its static
	// files, and where uWSGI serves them from.
	horizonStatic = "/var/www/html/horizon"
	// horizonSecretKey is the key of Django's SECRET_KEY in horizon's
	// credential Secret.
	horizonSecretKey = "secret-key"
)

// dashboard is Horizon, served by uWSGI with its static files. Sessions
// live in memcached; every replica signs them with the same generated
// SECRET_KEY.
func dashboard() *Service {
	server, uwsgi := wsgiAPI("horizon", "server", 80, "", horizonSettings, httpProbe("/auth/login/"))
	wsgiModule(&uwsgi, "openstack_dashboard.wsgi:application")
	uwsgi.Defaults["uwsgi"]["static-map"] = "/static=" + horizonStatic
	server.Ports = []Port{{Name: "http", Port: 80, Public: true, Host: "horizon"}}
	// Sessions live in memcached, which its settings name (no wiring).
	server.Connects = []Connect{{Service: "memcached", Component: "server", Port: "memcache"}}
	// collectstatic and compress run before uWSGI starts: minutes on a
	// busy node.
	server.Probe.StartupSeconds = 600
	// Horizon reads its settings from its package's local/ directory, in a
	// path that depends on the image's Python; the static files and their
	// offline compression must match the settings.
	server.Command = prepared(`site=$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
ln -sf /etc/openstack-dashboard/`+horizonSettings+` "$site/openstack_dashboard/local/`+horizonSettings+`"
python3 -m django collectstatic --noinput
python3 -m django compress --force`, server.Command)
	server.Privileges = &Privileges{WritableRoot: true,
		Why: "Horizon reads its settings only from its package's directory, so the start links them there, " +
			"and collects and compresses its static files for them, inside the image's site-packages"}
	server.Env = []Env{
		{Name: "DJANGO_SETTINGS_MODULE", Value: "openstack_dashboard.settings"},
		{Name: "HORIZON_SECRET_KEY", Secret: CredentialSecret("horizon"), Key: horizonSecretKey},
	}
	return &Service{
		Name:             "dashboard",
		Project:          "horizon",
		Description:      "Horizon: the web dashboard.",
		DependsOn:        []string{"identity", "memcached"},
		Image:            "horizon",
		ExtraCredentials: []string{horizonSecretKey},
		UpgradeOrder:     11,
		Config: []ConfigFile{
			{
				// A Python module: every value is a Python expression.
				Name: horizonSettings, Dir: "/etc/openstack-dashboard", Format: FormatFlat,
				Defaults: v1.OsloFile{"": {
					"DEBUG":         "False",
					"ALLOWED_HOSTS": "['*']",
					// A flat file has no import lines.
					"SECRET_KEY":           `__import__("os").environ["HORIZON_SECRET_KEY"]`,
					"SESSION_ENGINE":       `"django.contrib.sessions.backends.cache"`,
					"STATIC_ROOT":          strconv.Quote(horizonStatic),
					"COMPRESS_OFFLINE":     "True",
					"USE_X_FORWARDED_HOST": "True",
					// Horizon talks to the APIs from inside the cluster.
					"OPENSTACK_ENDPOINT_TYPE":           `"internalURL"`,
					"OPENSTACK_API_VERSIONS":            `{"identity": 3, "volume": 3, "compute": 2, "image": 2}`,
					"OPENSTACK_KEYSTONE_DEFAULT_DOMAIN": `"Default"`,
					"OPENSTACK_KEYSTONE_DEFAULT_ROLE":   `"member"`,
				}},
			},
			uwsgi,
		},
		Components: []Component{server},
		Features:   horizonFeatures,
	}
}

// horizonFeatures points Horizon at Keystone and memcached, and makes it
// trust the ingress's TLS termination when the public endpoints are HTTPS.
func horizonFeatures(c *Context, f Files) {
	set := func(key, value string) { f.Set(horizonSettings, "", key, value) }
	set("OPENSTACK_KEYSTONE_URL", strconv.Quote(c.KeystoneURL()+"/v3"))
	if c.InternalTLS() {
		set("OPENSTACK_SSL_CACERT", strconv.Quote(InternalCAFile))
	}
	// Django 4.2 (Horizon 2024.1 on) dropped python-memcached's backend.
	backend := "django.core.cache.backends.memcached.MemcachedCache"
	if release.AtLeast(c.Release, "caracal") {
		backend = "django.core.cache.backends.memcached.PyMemcacheCache"
	}
	set("CACHES", fmt.Sprintf(`{"default": {"BACKEND": %s, "LOCATION": %s}}`, strconv.Quote(backend), pyList(memcachedServers(c))))
	if c.Features.SSL.PublicEndpoints != nil {
		set("SECURE_PROXY_SSL_HEADER", `("HTTP_X_FORWARDED_PROTO", "https")`)
		set("CSRF_COOKIE_SECURE", "True")
		set("SESSION_COOKIE_SECURE", "True")
	}
}

// pyList writes strings as a Python list literal.
func pyList(items []string) string {
	quoted := make([]string, len(items))
	for i, s := range items {
		quoted[i] = strconv.Quote(s)
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}
