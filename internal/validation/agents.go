package validation

import (
	"k8s.io/apimachinery/pkg/util/validation/field"

	v1 "github.com/oskproject/osk/api/v1alpha1"
)

// validateNodeAgents checks the node agents' namespace: empty (the
// deployment's own) or a namespace name.
func validateNodeAgents(f v1.NodeAgentsFeatures, p *field.Path) field.ErrorList {
	if f.Namespace == "" {
		return nil
	}
	return dnsLabel(p.Child("namespace"), f.Namespace)
}
