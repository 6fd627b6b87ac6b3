package v1alpha1

import (
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// HelmBundleSpec lists the chart repositories and the Helm releases osk
// keeps installed, upgraded and in sync with this bundle.
type HelmBundleSpec struct {
	// Repositories are the places charts come from, referred to by name
	// from each release's chart.
	// +listType=map
	// +listMapKey=name
	// +optional
	Repositories []HelmRepository `json:"repositories,omitempty"`

	// Releases are the Helm releases of the bundle. A release removed from
	// this list is uninstalled; deleting the bundle uninstalls every
	// release, dependents first.
	// +listType=map
	// +listMapKey=name
	// +optional
	Releases []HelmRelease `json:"releases,omitempty"`

	// ServiceAccountName names a ServiceAccount of the bundle's namespace
	// whose rights Helm uses to install, upgrade, check and remove the
	// releases: osk impersonates it. Empty means osk's own rights, which
	// cover only the kinds osk itself manages (workloads, Jobs, Services,
	// Secrets, ConfigMaps, RBAC, Ingresses, PodDisruptionBudgets).
	// +optional
	ServiceAccountName string `json:"serviceAccountName,omitempty"`

	// Interval is how often the releases are checked again, whatever
	// happened, so that objects changed or deleted by hand are put back.
	// Defaults to 10m.
	// +optional
	Interval *metav1.Duration `json:"interval,omitempty"`
}

// HelmRepository is a chart repository: an HTTP(S) chart repository
// serving index.yaml, or an OCI registry (a URL starting with oci://).
type HelmRepository struct {
	// Name is how releases refer to the repository.
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`

	// URL is the repository's address: https://charts.example.com/stable
	// for a chart repository, oci://registry.example.com/charts for an OCI
	// registry (the chart's name is appended to it).
	// +kubebuilder:validation:Pattern=`^(https?|oci)://`
	URL string `json:"url"`

	// CredentialsSecret names a Secret in the bundle's namespace holding
	// the keys "username" and "password" used to authenticate to the
	// repository.
	// +optional
	CredentialsSecret string `json:"credentialsSecret,omitempty"`

	// CASecret names a Secret in the bundle's namespace whose key "ca.crt"
	// holds the PEM certificates that sign the repository's TLS
	// certificate.
	// +optional
	CASecret string `json:"caSecret,omitempty"`

	// PlainHTTP talks to an OCI registry over plain HTTP instead of HTTPS.
	// For development registries only.
	// +optional
	PlainHTTP bool `json:"plainHTTP,omitempty"`
}

// FailurePolicy says what osk does when an install or upgrade fails.
// +kubebuilder:validation:Enum=Rollback;Stay
type FailurePolicy string

const (
	// FailureRollback rolls a failed upgrade back to the last good
	// revision and uninstalls a failed first install.
	FailureRollback FailurePolicy = "Rollback"
	// FailureStay leaves the failed release as it is, for inspection.
	FailureStay FailurePolicy = "Stay"
)

// ValuesSource names a key of a Secret or ConfigMap in the bundle's
// namespace holding Helm values in YAML.
type ValuesSource struct {
	// Kind is Secret or ConfigMap.
	// +kubebuilder:validation:Enum=Secret;ConfigMap
	Kind string `json:"kind"`

	// Name is the Secret's or ConfigMap's name.
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`

	// Key holds the values. Defaults to values.yaml.
	// +optional
	Key string `json:"key,omitempty"`

	// Optional lets the release proceed when the object or key is missing.
	// +optional
	Optional bool `json:"optional,omitempty"`
}

// HelmRelease is one Helm release of a bundle.
type HelmRelease struct {
	// Name is the Helm release name, unique in the bundle.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=53
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Name string `json:"name"`

	// Chart is "<repository>/<chart>": the name of one of the bundle's
	// repositories and the chart's name in it.
	// +kubebuilder:validation:Pattern=`^[^/]+/.+$`
	Chart string `json:"chart"`

	// Version is an exact chart version ("1.2.3") or a semantic version
	// range (">=1.2.0 <2.0.0", "~1.2"); the highest matching version is
	// installed. Empty means the latest stable version.
	// +optional
	Version string `json:"version,omitempty"`

	// Namespace is where the release and its objects live. Defaults to the
	// bundle's namespace; another namespace is created when missing, which
	// needs the right to create namespaces.
	// +optional
	Namespace string `json:"namespace,omitempty"`

	// Values are Helm values, merged over ValuesFrom.
	// +kubebuilder:pruning:PreserveUnknownFields
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:validation:Type=object
	// +optional
	Values *apiextensionsv1.JSON `json:"values,omitempty"`

	// ValuesFrom are Helm values read from Secrets and ConfigMaps, merged
	// in order, each over the ones before. A change to them is picked up
	// at the bundle's next interval.
	// +optional
	ValuesFrom []ValuesSource `json:"valuesFrom,omitempty"`

	// DependsOn names releases of the bundle that must be in sync before
	// this one is installed or upgraded; this one is uninstalled before
	// them.
	// +optional
	DependsOn []string `json:"dependsOn,omitempty"`

	// Wait makes an install or upgrade succeed only once its workloads
	// are ready and its Jobs have completed.
	// +optional
	Wait bool `json:"wait,omitempty"`

	// Timeout bounds each Helm operation (and its wait). Defaults to 5m.
	// +optional
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// OnFailure says what to do when an install or upgrade fails:
	// Rollback (the default) or Stay. A failed version of the release is
	// not tried again until the release's spec changes.
	// +optional
	OnFailure FailurePolicy `json:"onFailure,omitempty"`
}

// ReleaseState is where a release of a bundle stands.
type ReleaseState string

const (
	// ReleaseInSync means the release runs the wanted chart and values and
	// its objects are as Helm left them.
	ReleaseInSync ReleaseState = "InSync"
	// ReleaseProgressing means osk is acting on the release.
	ReleaseProgressing ReleaseState = "Progressing"
	// ReleaseWaiting means the release waits for the releases it depends on.
	ReleaseWaiting ReleaseState = "Waiting"
	// ReleaseFailed means the last install or upgrade failed; LastError
	// says why and Message what osk did about it.
	ReleaseFailed ReleaseState = "Failed"
)

// HelmReleaseStatus is what osk observed of one release.
type HelmReleaseStatus struct {
	// Name is the release's name.
	Name string `json:"name"`
	// Namespace is the release's namespace.
	Namespace string `json:"namespace"`
	// Chart is the chart's name.
	// +optional
	Chart string `json:"chart,omitempty"`
	// ChartVersion is the chart version of the release's current revision.
	// +optional
	ChartVersion string `json:"chartVersion,omitempty"`
	// Revision is the release's current Helm revision.
	// +optional
	Revision int `json:"revision,omitempty"`
	// State is where the release stands.
	// +optional
	State ReleaseState `json:"state,omitempty"`
	// Message says what osk last did or waits for.
	// +optional
	Message string `json:"message,omitempty"`
	// LastError is the last install or upgrade error.
	// +optional
	LastError string `json:"lastError,omitempty"`
	// FailedDigest identifies the chart and values whose install or
	// upgrade failed; they are not tried again.
	// +optional
	FailedDigest string `json:"failedDigest,omitempty"`
	// Conditions are the release's conditions (Ready).
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// HelmBundleStatus is what osk observed of the bundle.
type HelmBundleStatus struct {
	// ObservedGeneration is the generation of the spec the last successful
	// pass acted on.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Releases are the releases osk installed, in install order.
	// +optional
	Releases []HelmReleaseStatus `json:"releases,omitempty"`
	// Conditions are Ready (every release in sync) and SpecValid.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// HelmBundle is a group of Helm releases osk installs in dependency order,
// keeps in sync (hand-made changes are put back) and uninstalls.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=hb
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type HelmBundle struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   HelmBundleSpec   `json:"spec,omitempty"`
	Status HelmBundleStatus `json:"status,omitempty"`
}

// HelmBundleList is a list of HelmBundles.
// +kubebuilder:object:root=true
type HelmBundleList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []HelmBundle `json:"items"`
}

func init() {
	SchemeBuilder.Register(&HelmBundle{}, &HelmBundleList{})
}
