package admission

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/oskproject/osk/api/v1alpha1"
)

func deploymentAt(version string) *v1.OpenStackDeployment {
	d := &v1.OpenStackDeployment{Spec: v1.OpenStackDeploymentSpec{
		OpenStackVersion: version, Preset: v1.PresetCore, Size: v1.SizeTiny, PublicDomainName: "cloud.example.com",
	}}
	d.Name, d.Namespace = "test", "openstack"
	return d
}

func TestDefaulter(t *testing.T) {
	d := deploymentAt("caracal")
	if err := (Defaulter{}).Default(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	if d.Spec.Region != "RegionOne" || d.Spec.Features.Neutron.Backend != v1.NeutronML2OVS {
		t.Errorf("not defaulted: %+v", d.Spec)
	}
	if err := (Defaulter{}).Default(context.Background(), &corev1.Pod{}); err == nil {
		t.Error("a Pod was defaulted")
	}
}

func TestValidator(t *testing.T) {
	ctx := context.Background()
	v := Validator{}
	bad := deploymentAt("caracal")
	bad.Spec.Features.Services = []string{"bogus"}
	_, err := v.ValidateCreate(ctx, bad)
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "spec.features.services[0]") {
		t.Errorf("an invalid create: %v", err)
	}
	if _, err := v.ValidateCreate(ctx, deploymentAt("caracal")); err != nil {
		t.Errorf("a valid create: %v", err)
	}
	_, err = v.ValidateUpdate(ctx, deploymentAt("caracal"), deploymentAt("antelope"))
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "rule: no downgrade") {
		t.Errorf("a downgrade: %v", err)
	}

	// An object stored before a rule existed can still get and lose its
	// finalizer, and be deleted.
	finalized := bad.DeepCopy()
	finalized.Finalizers = []string{"osk.dev/cleanup"}
	finalized.DeletionTimestamp = &metav1.Time{Time: time.Now()}
	if err := (Defaulter{}).Default(ctx, finalized); err != nil {
		t.Fatal(err)
	}
	if _, err := v.ValidateUpdate(ctx, bad, finalized); err != nil {
		t.Errorf("a metadata-only update of an invalid, undefaulted deployment: %v", err)
	}
	if _, err := v.ValidateDelete(ctx, bad); err != nil {
		t.Errorf("a delete: %v", err)
	}
}
