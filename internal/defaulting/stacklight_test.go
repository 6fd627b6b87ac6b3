package defaulting_test

import (
	"testing"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/defaulting"
)

// TestStackLightDefaultsOnlyWhenOn: a deployment without StackLight
// stores none of its settings; with it on, every unset one is filled and a
// set one kept.
func TestStackLightDefaultsOnlyWhenOn(t *testing.T) {
	var off v1.OpenStackDeploymentSpec
	defaulting.Default(&off)
	if l := off.Features.StackLight; l.Namespace != "" || l.Labels != nil || l.Thresholds != (v1.StackLightThresholds{}) {
		t.Fatalf("StackLight off got defaults: %+v", l)
	}
	var on v1.OpenStackDeploymentSpec
	on.Features.StackLight = v1.StackLightFeatures{Enabled: true, Thresholds: v1.StackLightThresholds{BackupMaxAgeHours: 200}}
	defaulting.Default(&on)
	l := on.Features.StackLight
	if l.Namespace != "stacklight" || l.Labels["release"] != "stacklight" {
		t.Errorf("namespace %q labels %v, want stacklight and release=stacklight", l.Namespace, l.Labels)
	}
	if th := l.Thresholds; th.BackupMaxAgeHours != 200 || th.CertificateWarningDays != 30 || th.CertificateCriticalDays != 7 || th.API5xxPercent != 5 {
		t.Errorf("thresholds %+v: want the set 200 kept and 30/7/5 defaulted", th)
	}
}
