package admission

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	ctrl "sigs.k8s.io/controller-runtime"
	cradmission "sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/validation"
)

// CephValidatePath is where the CephDeployment webhook is served.
const CephValidatePath = "/validate-osk-dev-v1alpha1-cephdeployment"

// +kubebuilder:webhook:path=/validate-osk-dev-v1alpha1-cephdeployment,mutating=false,failurePolicy=fail,sideEffects=None,groups=osk.dev,resources=cephdeployments,verbs=create;update,versions=v1alpha1,name=validate.cephdeployments.osk.dev,admissionReviewVersions=v1,serviceName=osk-webhook,serviceNamespace=osk-system

// SetupCeph registers the validating webhook of CephDeployments with the
// manager's webhook server.
func SetupCeph(mgr ctrl.Manager) error {
	return ctrl.NewWebhookManagedBy(mgr).For(&v1.CephDeployment{}).WithValidator(CephValidator{}).Complete()
}

// CephValidator refuses a CephDeployment that internal/validation
// refuses, with a field error for each problem.
type CephValidator struct{}

var _ cradmission.CustomValidator = CephValidator{}

// ValidateCreate refuses an invalid CephDeployment.
func (CephValidator) ValidateCreate(_ context.Context, obj runtime.Object) (cradmission.Warnings, error) {
	return nil, cephRefusal(obj)
}

// ValidateUpdate refuses an invalid new spec; a change of metadata only
// (the operator's finalizer) is always allowed, so that a CephDeployment
// stored before a rule existed can still be deleted.
func (CephValidator) ValidateUpdate(_ context.Context, oldObj, newObj runtime.Object) (cradmission.Warnings, error) {
	o, ok1 := oldObj.(*v1.CephDeployment)
	n, ok2 := newObj.(*v1.CephDeployment)
	if ok1 && ok2 && o.Generation == n.Generation && n.Generation != 0 {
		return nil, nil
	}
	return nil, cephRefusal(newObj)
}

// ValidateDelete allows every deletion: the controller's finalizer holds
// back one that would lose data.
func (CephValidator) ValidateDelete(context.Context, runtime.Object) (cradmission.Warnings, error) {
	return nil, nil
}

func cephRefusal(obj runtime.Object) error {
	d, ok := obj.(*v1.CephDeployment)
	if !ok {
		return fmt.Errorf("expected a CephDeployment, got %T", obj)
	}
	errs := validation.ValidateCephDeployment(d)
	if len(errs) == 0 {
		return nil
	}
	return apierrors.NewInvalid(v1.GroupVersion.WithKind("CephDeployment").GroupKind(), d.Name, errs)
}
