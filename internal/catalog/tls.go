package catalog

import "strings"

// TLS inside the cloud (features.ssl.internal): osk's own CA signs a
// certificate for each API that serves HTTPS on its internal endpoint.
const (
	// InternalTLSSecret holds osk's internal CA (KeyInternalCA) and the
	// certificate of each API that serves HTTPS (CertificateKey), each
	// as one PEM text, certificate then key.
	InternalTLSSecret = "internal-tls-credentials"
	// KeyInternalCA is the key of the CA in InternalTLSSecret.
	KeyInternalCA = "ca"
	// InternalCAConfigMap holds the CA's certificate only, under
	// InternalCAKey: what every client is given.
	InternalCAConfigMap = "internal-ca"
	// InternalCAKey is the key of the CA's certificate in
	// InternalCAConfigMap.
	InternalCAKey = "ca.crt"
	// InternalCADir is where every pod finds the CA's certificate.
	InternalCADir = "/etc/osk-ca"
	// InternalCAFile is the CA's certificate, in every pod.
	InternalCAFile = InternalCADir + "/" + InternalCAKey
	// InternalTLSDir is where an API's pod finds its certificate.
	InternalTLSDir = "/etc/osk-tls"
	// InternalTLSFile is an API's certificate and key, one PEM text.
	InternalTLSFile = InternalTLSDir + "/tls.pem"
)

// certificateSuffix ends the key of an API's certificate in
// InternalTLSSecret.
const certificateSuffix = ".pem"

// CertificateKey returns the key, in InternalTLSSecret, of the
// certificate of the Service whose cluster DNS name is host: the name
// itself, so that the key says what the certificate is for.
func CertificateKey(host string) string { return host + certificateSuffix }

// CertificateHost returns the cluster DNS name a key of
// InternalTLSSecret is the certificate of, and false for a key that is
// not a certificate's.
func CertificateHost(key string) (string, bool) {
	host, ok := strings.CutSuffix(key, certificateSuffix)
	return host, ok && strings.Count(host, ".") >= 3
}

// ServiceNames returns the DNS names a client may reach a Service by,
// from its cluster DNS name (name.namespace.svc.domain): name,
// name.namespace, name.namespace.svc and the full name.
func ServiceNames(host string) []string {
	labels := strings.SplitN(host, ".", 4)
	if len(labels) < 4 || labels[2] != "svc" {
		return []string{host}
	}
	return []string{labels[0], labels[0] + "." + labels[1], labels[0] + "." + labels[1] + ".svc", host}
}

// ServesTLS reports whether a component of the service serves HTTPS on
// its internal endpoint when TLS inside the cloud is on: an API whose
// server can (Component.TLS) and which an endpoint of Keystone's catalog
// names.
func (s *Service) ServesTLS(c *Component) bool {
	if c.TLS == nil || s.Keystone == nil {
		return false
	}
	for _, e := range s.Keystone.Endpoints {
		if e.Component == c.Name && e.InternalURL == nil {
			return true
		}
	}
	return false
}

// InternalTLS reports whether TLS inside the cloud is on.
func (c *Context) InternalTLS() bool { return c.Features.SSL.Internal.Enabled }

// setCA names the internal CA's certificate in an option of a file, when
// TLS inside the cloud is on: for the clients keystoneauth's session
// options do not reach.
func setCA(c *Context, f Files, file, section, key string) {
	if c.InternalTLS() {
		f.Set(file, section, key, InternalCAFile)
	}
}
