package controllers

import (
	"strings"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/oskproject/osk/api/v1alpha1"
)

// Conditions of a CephDeployment besides Ready and SpecValid.
const (
	// ConditionKeysPublished says whether the Ceph Secret is written, and
	// if not, what Rook has not yet reported.
	ConditionKeysPublished = "KeysPublished"
	// ConditionDeletionAllowed is false while pools that hold data keep a
	// deletion (of the CephDeployment or of a pool left out of its spec)
	// from going on; its message names them.
	ConditionDeletionAllowed = "DeletionAllowed"
)

// Condition reasons of a CephDeployment.
const (
	reasonRookMissing   = "RookMissing"
	reasonWaitingOnRook = "WaitingForRook"
	reasonPublished     = "Published"
	reasonPoolsHoldData = "PoolsHoldData"
	reasonNoneBlocked   = "NothingHeld"
	reasonHealthErr     = "CephHealthError"
	reasonPassError     = "ReconcileError"
	reasonDeleting      = "Deleting"
)

// cephFacts is what a pass found, for the conditions.
type cephFacts struct {
	invalid     error
	rookMissing bool
	missing     []string
	blocked     []string
	deleting    bool
	passErr     error
}

const rookMissingMessage = "the cluster serves no ceph.rook.io/v1 kinds: install Rook (its CRDs and operator) first"

// setCephConditions sets every condition of a CephDeployment from the
// facts of a pass.
func setCephConditions(st *v1.CephDeploymentStatus, gen int64, f cephFacts) {
	set := func(t string, ok bool, reason, msg string) {
		s := metav1.ConditionFalse
		if ok {
			s = metav1.ConditionTrue
		}
		apimeta.SetStatusCondition(&st.Conditions, metav1.Condition{Type: t, Status: s, Reason: reason, Message: msg, ObservedGeneration: gen})
	}
	if f.invalid != nil {
		set(v1.ConditionSpecValid, false, reasonInvalid, f.invalid.Error())
	} else {
		set(v1.ConditionSpecValid, true, reasonValid, "the spec is valid and its nodes make a cluster")
	}
	if len(f.blocked) > 0 {
		set(ConditionDeletionAllowed, false, reasonPoolsHoldData, "pools "+strings.Join(f.blocked, ", ")+
			" hold data (Rook created them, and reports no usage per pool): set spec.allowPoolDeletion to delete them and their data")
	} else {
		set(ConditionDeletionAllowed, true, reasonNoneBlocked, "no pool that holds data is waiting to be deleted")
	}
	if f.deleting {
		set(v1.ConditionReady, false, reasonDeleting, "the CephDeployment is being deleted")
		return
	}
	keysOK, keysReason, keysMsg := keysCondition(st, f)
	set(ConditionKeysPublished, keysOK, keysReason, keysMsg)
	readyOK, readyReason, readyMsg := keysOK, keysReason, keysMsg
	switch {
	case f.passErr != nil:
		readyOK, readyReason, readyMsg = false, reasonPassError, f.passErr.Error()
	case keysOK && len(f.blocked) > 0:
		readyOK, readyReason, readyMsg = false, reasonPoolsHoldData, "a pool left out of the spec holds data: see "+ConditionDeletionAllowed
	case keysOK && st.Health == v1.CephHealthErr:
		readyOK, readyReason, readyMsg = false, reasonHealthErr, "Ceph reports HEALTH_ERR: "+checksSummary(st.HealthChecks)
	}
	set(v1.ConditionReady, readyOK, readyReason, readyMsg)
}

// keysCondition says whether the Ceph Secret is written, and why not.
func keysCondition(st *v1.CephDeploymentStatus, f cephFacts) (bool, string, string) {
	switch {
	case f.invalid != nil:
		return false, reasonInvalid, f.invalid.Error()
	case f.rookMissing:
		return false, reasonRookMissing, rookMissingMessage
	case len(f.missing) > 0:
		return false, reasonWaitingOnRook, strings.Join(f.missing, "; ")
	case st.KeysSecret == "":
		return false, reasonWaitingOnRook, "the Ceph Secret is not written yet"
	}
	return true, reasonPublished, "Secret " + st.KeysSecret + " holds the cluster's address, pools and OpenStack's keys"
}

func checksSummary(checks []v1.CephHealthCheck) string {
	var out []string
	for _, c := range checks {
		if c.Severity == v1.CephHealthErr {
			out = append(out, c.Name+": "+c.Message)
		}
	}
	return strings.Join(out, "; ")
}
