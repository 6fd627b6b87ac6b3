package operator

import (
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// apiRequests counts every request osk sends to the API server, by verb
// (get, list, watch, create, update, patch, delete, deletecollection) and
// resource: what a pass costs the API server, watches and cache fills
// included.
var apiRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "osk_api_requests_total", Help: "Requests osk sent to the API server, by verb and resource.",
}, []string{"verb", "resource"})

func init() { metrics.Registry.MustRegister(apiRequests) }

// countRequests makes config's clients count their requests in
// osk_api_requests_total.
func countRequests(config *rest.Config) *rest.Config {
	config = rest.CopyConfig(config)
	config.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(req *http.Request) (*http.Response, error) {
			verb, resource := verbResource(req.Method, req.URL.Path, req.URL.Query().Get("watch") == "true")
			apiRequests.WithLabelValues(verb, resource).Inc()
			return rt.RoundTrip(req)
		})
	})
	return config
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// verbResource names a request to the API server as RBAC would: the verb
// and the resource ("deployments", "deployments/status"), from its method
// and path (/api/v1/..., /apis/<group>/<version>/..., optionally under
// namespaces/<namespace>/). Other paths (discovery, /healthz) are
// "other".
func verbResource(method, path string, watch bool) (verb, resource string) {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case len(parts) >= 3 && parts[0] == "api":
		parts = parts[2:]
	case len(parts) >= 4 && parts[0] == "apis":
		parts = parts[3:]
	default:
		return strings.ToLower(method), "other"
	}
	if len(parts) >= 3 && parts[0] == "namespaces" {
		parts = parts[2:]
	}
	resource = parts[0]
	named := len(parts) >= 2
	if len(parts) >= 3 {
		resource += "/" + parts[2]
	}
	switch method {
	case http.MethodGet:
		switch {
		case watch:
			verb = "watch"
		case named:
			verb = "get"
		default:
			verb = "list"
		}
	case http.MethodPost:
		verb = "create"
	case http.MethodPut:
		verb = "update"
	case http.MethodPatch:
		verb = "patch"
	case http.MethodDelete:
		verb = "delete"
		if !named {
			verb = "deletecollection"
		}
	default:
		verb = strings.ToLower(method)
	}
	return verb, resource
}
