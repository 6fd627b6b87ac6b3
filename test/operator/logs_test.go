package operator_test

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/oskproject/osk/internal/render"
)

// countLogShipper counts the log shipper's ConfigMap and DaemonSets in a
// namespace.
func countLogShipper(t *testing.T, c client.Client, ns string) int {
	t.Helper()
	var ds appsv1.DaemonSetList
	if err := c.List(t.Context(), &ds, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, d := range ds.Items {
		if strings.HasPrefix(d.Name, render.LogShipper+"-") {
			n++
		}
	}
	var cm corev1.ConfigMap
	if err := c.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: render.LogShipper}, &cm); err == nil {
		n++
	} else if client.IgnoreNotFound(err) != nil {
		t.Fatal(err)
	}
	return n
}
