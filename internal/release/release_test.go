package release

import "testing"

func TestTableIsOrderedAndComplete(t *testing.T) {
	want := []string{"zed", "antelope", "bobcat", "caracal", "dalmatian", "epoxy", "flamingo", "gazpacho"}
	got := Names()
	if len(got) != len(want) {
		t.Fatalf("releases = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("release %d = %q, want %q", i, got[i], want[i])
		}
	}
	slurp := map[string]bool{"antelope": true, "caracal": true, "epoxy": true, "gazpacho": true}
	for _, r := range All() {
		if r.SLURP != slurp[r.Name] {
			t.Errorf("%s: SLURP = %v, want %v", r.Name, r.SLURP, slurp[r.Name])
		}
		if r.ImageTag == "" || r.Number == "" {
			t.Errorf("%s: image tag or number missing", r.Name)
		}
	}
}

func TestLookup(t *testing.T) {
	if r, err := Lookup("caracal"); err != nil || r.Number != "2024.1" {
		t.Fatalf("Lookup(caracal) = %+v, %v", r, err)
	}
	if _, err := Lookup("kilo"); err == nil {
		t.Fatal("Lookup(kilo) succeeded, want an error naming the supported releases")
	}
	if !AtLeast("epoxy", "caracal") || AtLeast("zed", "antelope") {
		t.Fatal("AtLeast is wrong")
	}
}
