package catalog

import "strings"

// Credentials live in Secrets osk generates once and never overwrites.
// Every service has one Secret, <project>-credentials, with these keys.
const (
	// KeyDatabasePassword is the password of the service's database user.
	KeyDatabasePassword = "database-password"
	// KeyMessagingPassword is the password of the service's RabbitMQ user.
	KeyMessagingPassword = "messaging-password"
	// KeyKeystonePassword is the password of the service's Keystone user.
	KeyKeystonePassword = "keystone-password"
	// KeyDomainPassword is the password of the admin of the service's
	// Keystone domain.
	KeyDomainPassword = "domain-password"
)

// Shared credential Secrets.
const (
	// AdminSecret holds the cloud admin's Keystone password ("password").
	AdminSecret = "keystone-admin-credentials"
	// DatabaseRootSecret holds MariaDB's root password ("password").
	DatabaseRootSecret = "mariadb-root-credentials"
	// KeyPassword is the key of a single-password Secret.
	KeyPassword = "password"
	// KeySSTPassword is the key of the Galera state-transfer user's
	// password in DatabaseRootSecret.
	KeySSTPassword = "sst-password"
	// KeyMonitoringPassword is the key of the Galera monitoring user's
	// password in DatabaseRootSecret (StackLight's mysqld_exporter).
	KeyMonitoringPassword = "monitoring-password"
	// KeyErlangCookie is the key of a RabbitMQ instance's Erlang cookie in
	// its bus Secret.
	KeyErlangCookie = "erlang-cookie"
	// FernetKeysSecret holds Keystone's token keys, "0" to "N".
	FernetKeysSecret = "keystone-fernet-keys"
	// CredentialKeysSecret holds Keystone's credential keys.
	CredentialKeysSecret = "keystone-credential-keys"
)

// CredentialSecret returns the name of a project's credential Secret.
func CredentialSecret(project string) string { return project + "-credentials" }

// KeyMemcacheSecret is the key, in each service's credential Secret, of
// the key keystonemiddleware encrypts and signs the tokens it caches in
// memcached with ([keystone_authtoken] memcache_secret_key).
const KeyMemcacheSecret = "memcache-secret-key"

// KeyMetadataSecret is the key of nova's credential Secret holding the
// metadata proxy's shared secret.
const KeyMetadataSecret = "metadata-secret"

// GeneratedSecret reports whether osk generates a Secret: every
// <project>-credentials Secret and Keystone's key repositories. Other
// Secrets a deployment references (Ceph keys, TLS certificates) are the
// user's.
func GeneratedSecret(secret string) bool {
	return strings.HasSuffix(secret, "-credentials") || secret == FernetKeysSecret || secret == CredentialKeysSecret
}

// BusSecret returns the name of a RabbitMQ instance's admin Secret.
func BusSecret(bus string) string { return "rabbitmq-" + bus + "-credentials" }

// KeyLibvirtCA is the key, in libvirt's credential Secret, of the CA that
// signs each compute node's libvirt certificates (see NodeCertificates):
// its certificate and private key in one PEM text. Removing the key has
// osk make a new CA, and libvirt roll onto certificates it signs.
const KeyLibvirtCA = "libvirt-ca"
