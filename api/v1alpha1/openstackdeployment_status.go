package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// DeploymentState is the overall state of a deployment.
// +kubebuilder:validation:Enum=APPLYING;APPLIED;FAILED
type DeploymentState string

const (
	// StateApplying means osk is making the cluster match the spec.
	StateApplying DeploymentState = "APPLYING"
	// StateApplied means the cluster matches the spec and every step is
	// ready.
	StateApplied DeploymentState = "APPLIED"
	// StateFailed means osk cannot go on without a change; the conditions
	// say why.
	StateFailed DeploymentState = "FAILED"
)

// ServiceState is the state of one service.
// +kubebuilder:validation:Enum=Waiting;Applying;Ready;Failed
type ServiceState string

// Service states.
const (
	ServiceWaiting  ServiceState = "Waiting"
	ServiceApplying ServiceState = "Applying"
	ServiceReady    ServiceState = "Ready"
	ServiceFailed   ServiceState = "Failed"
)

// Condition types of an OpenStackDeployment.
const (
	// ConditionReady is true when the deployment is APPLIED and healthy.
	ConditionReady = "Ready"
	// ConditionSpecValid is false when the spec breaks a rule; its message
	// names the field.
	ConditionSpecValid = "SpecValid"
	// ConditionUpgrading is true while a release upgrade runs; its message
	// names the service and step, or the Job that failed. Once the upgrade
	// completes it is false with reason Completed.
	ConditionUpgrading = "Upgrading"
)

// OpenStackDeploymentStatus is what osk observed the last time it
// reconciled the deployment.
type OpenStackDeploymentStatus struct {
	// ObservedGeneration is the spec generation this status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// State is the overall state.
	// +optional
	State DeploymentState `json:"state,omitempty"`

	// Progress is "ready steps/all steps" of the current apply.
	// +optional
	Progress string `json:"progress,omitempty"`

	// Health is "healthy components/all components".
	// +optional
	Health string `json:"health,omitempty"`

	// DeployedVersion is the OpenStack release that fully runs.
	// +optional
	DeployedVersion string `json:"deployedVersion,omitempty"`

	// Fingerprint is a hash of the spec the cluster last matched.
	// +optional
	Fingerprint string `json:"fingerprint,omitempty"`

	// Upgrade is the progress of the release upgrade that runs, while one
	// does: from status.deployedVersion to spec.openstackVersion.
	// +optional
	Upgrade *UpgradeStatus `json:"upgrade,omitempty"`

	// Services is the state of each enabled service, by catalog name.
	// +optional
	Services map[string]ServiceStatus `json:"services,omitempty"`

	// Tempest is the outcome of the latest acceptance run of Tempest, when
	// the tempest service is enabled and its Job has finished.
	// +optional
	Tempest *TempestResult `json:"tempest,omitempty"`

	// Conditions are the latest observations of the deployment's state.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// ServiceStatus is the state of one service.
type ServiceStatus struct {
	// State of the service.
	State ServiceState `json:"state"`

	// Ready is how many of the service's components are ready.
	Ready int32 `json:"ready"`

	// Total is how many components the service has.
	Total int32 `json:"total"`

	// Message says what the service is waiting for or why it failed.
	// +optional
	Message string `json:"message,omitempty"`
}

// TempestResult sums up one run of Tempest: what osk's tempest Job
// reports when it ends (its container's termination message), with the
// full results (subunit and JUnit XML) on the Job's volume.
type TempestResult struct {
	// Result is Passed when no test failed, Failed otherwise.
	// +kubebuilder:validation:Enum=Passed;Failed
	Result TempestVerdict `json:"result"`

	// Passed, Failed and Skipped count the tests of the run.
	Passed  int32 `json:"passed"`
	Failed  int32 `json:"failed"`
	Skipped int32 `json:"skipped"`

	// Finished is when the run ended.
	Finished metav1.Time `json:"finished"`

	// FailedTests names some of the failed tests (at most ten).
	// +optional
	FailedTests []string `json:"failedTests,omitempty"`

	// Results is where the run's files are on the Job's volume: the
	// subunit stream and the JUnit XML.
	// +optional
	Results string `json:"results,omitempty"`
}

// TempestMaxFailedTests is how many failed tests a TempestResult names at
// most, so that it fits a container's termination message (4096 bytes).
const TempestMaxFailedTests = 10

// TempestVerdict is the outcome of a Tempest run.
type TempestVerdict string

// Tempest verdicts.
const (
	TempestPassed TempestVerdict = "Passed"
	TempestFailed TempestVerdict = "Failed"
)

// UpgradeStatus is where a release upgrade stands. osk upgrades one
// service at a time, in the catalog's upgrade order; within a service it
// waits until the service is healthy, runs the database steps that must
// precede the new code, rolls the service's components, then runs the steps
// that need every component on the new release. Once every service is
// upgraded, the whole new release is applied again.
type UpgradeStatus struct {
	// From is the release the cloud ran when the upgrade began.
	From string `json:"from"`

	// To is the release it upgrades to.
	To string `json:"to"`

	// Service is the service being upgraded; empty once every service is
	// upgraded and the new release is applied again.
	Service string `json:"service,omitempty"`

	// Step is the service's step: "healthy" (waiting until the service is
	// healthy before it starts), the name of a database step (for example
	// "expand", "db-sync", "contract", "online-data-migrations"), "roll",
	// "restart" (cinder rolls once more after its last step); or "reapply"
	// once every service is upgraded.
	Step string `json:"step"`

	// Since is when osk saw the service enter this step.
	Since metav1.Time `json:"since"`

	// Completed lists the services already upgraded, in order.
	// +optional
	Completed []string `json:"completed,omitempty"`
}

// OpenStackDeployment describes a whole OpenStack cloud: its release, its
// services and how they are tuned. osk turns it into the workloads that
// run the cloud's control plane and keeps them healthy.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=osdpl,categories=osk
// +kubebuilder:printcolumn:name="Version",type=string,JSONPath=`.spec.openstackVersion`
// +kubebuilder:printcolumn:name="Deployed",type=string,JSONPath=`.status.deployedVersion`
// +kubebuilder:printcolumn:name="State",type=string,JSONPath=`.status.state`
// +kubebuilder:printcolumn:name="Progress",type=string,JSONPath=`.status.progress`
// +kubebuilder:printcolumn:name="Health",type=string,JSONPath=`.status.health`
// +kubebuilder:printcolumn:name="Upgrading",type=string,JSONPath=`.status.upgrade.service`
// +kubebuilder:printcolumn:name="Step",type=string,JSONPath=`.status.upgrade.step`
// +kubebuilder:printcolumn:name="Tempest",type=string,JSONPath=`.status.tempest.result`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type OpenStackDeployment struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the cloud osk should run.
	Spec OpenStackDeploymentSpec `json:"spec"`

	// Status is what osk observed.
	// +optional
	Status OpenStackDeploymentStatus `json:"status,omitempty"`
}

// OpenStackDeploymentList is a list of OpenStackDeployments.
//
// +kubebuilder:object:root=true
type OpenStackDeploymentList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	// Items are the deployments.
	Items []OpenStackDeployment `json:"items"`
}

func init() {
	SchemeBuilder.Register(&OpenStackDeployment{}, &OpenStackDeploymentList{})
}
