package controllers

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/oskproject/osk/internal/render"
)

// TestRenderKey checks that the key of a rendering changes with every
// input it depends on, and not with the order Secrets are listed in.
func TestRenderKey(t *testing.T) {
	secret := func(name, rv string) corev1.Secret {
		return corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, ResourceVersion: rv}}
	}
	base := renderKey(3, "caracal", render.Options{}, []corev1.Secret{secret("a", "1"), secret("b", "2")})
	if got := renderKey(3, "caracal", render.Options{}, []corev1.Secret{secret("b", "2"), secret("a", "1")}); got != base {
		t.Errorf("the Secrets' order changed the key: %s, %s", base, got)
	}
	for what, key := range map[string]string{
		"generation":       renderKey(4, "caracal", render.Options{}, []corev1.Secret{secret("a", "1"), secret("b", "2")}),
		"release":          renderKey(3, "epoxy", render.Options{}, []corev1.Secret{secret("a", "1"), secret("b", "2")}),
		"upgrade steps":    renderKey(3, "caracal", render.Options{UpgradeSteps: true}, []corev1.Secret{secret("a", "1"), secret("b", "2")}),
		"osk image":        renderKey(3, "caracal", render.Options{OskImage: "x:1"}, []corev1.Secret{secret("a", "1"), secret("b", "2")}),
		"a Secret changed": renderKey(3, "caracal", render.Options{}, []corev1.Secret{secret("a", "1"), secret("b", "3")}),
		"a Secret added":   renderKey(3, "caracal", render.Options{}, []corev1.Secret{secret("a", "1"), secret("b", "2"), secret("c", "1")}),
		"a Ceph key":       renderKey(3, "caracal", render.Options{Ceph: map[string][]byte{"client.cinder.key": []byte("k2")}}, []corev1.Secret{secret("a", "1"), secret("b", "2")}),
	} {
		if key == base {
			t.Errorf("a changed %s kept the key %s", what, key)
		}
	}
}

// TestRenderCache checks that a rendering is found by its role and key
// only, replaced by the next one of its role, and forgotten with its
// deployment.
func TestRenderCache(t *testing.T) {
	var c renderCache
	a, b := &render.Result{}, &render.Result{}
	c.put("uid", "target", "k1", a)
	c.put("uid", "running", "k1", b)
	if c.get("uid", "target", "k1") != a || c.get("uid", "running", "k1") != b {
		t.Error("a kept rendering was not found by its role")
	}
	if c.get("uid", "target", "k2") != nil || c.get("other", "target", "k1") != nil {
		t.Error("a rendering was found under another key or deployment")
	}
	c.put("uid", "target", "k2", b)
	if c.get("uid", "target", "k1") != nil || c.get("uid", "target", "k2") != b {
		t.Error("the next rendering of a role did not replace the last")
	}
	c.forget("uid")
	if c.get("uid", "running", "k1") != nil {
		t.Error("a forgotten deployment's rendering was found")
	}
}
