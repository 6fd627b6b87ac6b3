package catalog

import (
	"strconv"

	v1 "github.com/oskproject/osk/api/v1alpha1"
)

func identity() *Service {
	api, uwsgi := wsgiAPI("keystone", "api", 5000, "keystone-wsgi-public", "keystone.conf", httpProbe("/v3"))
	api.Replicas = map[v1.Size]int32{v1.SizeMedium: 15}
	api.Volumes = []Volume{
		{Name: "fernet-keys", Kind: VolumeSecret, Source: FernetKeysSecret, MountPath: "/etc/keystone/fernet-keys"},
		{Name: "credential-keys", Kind: VolumeSecret, Source: CredentialKeysSecret, MountPath: "/etc/keystone/credential-keys"},
	}
	return &Service{
		Name:         "identity",
		Project:      "keystone",
		Description:  "Keystone: authentication, the service catalog and projects.",
		DependsOn:    []string{"database", "memcached"},
		Image:        "keystone",
		Databases:    []string{"keystone"},
		UpgradeOrder: 1,
		// Rolling: the schema grows for the new code while the old code
		// serves (expand, then the data moves), and shrinks once no old
		// code is left.
		Upgrade: &Upgrade{
			Before: []Job{keystoneSync("expand"), keystoneSync("migrate")},
			After:  []Job{keystoneSync("contract")},
		},
		Keystone: &Keystone{
			// keystone-manage bootstrap creates the identity endpoints and
			// the admin user; keystone-register does the rest.
			Endpoints: []Endpoint{{Type: "identity", Name: "keystone", Component: "api", Path: "/v3"}},
		},
		Config: []ConfigFile{
			mainFile("keystone", v1.OsloFile{
				// Keystone's own cache of validated tokens (oslo.cache in
				// memcached) would keep each token in clear, unlike the
				// services' keystonemiddleware, which encrypts what it
				// caches: Keystone validates a Fernet token from its keys
				// instead, and caches none when it issues one
				// (cache_on_issue, deprecated since Stein, still
				// pre-caches with caching off in Zed; test/hardening reads
				// memcached's raw items).
				"token":           {"provider": "fernet", "caching": "false", "cache_on_issue": "false"},
				"fernet_tokens":   {"key_repository": "/etc/keystone/fernet-keys/"},
				"fernet_receipts": {"key_repository": "/etc/keystone/fernet-keys/"},
				"credential":      {"key_repository": "/etc/keystone/credential-keys/"},
				"identity":        {"driver": "sql"},
				"oslo_middleware": {"enable_proxy_headers_parsing": "true"},
				"oslo_policy":     {"enforce_new_defaults": "true", "enforce_scope": "true"},
				"DEFAULT":         {"max_token_size": "255"},
				// Five failed logins in a row lock a user out for 30 minutes.
				"security_compliance": {
					"unique_last_password_count": "0",
					"lockout_failure_attempts":   "5",
					"lockout_duration":           "1800",
				},
			}, []Wire{{Kind: WireDatabase, Database: "keystone"}, {Kind: WireNotifications}, {Kind: WireCache}, {Kind: WireLogging}}),
			uwsgi,
		},
		Components: []Component{api},
		Jobs: []Job{
			dbSync("keystone", "keystone-manage", "--config-file", "/etc/keystone/keystone.conf", "db_sync"),
			{Name: "bootstrap", Reads: []string{"keystone.conf"}, After: []string{"db-sync"},
				Volumes: api.Volumes,
				Env:     []Env{{Name: "OS_BOOTSTRAP_PASSWORD", Secret: AdminSecret, Key: KeyPassword}},
				Command: []string{"keystone-manage", "--config-file", "/etc/keystone/keystone.conf", "bootstrap",
					"--bootstrap-username", AdminUser, "--bootstrap-project-name", AdminProject, "--bootstrap-role-name", "admin"},
				Args: func(c *Context) []string {
					return []string{
						"--bootstrap-region-id", c.Spec.Region,
						"--bootstrap-admin-url", c.KeystoneURL() + "/v3",
						"--bootstrap-internal-url", c.KeystoneURL() + "/v3",
						"--bootstrap-public-url", c.PublicURL("keystone", "/v3"),
					}
				}},
		},
		CronJobs: []CronJob{
			{Name: "fernet-rotate", Image: "osk",
				ScheduleFrom:   func(c *Context) string { return c.Features.Keystone.FernetRotation.Schedule },
				Command:        []string{"osk", "job", "keystone-rotate-keys", "--secret", FernetKeysSecret},
				UpdatesSecrets: []string{FernetKeysSecret},
				Args:           maxKeys(func(c *Context) v1.KeyRotation { return c.Features.Keystone.FernetRotation })},
			{Name: "credential-rotate", Image: "osk",
				ScheduleFrom:   func(c *Context) string { return c.Features.Keystone.CredentialRotation.Schedule },
				Command:        []string{"osk", "job", "keystone-rotate-keys", "--secret", CredentialKeysSecret},
				UpdatesSecrets: []string{CredentialKeysSecret},
				Args:           maxKeys(func(c *Context) v1.KeyRotation { return c.Features.Keystone.CredentialRotation })},
		},
		Features: func(c *Context, f Files) {
			wsgiModuleSince(c, f, uwsgi.Name, "epoxy", "keystone.wsgi.api:application")
			f.Set("keystone.conf", "token", "expiration", strconv.Itoa(int(c.Features.Keystone.TokenExpiration)))
			f.Set("keystone.conf", "fernet_tokens", "max_active_keys", strconv.Itoa(int(c.Features.Keystone.FernetRotation.MaxActiveKeys)))
		},
	}
}

// keystoneSync is one phase of keystone's rolling database upgrade.
func keystoneSync(phase string) Job {
	return upgradeStep(phase, []string{"keystone.conf"},
		"keystone-manage", "--config-file", "/etc/keystone/keystone.conf", "db_sync", "--"+phase)
}

// maxKeys passes a key repository's size to keystone-rotate-keys.
func maxKeys(r func(c *Context) v1.KeyRotation) func(c *Context) []string {
	return func(c *Context) []string {
		return []string{"--max-active-keys", strconv.Itoa(int(r(c).MaxActiveKeys))}
	}
}
