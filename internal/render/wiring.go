package render

import (
	"fmt"
	"strings"

	"github.com/oskproject/osk/internal/catalog"
	"github.com/oskproject/osk/internal/galera"
	"github.com/oskproject/osk/internal/oslo"
)

// NotificationsBus is the RabbitMQ instance that carries notifications.
const NotificationsBus = "notifications"

// SharedBus is the RabbitMQ instance of services without their own.
const SharedBus = "shared"

// wire writes one environment-dependent piece of configuration.
func (m *model) wire(s *catalog.Service, f *oslo.File, w catalog.Wire) {
	switch w.Kind {
	case catalog.WireDatabase:
		f.Set(or(w.Section, "database"), "connection", m.databaseURL(s, w.Database))
		f.Set(or(w.Section, "database"), "max_retries", "-1")
	case catalog.WireMessaging:
		if s.Messaging {
			f.Set("DEFAULT", "transport_url", m.busURL(s, m.Bus(s)))
			f.Set("oslo_messaging_rabbit", "rabbit_ha_queues", "false")
			f.Set("oslo_messaging_rabbit", "heartbeat_timeout_threshold", "60")
		}
	case catalog.WireNotifications:
		m.wireNotifications(s, f)
	case catalog.WireAuthToken:
		m.wireKeystone(s, f, "keystone_authtoken")
		f.Set("keystone_authtoken", "www_authenticate_uri", m.ctx.PublicURL("keystone", "/v3"))
		f.Set("keystone_authtoken", "service_token_roles_required", "true")
		f.Set("keystone_authtoken", "memcached_servers", m.memcachedServers())
		// Cached tokens are encrypted and signed: memcached holds them
		// for every service and authenticates no one.
		f.Set("keystone_authtoken", "memcache_security_strategy", "ENCRYPT")
		f.Set("keystone_authtoken", "memcache_secret_key", m.creds.Value(catalog.CredentialSecret(s.Project), catalog.KeyMemcacheSecret))
	case catalog.WireServiceAuth:
		m.wireKeystone(s, f, w.Section)
		if w.NoRegion {
			f.Delete(w.Section, "region_name")
		}
		if w.NoSession {
			f.Delete(w.Section, "cafile")
		}
	case catalog.WireCache:
		f.Set("cache", "enabled", "true")
		f.Set("cache", "backend", "dogpile.cache.pymemcache")
		f.Set("cache", "memcache_servers", m.memcachedServers())
	case catalog.WireCoordination:
		// tooz's etcd3gw driver asks for the v3alpha gateway unless told
		// otherwise (Zed's tooz does); etcd 3.4 and later serve only
		// v3beta and v3.
		f.Set("coordination", "backend_url", fmt.Sprintf("etcd3+http://%s:%d?api_version=v3", m.ctx.Host("etcd", "server"), catalog.EtcdPort))
	case catalog.WireLogging:
		f.Set("DEFAULT", "use_stderr", "true")
	case catalog.WireSSTAuth:
		// osk galera start creates this user when it starts a new cluster.
		f.Set("galera", "wsrep_sst_auth", galera.SSTUser+":"+m.creds.Value(catalog.DatabaseRootSecret, catalog.KeySSTPassword))
	case catalog.WireMetadataProxy:
		f.Set(w.Section, "metadata_proxy_shared_secret", m.creds.Value(catalog.CredentialSecret("nova"), catalog.KeyMetadataSecret))
	}
}

// wireKeystone writes the service user's Keystone credentials to a
// section, as keystoneauth's password plugin reads them.
func (m *model) wireKeystone(s *catalog.Service, f *oslo.File, section string) {
	f.Merge(map[string]map[string]string{section: {
		"auth_url":            m.ctx.KeystoneURL(),
		"auth_type":           "password",
		"project_domain_name": "Default",
		"user_domain_name":    "Default",
		"project_name":        "service",
		"username":            s.Project,
		"password":            m.creds.Value(catalog.CredentialSecret(s.Project), catalog.KeyKeystonePassword),
		"region_name":         m.d.Spec.Region,
	}})
	m.wireCA(f, section)
}

func (m *model) wireNotifications(s *catalog.Service, f *oslo.File) {
	if !m.NotificationsOn() {
		f.Set("oslo_messaging_notifications", "driver", "noop")
		return
	}
	topics := append([]string{"notifications"}, m.d.Spec.Features.Messaging.Notifications.Topics...)
	f.Set("oslo_messaging_notifications", "driver", "messagingv2")
	f.Set("oslo_messaging_notifications", "topics", strings.Join(topics, ","))
	f.Set("oslo_messaging_notifications", "transport_url", m.busURL(s, NotificationsBus))
}

// NotificationsOn reports whether services send notifications: asked for,
// or needed by telemetry or StackLight.
func (m *model) NotificationsOn() bool {
	f := m.d.Spec.Features
	return f.Messaging.Notifications.Enabled || f.StackLight.Enabled || m.on["telemetry-metering"]
}

// Bus returns the RabbitMQ instance of a service.
func (m *model) Bus(s *catalog.Service) string {
	dedicated := m.d.Spec.Features.Messaging.DedicatedServices
	if len(dedicated) == 0 {
		return s.Project
	}
	for _, d := range dedicated {
		if d == s.Name {
			return s.Project
		}
	}
	return SharedBus
}

// Buses returns every RabbitMQ instance the deployment runs, sorted.
func (m *model) Buses() []string {
	set := map[string]bool{}
	for _, n := range m.enabled {
		if s := m.service(n); s.Messaging {
			set[m.Bus(s)] = true
		}
	}
	if m.NotificationsOn() {
		set[NotificationsBus] = true
	}
	return sortedKeys(set)
}

// busURL is the transport URL of a service's user and vhost on a bus.
func (m *model) busURL(s *catalog.Service, bus string) string {
	pw := m.creds.Value(catalog.CredentialSecret(s.Project), catalog.KeyMessagingPassword)
	return fmt.Sprintf("rabbit://%s:%s@%s:%d/%s", s.Project, pw, m.busHost(bus), catalog.MessagingPort, s.Project)
}

func (m *model) busHost(bus string) string {
	return fmt.Sprintf("rabbitmq-%s.%s.svc.%s", bus, m.d.Namespace, m.d.Spec.InternalDomainName)
}

// databaseURL is the SQLAlchemy URL of one of a service's databases.
func (m *model) databaseURL(s *catalog.Service, db string) string {
	pw := m.creds.Value(catalog.CredentialSecret(s.Project), catalog.KeyDatabasePassword)
	return fmt.Sprintf("mysql+pymysql://%s:%s@%s:%d/%s?charset=utf8", s.Project, pw,
		m.ctx.Host("mariadb", "server"), catalog.DatabasePort, db)
}

// memcachedServers lists every memcached member, so clients hash keys
// over all of them.
func (m *model) memcachedServers() string {
	mc := m.service("memcached")
	n := m.replicas(mc, &mc.Components[0])
	hosts := make([]string, n)
	for i := range hosts {
		hosts[i] = fmt.Sprintf("memcached-server-%d.memcached-server-peers.%s.svc.%s:%d",
			i, m.d.Namespace, m.d.Spec.InternalDomainName, catalog.MemcachedPort)
	}
	return strings.Join(hosts, ",")
}

// replicas returns a component's replica count: the spec's override, or
// the size's.
func (m *model) replicas(s *catalog.Service, c *catalog.Component) int32 {
	return m.ctx.Replicas(s, c)
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
