package operator

import "testing"

// TestVerbResource checks how requests are named, as RBAC names them.
func TestVerbResource(t *testing.T) {
	for _, c := range []struct {
		method, path   string
		watch          bool
		verb, resource string
	}{
		{"GET", "/api/v1/namespaces/ns/pods", false, "list", "pods"},
		{"GET", "/api/v1/namespaces/ns/pods", true, "watch", "pods"},
		{"GET", "/api/v1/namespaces/ns/secrets/keys", false, "get", "secrets"},
		{"GET", "/api/v1/nodes", false, "list", "nodes"},
		{"GET", "/api/v1/namespaces/ns", false, "get", "namespaces"},
		{"PATCH", "/apis/apps/v1/namespaces/ns/deployments/keystone-api", false, "patch", "deployments"},
		{"PATCH", "/apis/osk.dev/v1alpha1/namespaces/ns/openstackdeployments/c/status", false, "patch", "openstackdeployments/status"},
		{"POST", "/apis/batch/v1/namespaces/ns/jobs", false, "create", "jobs"},
		{"PUT", "/apis/coordination.k8s.io/v1/namespaces/ns/leases/osk", false, "update", "leases"},
		{"DELETE", "/apis/batch/v1/namespaces/ns/jobs/db-sync", false, "delete", "jobs"},
		{"DELETE", "/api/v1/namespaces/ns/pods", false, "deletecollection", "pods"},
		{"GET", "/apis", false, "get", "other"},
		{"GET", "/healthz", false, "get", "other"},
	} {
		verb, resource := verbResource(c.method, c.path, c.watch)
		if verb != c.verb || resource != c.resource {
			t.Errorf("%s %s (watch %v) = %s %s, want %s %s", c.method, c.path, c.watch, verb, resource, c.verb, c.resource)
		}
	}
}
