package cephtest

import (
	"testing"

	"github.com/oskproject/osk/internal/cephkeys"
)

// TestStandInComplete checks that the stand-in passes osk's checks for
// every key a deployment may read.
func TestStandInComplete(t *testing.T) {
	s := StandIn("ns")
	var keys []string
	for k := range s.Data {
		keys = append(keys, k)
	}
	if p := cephkeys.Check(s.Data, keys); len(p) > 0 {
		t.Errorf("the stand-in fails: %s", cephkeys.Summary(s.Name, p))
	}
	if len(keys) != 3+len(cephkeys.Roles)+len(cephkeys.Clients) {
		t.Errorf("the stand-in holds %d keys", len(keys))
	}
	if Key() == Key() {
		t.Error("two keys are equal")
	}
}
