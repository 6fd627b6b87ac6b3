package helm

import (
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// clients is what Helm needs to reach the cluster: its own clients from a
// REST config, never a controller's filtered cache, with one discovery
// cache shared by every release.
type clients struct {
	config *rest.Config
	disc   discovery.CachedDiscoveryInterface
	mapper *restmapper.DeferredDiscoveryRESTMapper
}

func newClients(config *rest.Config) (*clients, error) {
	dc, err := discovery.NewDiscoveryClientForConfig(config)
	if err != nil {
		return nil, err
	}
	disc := memory.NewMemCacheClient(dc)
	return &clients{config: config, disc: disc, mapper: restmapper.NewDeferredDiscoveryRESTMapper(disc)}, nil
}

// as returns clients acting as user (impersonated), sharing the discovery
// cache; an empty user keeps the config's own identity.
func (c *clients) as(user string) *clients {
	if user == "" {
		return c
	}
	config := rest.CopyConfig(c.config)
	config.Impersonate = rest.ImpersonationConfig{UserName: user}
	return &clients{config: config, disc: c.disc, mapper: c.mapper}
}

// ServiceAccountUser returns the user name of a ServiceAccount, or ""
// when name is empty.
func ServiceAccountUser(namespace, name string) string {
	if name == "" {
		return ""
	}
	return "system:serviceaccount:" + namespace + ":" + name
}

// getter is a genericclioptions.RESTClientGetter for one namespace.
type getter struct {
	*clients
	namespace string
}

// ToRESTConfig returns a copy of the REST config.
func (g getter) ToRESTConfig() (*rest.Config, error) { return rest.CopyConfig(g.config), nil }

// ToDiscoveryClient returns the shared discovery cache.
func (g getter) ToDiscoveryClient() (discovery.CachedDiscoveryInterface, error) { return g.disc, nil }

// ToRESTMapper returns the shared REST mapper.
func (g getter) ToRESTMapper() (meta.RESTMapper, error) { return g.mapper, nil }

// ToRawKubeConfigLoader returns a loader whose namespace is the getter's.
func (g getter) ToRawKubeConfigLoader() clientcmd.ClientConfig {
	return clientcmd.NewDefaultClientConfig(*clientcmdapi.NewConfig(),
		&clientcmd.ConfigOverrides{Context: clientcmdapi.Context{Namespace: g.namespace}})
}
