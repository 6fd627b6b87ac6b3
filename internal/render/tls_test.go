package render_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/oskproject/osk/internal/catalog"
	"github.com/oskproject/osk/internal/pki"
	"github.com/oskproject/osk/internal/render"
)

// testCA stands for the deployment's internal CA in renders with test
// credentials.
var testCA = func() pki.CA {
	ca, err := pki.NewCA("test-internal-ca", time.Now(), time.Hour)
	if err != nil {
		panic(err)
	}
	return ca
}()

// internalCA returns the test CA's bundle for the internal CA's key, which
// the renderer reads as a CA.
func internalCA(secret, key string) (string, bool) {
	if secret == catalog.InternalTLSSecret && key == catalog.KeyInternalCA {
		return string(testCA.Bundle()), true
	}
	return "", false
}

// TestInternalTLSRendered renders examples/full.yaml, which turns TLS
// inside the cloud on, and checks what the option promises: the uWSGI
// APIs of Keystone's catalog serve HTTPS with their own certificate only,
// probed with HTTPS and reached by the ingress with HTTPS; their internal
// endpoints are https; the others stay HTTP; every pod of a service has
// the CA's certificate, and the ConfigMap holds no key. examples/minimal.yaml,
// with the option off, renders none of it.
func TestInternalTLSRendered(t *testing.T) {
	res := renderExample(t, "full", recorder{})
	files := func(secret string) map[string]string {
		out := map[string]string{}
		for k, v := range find(res.Objects, "Secret/"+secret).(*corev1.Secret).Data {
			out[k] = string(v)
		}
		return out
	}
	ini := files("keystone-etc")["keystone-api-uwsgi.ini"]
	if !strings.Contains(ini, "https-socket = 0.0.0.0:5000,"+catalog.InternalTLSFile+","+catalog.InternalTLSFile) || strings.Contains(ini, "http11-socket") {
		t.Errorf("keystone's uWSGI does not serve HTTPS only:\n%s", ini)
	}
	d := find(res.Objects, "Deployment/keystone-api").(*appsv1.Deployment)
	var items []corev1.KeyToPath
	for _, v := range d.Spec.Template.Spec.Volumes {
		if v.Secret != nil && v.Secret.SecretName == catalog.InternalTLSSecret {
			items = v.Secret.Items
		}
	}
	if len(items) != 1 || items[0].Key != catalog.CertificateKey("keystone-api.openstack.svc.cluster.local") {
		t.Errorf("keystone-api mounts %+v of %s; want its own certificate only", items, catalog.InternalTLSSecret)
	}
	ctr := d.Spec.Template.Spec.Containers[0]
	if ctr.ReadinessProbe.HTTPGet.Scheme != corev1.URISchemeHTTPS || ctr.LivenessProbe.HTTPGet.Scheme != corev1.URISchemeHTTPS {
		t.Error("keystone-api's probes do not speak HTTPS")
	}
	if ing := find(res.Objects, "Ingress/keystone").(*networkingv1.Ingress); ing.Annotations[render.AnnotationBackendProtocol] != "HTTPS" {
		t.Error("the ingress reaches keystone with plain HTTP")
	}
	if ing := find(res.Objects, "Ingress/glance").(*networkingv1.Ingress); ing.Annotations[render.AnnotationBackendProtocol] != "" {
		t.Error("the ingress reaches glance (eventlet, plain HTTP) with HTTPS")
	}
	nova := files("nova-etc")["nova.conf"]
	for _, want := range []string{
		"auth_url = https://keystone-api.openstack.svc.cluster.local:5000",
		"cafile = " + catalog.InternalCAFile,
		"endpoint_override = http://glance-api.openstack.svc.cluster.local:9292",
	} {
		if !strings.Contains(nova, want) {
			t.Errorf("nova.conf lacks %q", want)
		}
	}
	register := find(res.Objects, "Job/placement-keystone-register").(*batchv1.Job).Spec.Template.Spec.Containers[0].Command
	if !strings.Contains(strings.Join(register, " "), "https://placement-api.openstack.svc.cluster.local:8778|") {
		t.Errorf("placement's internal endpoint is not https: %v", register)
	}
	cm := find(res.Objects, "ConfigMap/"+catalog.InternalCAConfigMap).(*corev1.ConfigMap)
	if cm.Data[catalog.InternalCAKey] != string(testCA.Cert) {
		t.Errorf("ConfigMap %s holds %q; want the CA's certificate alone", cm.Name, cm.Data[catalog.InternalCAKey])
	}
	pods := 0
	for _, o := range res.Objects {
		spec := render.PodSpec(o)
		// The image pre-caching and log shipping pods reach no API.
		if spec == nil || strings.HasPrefix(o.GetName(), "image-precaching-") || strings.HasPrefix(o.GetName(), "log-shipper-") {
			continue
		}
		pods++
		for _, c := range spec.Containers {
			if !slices.ContainsFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool { return m.MountPath == catalog.InternalCADir }) {
				t.Errorf("%s/%s: container %s has no CA", o.GetObjectKind().GroupVersionKind().Kind, o.GetName(), c.Name)
			}
		}
	}
	t.Logf("%d pods, every container with osk's CA", pods)

	// With the node agents in a namespace of their own, the CA's
	// ConfigMap is there too.
	apart := load(t, "full")
	apart.Spec.Features.NodeAgents.Namespace = "openstack-agents"
	res, err := render.Render(apart, render.Options{Credentials: recorder{}})
	if err != nil {
		t.Fatal(err)
	}
	namespaces := map[string]bool{}
	for _, o := range res.Objects {
		if o.GetName() == catalog.InternalCAConfigMap {
			namespaces[o.GetNamespace()] = true
		}
	}
	if !namespaces["openstack"] || !namespaces["openstack-agents"] {
		t.Errorf("ConfigMap %s is in %v; want both namespaces", catalog.InternalCAConfigMap, namespaces)
	}

	off := renderExample(t, "minimal", recorder{})
	if has(off.Objects, "ConfigMap/"+catalog.InternalCAConfigMap) {
		t.Error("minimal (TLS off) renders the internal CA")
	}
	for _, o := range off.Objects {
		if s, ok := o.(*corev1.Secret); ok && strings.Contains(fmt.Sprint(s.Data), "https-socket") {
			t.Errorf("minimal (TLS off): %s serves HTTPS", s.Name)
		}
	}
}
