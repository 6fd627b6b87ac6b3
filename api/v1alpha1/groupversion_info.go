// Package v1alpha1 holds osk's API: the OpenStackDeployment kind that
// describes a whole OpenStack cloud, and the HelmBundle kind that keeps a
// group of Helm releases installed.
//
// +kubebuilder:object:generate=true
// +groupName=osk.dev
package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is the API group and version of osk's kinds.
	GroupVersion = schema.GroupVersion{Group: "osk.dev", Version: "v1alpha1"}

	// SchemeBuilder registers osk's kinds with a runtime.Scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}

	// AddToScheme adds osk's kinds to a runtime.Scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)
