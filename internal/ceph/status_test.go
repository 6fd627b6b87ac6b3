package ceph

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	v1 "github.com/oskproject/osk/api/v1alpha1"
)

// TestHealth checks Ceph's health, its failing checks and the capacity as
// read from a CephCluster's status.
func TestHealth(t *testing.T) {
	c := rookObject("CephCluster", "ceph", PhaseReady, map[string]any{
		"status.ceph.health": "HEALTH_WARN",
		"status.ceph.details": map[string]any{
			"POOL_NO_REDUNDANCY": map[string]any{"severity": "HEALTH_WARN", "message": "1 pool(s) have no replicas configured"},
			"OSD_DOWN":           map[string]any{"severity": "HEALTH_WARN", "message": "1 osds down"},
		},
		"status.ceph.capacity": map[string]any{"bytesTotal": int64(300), "bytesUsed": int64(100), "bytesAvailable": int64(200)},
	})
	h, checks, capacity := Health(c)
	if h != v1.CephHealthWarn || len(checks) != 2 || checks[0].Name != "OSD_DOWN" || checks[0].Message != "1 osds down" {
		t.Errorf("health %s, checks %+v", h, checks)
	}
	if capacity == nil || *capacity != (v1.CephCapacity{TotalBytes: 300, UsedBytes: 100, AvailableBytes: 200}) {
		t.Errorf("capacity %+v", capacity)
	}
	if h, checks, capacity := Health(nil); h != "" || checks != nil || capacity != nil {
		t.Error("a missing cluster has a health")
	}
}

// TestCreated checks which pools count as holding data: those Rook made.
func TestCreated(t *testing.T) {
	made := rookObject("CephBlockPool", "images", PhaseReady, nil)
	failing := rookObject("CephBlockPool", "volumes", "Failure", map[string]any{"status.poolID": int64(3)})
	pending := rookObject("CephBlockPool", "vms", "Progressing", nil)
	fresh := rookObject("CephBlockPool", "backup", "", nil)
	delete(fresh.Object, "status")
	got := HoldingData([]*unstructured.Unstructured{made, failing, pending, fresh})
	if len(got) != 2 || got[0] != "images" || got[1] != "volumes" {
		t.Errorf("holding data: %v, want images, volumes", got)
	}
}
