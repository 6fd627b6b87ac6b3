// Package admission is osk's admission webhook for OpenStackDeployments:
// it defaults every created or changed deployment as the renderer does,
// and refuses what `osk validate` refuses plus the changes the transition
// rules forbid (internal/validation.ValidateUpdate). It also keeps the
// webhook's serving certificate (cert.go).
package admission

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	ctrl "sigs.k8s.io/controller-runtime"
	cradmission "sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/defaulting"
	"github.com/oskproject/osk/internal/validation"
)

// The webhook configurations and the Service config/webhook installs;
// the markers generate config/webhook/manifests.yaml.
const (
	// MutatingConfigName is the MutatingWebhookConfiguration whose
	// caBundle osk keeps.
	MutatingConfigName = "osk-mutating-webhook"
	// ValidatingConfigName is the ValidatingWebhookConfiguration whose
	// caBundle osk keeps.
	ValidatingConfigName = "osk-validating-webhook"
	// ServiceName is the Service in front of the operator's webhook port.
	ServiceName = "osk-webhook"
	// MutatePath and ValidatePath are where the webhooks are served, as
	// controller-runtime derives them from the kind.
	MutatePath   = "/mutate-osk-dev-v1alpha1-openstackdeployment"
	ValidatePath = "/validate-osk-dev-v1alpha1-openstackdeployment"
)

// +kubebuilder:webhookconfiguration:mutating=true,name=osk-mutating-webhook
// +kubebuilder:webhookconfiguration:mutating=false,name=osk-validating-webhook
// +kubebuilder:webhook:path=/mutate-osk-dev-v1alpha1-openstackdeployment,mutating=true,failurePolicy=fail,sideEffects=None,groups=osk.dev,resources=openstackdeployments,verbs=create;update,versions=v1alpha1,name=default.openstackdeployments.osk.dev,admissionReviewVersions=v1,serviceName=osk-webhook,serviceNamespace=osk-system
// +kubebuilder:webhook:path=/validate-osk-dev-v1alpha1-openstackdeployment,mutating=false,failurePolicy=fail,sideEffects=None,groups=osk.dev,resources=openstackdeployments,verbs=create;update,versions=v1alpha1,name=validate.openstackdeployments.osk.dev,admissionReviewVersions=v1,serviceName=osk-webhook,serviceNamespace=osk-system

// Setup registers the defaulting and validating webhooks of
// OpenStackDeployments with the manager's webhook server.
func Setup(mgr ctrl.Manager) error {
	return ctrl.NewWebhookManagedBy(mgr).For(&v1.OpenStackDeployment{}).
		WithDefaulter(Defaulter{}).WithValidator(Validator{}).Complete()
}

// Defaulter fills in a deployment's defaults (internal/defaulting), so
// that what is stored is what is rendered.
type Defaulter struct{}

var _ cradmission.CustomDefaulter = Defaulter{}

// Default defaults the spec of obj in place.
func (Defaulter) Default(_ context.Context, obj runtime.Object) error {
	d, err := deployment(obj)
	if err != nil {
		return err
	}
	defaulting.Default(&d.Spec)
	return nil
}

// Validator refuses an invalid deployment and a forbidden change.
type Validator struct{}

var _ cradmission.CustomValidator = Validator{}

// ValidateCreate refuses what `osk validate` refuses.
func (Validator) ValidateCreate(_ context.Context, obj runtime.Object) (cradmission.Warnings, error) {
	d, err := deployment(obj)
	if err != nil {
		return nil, err
	}
	return nil, refusal(d, validation.Validate(defaulted(d)))
}

// ValidateUpdate refuses an invalid new spec and a change the transition
// rules forbid. A change that leaves the defaulted spec as it was
// (metadata, such as the operator's finalizer) is always allowed: a
// deployment stored before a rule existed can still be finalized and
// deleted.
func (Validator) ValidateUpdate(_ context.Context, oldObj, newObj runtime.Object) (cradmission.Warnings, error) {
	old, err := deployment(oldObj)
	if err != nil {
		return nil, err
	}
	d, err := deployment(newObj)
	if err != nil {
		return nil, err
	}
	nd := defaulted(d)
	if equality.Semantic.DeepEqual(defaulted(old).Spec, nd.Spec) {
		return nil, nil
	}
	errs := validation.Validate(nd)
	errs = append(errs, validation.ValidateUpdate(old, nd)...)
	return nil, refusal(d, errs)
}

// ValidateDelete allows every deletion.
func (Validator) ValidateDelete(context.Context, runtime.Object) (cradmission.Warnings, error) {
	return nil, nil
}

// defaulted returns a defaulted copy of d: the mutating webhook has
// defaulted it already, unless it was left out of the installation.
func defaulted(d *v1.OpenStackDeployment) *v1.OpenStackDeployment {
	d = d.DeepCopy()
	defaulting.Default(&d.Spec)
	return d
}

// refusal turns the problems into the Invalid status the API server
// returns, which lists each field and rule; nil when there are none.
func refusal(d *v1.OpenStackDeployment, errs field.ErrorList) error {
	if len(errs) == 0 {
		return nil
	}
	return apierrors.NewInvalid(v1.GroupVersion.WithKind("OpenStackDeployment").GroupKind(), d.Name, errs)
}

func deployment(obj runtime.Object) (*v1.OpenStackDeployment, error) {
	d, ok := obj.(*v1.OpenStackDeployment)
	if !ok {
		return nil, fmt.Errorf("expected an OpenStackDeployment, got %T", obj)
	}
	return d, nil
}
