package jobs_test

import (
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/oskproject/osk/internal/jobs"
)

// TestRotateKeys follows a repository through rotations: the staged key
// becomes primary, a new key is staged, the oldest secondaries go.
func TestRotateKeys(t *testing.T) {
	n := 0
	newKey := func() ([]byte, error) { n++; return fmt.Appendf(nil, "k%d", n), nil }
	keys := map[string][]byte{"0": []byte("a"), "1": []byte("b")}
	steps := []map[string]string{
		{"0": "k1", "1": "b", "2": "a"},
		{"0": "k2", "1": "b", "2": "a", "3": "k1"},
		{"0": "k3", "2": "a", "3": "k1", "4": "k2"}, // 1 goes: 4 keys at most
		{"0": "k4", "3": "k1", "4": "k2", "5": "k3"},
	}
	for i, want := range steps {
		var err error
		keys, err = jobs.RotateKeys(keys, 4, newKey)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for k, v := range keys {
			got[k] = string(v)
		}
		if !maps.Equal(got, want) {
			t.Errorf("rotation %d: got %v, want %v", i+1, got, want)
		}
	}
}

func TestRotateKeysRefuses(t *testing.T) {
	newKey := func() ([]byte, error) { return []byte("k"), nil }
	for _, tc := range []struct {
		keys map[string][]byte
		max  int
	}{
		{map[string][]byte{"0": nil}, 1},
		{map[string][]byte{"zero": nil}, 3},
		{map[string][]byte{"-1": nil}, 3},
	} {
		if _, err := jobs.RotateKeys(tc.keys, tc.max, newKey); err == nil {
			t.Errorf("%v with max %d: no error", slices.Collect(maps.Keys(tc.keys)), tc.max)
		}
	}
}
