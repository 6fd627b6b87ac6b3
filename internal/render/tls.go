package render

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/oskproject/osk/internal/catalog"
	"github.com/oskproject/osk/internal/oslo"
	"github.com/oskproject/osk/internal/pki"
)

// TLS inside the cloud (features.ssl.internal): the APIs of Keystone's
// catalog that uWSGI serves answer HTTPS on their internal port with a
// certificate of osk's internal CA (internal/credentials issues and
// renews it), their endpoints are https, and every pod gets the CA's
// certificate at catalog.InternalCAFile, which the clients' options
// name.

// Volumes of TLS inside the cloud.
const (
	internalCAVolume  = "internal-ca"
	internalTLSVolume = "internal-tls"
)

// AnnotationBackendProtocol tells ingress-nginx to reach an Ingress's
// backend with HTTPS.
const AnnotationBackendProtocol = "nginx.ingress.kubernetes.io/backend-protocol"

// internalTLS reports whether TLS inside the cloud is on.
func (m *model) internalTLS() bool { return m.d.Spec.Features.SSL.Internal.Enabled }

// tlsServers returns the Services (by name, <project>-<component>) that
// serve HTTPS, for the catalog's Context: none when TLS inside the cloud
// is off.
func (m *model) tlsServers() map[string]bool {
	out := map[string]bool{}
	if !m.internalTLS() {
		return out
	}
	for _, name := range m.cat.Names() {
		s := m.service(name)
		for i := range s.Components {
			if s.ServesTLS(&s.Components[i]) {
				out[s.Project+"-"+s.Components[i].Name] = true
			}
		}
	}
	return out
}

// servesTLS reports whether a project's component serves HTTPS.
func (m *model) servesTLS(project, component string) bool { return m.tls[project+"-"+component] }

// serveTLS makes the uWSGI APIs of a service that serve HTTPS do so, on
// the address and port they would serve HTTP on.
func (m *model) serveTLS(s *catalog.Service, fs fileSet) {
	for _, c := range s.Components {
		if !m.servesTLS(s.Project, c.Name) {
			continue
		}
		f, ok := fs[c.TLS.File]
		if !ok {
			continue
		}
		addr, _ := f.Get(c.TLS.Section, c.TLS.Key)
		f.Delete(c.TLS.Section, c.TLS.Key)
		f.Set(c.TLS.Section, "https-socket", addr+","+catalog.InternalTLSFile+","+catalog.InternalTLSFile)
	}
}

// wireCA names the internal CA's certificate in a client section of a
// service's file, as keystoneauth's session options and
// keystonemiddleware read it.
func (m *model) wireCA(f *oslo.File, section string) {
	if m.internalTLS() {
		f.Set(section, "cafile", catalog.InternalCAFile)
	}
}

// internalCA returns the internal CA's certificate, never its key; a
// placeholder offline.
func (m *model) internalCA() (string, error) {
	bundle := m.creds.Value(catalog.InternalTLSSecret, catalog.KeyInternalCA)
	if _, offline := m.creds.(Placeholders); offline {
		return bundle, nil
	}
	ca, err := pki.ParseBundle([]byte(bundle))
	if err != nil {
		return "", fmt.Errorf("reading the internal CA: %w", err)
	}
	return string(ca.Cert), nil
}

// renderInternalCA renders the ConfigMap of the internal CA's
// certificate, which every pod mounts.
func (m *model) renderInternalCA() error {
	if !m.internalTLS() {
		return nil
	}
	cert, err := m.internalCA()
	if err != nil {
		return err
	}
	m.add(&corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: m.meta(catalog.InternalCAConfigMap, map[string]string{LabelInstance: m.d.Name, LabelManagedBy: ManagedBy}),
		Data:       map[string]string{catalog.InternalCAKey: cert},
	})
	return nil
}

// addInternalTLS gives a pod the internal CA's certificate, in every
// container, and, for an API that serves HTTPS, its certificate in its
// own container, whose probes then speak HTTPS. It returns the hash input
// that rolls the pod onto a new CA or certificate: digests, never the
// certificates' keys.
func (m *model) addInternalTLS(w *workload, spec *corev1.PodSpec) string {
	if !m.internalTLS() {
		return ""
	}
	caHash := m.addInternalCA(spec)
	if !m.servesTLS(w.s.Project, w.c.Name) {
		return caHash
	}
	key := catalog.CertificateKey(m.ctx.Host(w.s.Project, w.c.Name))
	spec.Volumes = append(spec.Volumes, corev1.Volume{Name: internalTLSVolume, VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
		SecretName: catalog.InternalTLSSecret, DefaultMode: ptr[int32](0o440),
		Items: []corev1.KeyToPath{{Key: key, Path: "tls.pem"}},
	}}})
	ctr := &spec.Containers[0]
	ctr.VolumeMounts = append(ctr.VolumeMounts, corev1.VolumeMount{Name: internalTLSVolume, MountPath: catalog.InternalTLSDir, ReadOnly: true})
	for _, p := range []*corev1.Probe{ctr.ReadinessProbe, ctr.LivenessProbe, ctr.StartupProbe} {
		if p != nil && p.HTTPGet != nil {
			p.HTTPGet.Scheme = corev1.URISchemeHTTPS
		}
	}
	return caHash + ",tls=" + digest(m.creds.Value(catalog.InternalTLSSecret, key))
}

// certDirs is SSL_CERT_DIR in every container when TLS inside the cloud
// is on: Go programs (osk's exporter and jobs) trust the internal CA as
// well as the system's CAs (the system's bundle file stays; Go reads
// every certificate of these directories). OpenSSL, which looks a
// directory's certificates up by their hash, finds none of osk's there
// and is unchanged.
const certDirs = "/etc/ssl/certs:" + catalog.InternalCADir

// addInternalCA mounts the internal CA's certificate in every container
// of a pod and returns the hash input of its digest.
func (m *model) addInternalCA(spec *corev1.PodSpec) string {
	if !m.internalTLS() {
		return ""
	}
	spec.Volumes = append(spec.Volumes, corev1.Volume{Name: internalCAVolume, VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
		LocalObjectReference: corev1.LocalObjectReference{Name: catalog.InternalCAConfigMap}}}})
	for i := range spec.Containers {
		ctr := &spec.Containers[i]
		ctr.VolumeMounts = append(ctr.VolumeMounts, corev1.VolumeMount{Name: internalCAVolume, MountPath: catalog.InternalCADir, ReadOnly: true})
		ctr.Env = append(ctr.Env, corev1.EnvVar{Name: "SSL_CERT_DIR", Value: certDirs})
	}
	return ",internal-ca=" + digest(m.creds.Value(catalog.InternalTLSSecret, catalog.KeyInternalCA))
}

// digest is a value's SHA-256, hex: what a hash input holds of a secret.
func digest(v string) string {
	sum := sha256.Sum256([]byte(v))
	return hex.EncodeToString(sum[:])
}
