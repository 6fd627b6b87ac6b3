package ceph

import (
	"maps"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	v1 "github.com/oskproject/osk/api/v1alpha1"
)

// Health reads Ceph's health, its failing checks (sorted by name) and the
// raw capacity from a CephCluster's status (status.ceph); empty until
// Rook has reported them.
func Health(c *unstructured.Unstructured) (v1.CephHealth, []v1.CephHealthCheck, *v1.CephCapacity) {
	if c == nil {
		return "", nil, nil
	}
	health, _, _ := unstructured.NestedString(c.Object, "status", "ceph", "health")
	details, _, _ := unstructured.NestedMap(c.Object, "status", "ceph", "details")
	var checks []v1.CephHealthCheck
	for _, name := range slices.Sorted(maps.Keys(details)) {
		d, _ := details[name].(map[string]any)
		sev, _ := d["severity"].(string)
		msg, _ := d["message"].(string)
		checks = append(checks, v1.CephHealthCheck{Name: name, Severity: v1.CephHealth(sev), Message: msg})
	}
	return v1.CephHealth(health), checks, capacity(c)
}

func capacity(c *unstructured.Unstructured) *v1.CephCapacity {
	m, ok, _ := unstructured.NestedMap(c.Object, "status", "ceph", "capacity")
	if !ok {
		return nil
	}
	return &v1.CephCapacity{
		TotalBytes: number(m["bytesTotal"]), UsedBytes: number(m["bytesUsed"]), AvailableBytes: number(m["bytesAvailable"]),
	}
}

// number reads a JSON number as decoded from the API server.
func number(v any) int64 {
	switch n := v.(type) {
	case int64:
		return n
	case float64:
		return int64(n)
	}
	return 0
}

// Created says whether Rook has made a CephBlockPool's pool in Ceph: it
// reported the pool's ID or the pool ready once. Rook reports no usage
// per pool, so from then on osk counts the pool as holding data.
func Created(p *unstructured.Unstructured) bool {
	id, _, _ := unstructured.NestedFieldNoCopy(p.Object, "status", "poolID")
	phase, _, _ := unstructured.NestedString(p.Object, "status", "phase")
	return number(id) > 0 || phase == PhaseReady
}

// PoolStates is the state of each pool, as Rook reports it, sorted by
// name.
func PoolStates(pools []*unstructured.Unstructured) []v1.CephPoolStatus {
	out := make([]v1.CephPoolStatus, 0, len(pools))
	for _, p := range pools {
		phase, _, _ := unstructured.NestedString(p.Object, "status", "phase")
		out = append(out, v1.CephPoolStatus{Name: p.GetName(), Role: p.GetAnnotations()[AnnotationRole], Phase: phase, Created: Created(p)})
	}
	slices.SortFunc(out, func(a, b v1.CephPoolStatus) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// HoldingData names the pools that hold data, sorted.
func HoldingData(pools []*unstructured.Unstructured) []string {
	var out []string
	for _, p := range pools {
		if Created(p) {
			out = append(out, p.GetName())
		}
	}
	slices.Sort(out)
	return out
}
