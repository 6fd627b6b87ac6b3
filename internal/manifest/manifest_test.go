package manifest

import (
	"strings"
	"testing"
)

func TestParseIsStrictAndNamesTheField(t *testing.T) {
	_, err := Parse([]byte("apiVersion: osk.dev/v1alpha1\nkind: OpenStackDeployment\nmetadata: {name: x}\nspec:\n  presett: core\n"))
	if err == nil || !strings.Contains(err.Error(), "presett") {
		t.Fatalf("Parse accepted a misspelt field or did not name it: %v", err)
	}
}

func TestParseDefaultsNamespaceAndChecksKind(t *testing.T) {
	d, err := Parse([]byte("apiVersion: osk.dev/v1alpha1\nkind: OpenStackDeployment\nmetadata: {name: x}\nspec: {preset: core}\n"))
	if err != nil || d.Namespace != DefaultNamespace {
		t.Fatalf("Parse = %v, %v", d, err)
	}
	if _, err := Parse([]byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")); err == nil {
		t.Fatal("Parse accepted a ConfigMap")
	}
}
