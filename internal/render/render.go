// Package render turns an OpenStackDeployment into the Kubernetes objects
// that run it. Rendering is pure and deterministic: the same deployment and
// credentials give byte-identical objects.
package render

import (
	"fmt"
	"sort"
	"strings"

	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/catalog"
	"github.com/oskproject/osk/internal/cephkeys"
	"github.com/oskproject/osk/internal/defaulting"
	"github.com/oskproject/osk/internal/release"
	"github.com/oskproject/osk/internal/validation"
)

// Credentials gives the renderer the values of the deployment's
// credential Secrets, which osk generates once in the cluster.
type Credentials interface {
	// Value returns one key of one credential Secret.
	Value(secret, key string) string
}

// Placeholders stands in for credentials when rendering offline: each
// value names its Secret and key, so nothing secret is ever printed.
type Placeholders struct{}

// Value returns a placeholder naming the Secret and key.
func (Placeholders) Value(secret, key string) string {
	return "OSK_PLACEHOLDER_" + secret + "_" + key
}

// Options tune a render.
type Options struct {
	// Credentials fills passwords into configuration files; Placeholders
	// when nil.
	Credentials Credentials
	// OskImage is the image of osk's own jobs and init containers; the
	// catalog's default when empty.
	OskImage string
	// UpgradeSteps adds the Jobs of every service's release upgrade (see
	// catalog.Upgrade), which the operator runs only while it upgrades
	// the deployment to this release.
	UpgradeSteps bool
	// Ceph is the data of the Ceph Secret (features.ceph.keysSecret, see
	// internal/cephkeys); nil renders placeholders naming its keys.
	Ceph map[string][]byte
}

// Result is what a deployment renders to.
type Result struct {
	// Objects are sorted by kind and name.
	Objects []client.Object
	// Services are the enabled catalog services, sorted.
	Services []string
	// Needs lists, for each enabled service, the services that must be
	// ready before it starts.
	Needs map[string][]string
	// Ceph lists, for each service that is a Ceph client, the keys of the
	// Ceph Secret its objects carry, sorted: the operator holds the
	// service until each is present and well-formed.
	Ceph map[string][]string
}

// Render validates a deployment and renders it. The deployment is not
// changed; defaults are applied to a copy.
func Render(d *v1.OpenStackDeployment, opts Options) (*Result, error) {
	d = d.DeepCopy()
	defaulting.Default(&d.Spec)
	if errs := validation.Validate(d); len(errs) > 0 {
		return nil, fmt.Errorf("invalid OpenStackDeployment %s/%s: %w", d.Namespace, d.Name, errs.ToAggregate())
	}
	m, err := newModel(d, opts)
	if err != nil {
		return nil, err
	}
	m.upgradeSteps = opts.UpgradeSteps
	for _, name := range m.enabled {
		m.current = name
		if err := m.renderService(m.service(name)); err != nil {
			return nil, fmt.Errorf("rendering %s: %w", name, err)
		}
	}
	if err := m.renderClouds(); err != nil {
		return nil, err
	}
	if err := m.renderInternalCA(); err != nil {
		return nil, err
	}
	m.renderIngress()
	m.renderPrecache()
	if err := m.renderMonitoring(); err != nil {
		return nil, err
	}
	m.renderLogs()
	if err := m.placeAgents(); err != nil {
		return nil, err
	}
	m.renderNetworkPolicies()
	sortObjects(m.objects)
	needs := map[string][]string{}
	for _, name := range m.enabled {
		needs[name] = m.service(name).Needs()
	}
	return &Result{Objects: m.objects, Services: m.enabled, Needs: needs, Ceph: m.cephKeys()}, nil
}

// model is one render in progress.
type model struct {
	d       *v1.OpenStackDeployment
	cat     *catalog.Catalog
	ctx     *catalog.Context
	creds   Credentials
	images  map[string]string
	enabled []string
	on      map[string]bool
	objects []client.Object
	// upgradeSteps renders the services' upgrade jobs too.
	upgradeSteps bool
	// public lists the published ports, for the ingress.
	public []publicPort
	// byRole lists the images each node role runs, for pre-caching.
	byRole map[string]map[string]bool
	// clients and servers are the pods that connect and serve, for the
	// NetworkPolicies.
	clients []netClient
	servers []netServer
	// current is the service being rendered; cephRead holds the keys of
	// the Ceph Secret each service read.
	current  string
	cephData map[string][]byte
	cephRead map[string]map[string]bool
	// tls holds the Services that serve HTTPS (see tlsServers).
	tls map[string]bool
}

func newModel(d *v1.OpenStackDeployment, opts Options) (*model, error) {
	rel, err := release.Lookup(d.Spec.OpenStackVersion)
	if err != nil {
		return nil, err
	}
	m := &model{d: d, cat: catalog.Default(), creds: opts.Credentials, byRole: map[string]map[string]bool{},
		cephData: opts.Ceph, cephRead: map[string]map[string]bool{}}
	if m.creds == nil {
		m.creds = Placeholders{}
	}
	m.images = images(d, rel, opts.OskImage)
	m.ctx = &catalog.Context{
		Spec: &d.Spec, Features: &d.Spec.Features, Release: rel.Name, Namespace: d.Namespace, Deployment: d.Name,
		Enabled: func(s string) bool { return m.on[s] },
		Ceph:    m.ceph,
		TLS:     m.servesTLS,
	}
	m.tls = m.tlsServers()
	m.on = m.cat.EnabledServices(&d.Spec, m.ctx)
	for name := range m.on {
		m.enabled = append(m.enabled, name)
	}
	sort.Strings(m.enabled)
	return m, nil
}

// images resolves every catalog image: release defaults, moved to the
// spec's registry, then the spec's per-image overrides.
func images(d *v1.OpenStackDeployment, rel release.Release, oskImage string) map[string]string {
	out := catalog.DefaultImages(rel)
	for name, ref := range out {
		out[name] = catalog.Rehome(ref, d.Spec.Images.Registry)
	}
	if oskImage != "" {
		out["osk"] = oskImage
	}
	for name, ref := range d.Spec.Images.Overrides {
		out[name] = ref
	}
	return out
}

func (m *model) service(name string) *catalog.Service {
	s, _ := m.cat.Get(name)
	return s
}

// ceph returns one key of the Ceph Secret, or offline a placeholder, and
// notes that the service being rendered reads it.
func (m *model) ceph(key string) string {
	if m.cephRead[m.current] == nil {
		m.cephRead[m.current] = map[string]bool{}
	}
	m.cephRead[m.current][key] = true
	if m.cephData == nil {
		return cephkeys.Placeholder(m.d.Spec.Features.Ceph.KeysSecret, key)
	}
	return strings.TrimSpace(string(m.cephData[key]))
}

// cephKeys lists the keys of the Ceph Secret each service read.
func (m *model) cephKeys() map[string][]string {
	out := map[string][]string{}
	for svc, keys := range m.cephRead {
		out[svc] = sortedKeys(keys)
	}
	return out
}
