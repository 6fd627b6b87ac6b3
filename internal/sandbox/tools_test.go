package sandbox

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/mod/modfile"
)

func TestLoadToolsReadsThePinnedVersions(t *testing.T) {
	tools, err := LoadToolsFrom(".")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"kubernetes": "v1.34.4", "etcd": "v3.6.5", "kwok": "v0.7.0"}
	for name, version := range want {
		if got := tools.Versions[name]; got != version {
			t.Errorf("%s version: got %q, want %q", name, got, version)
		}
	}
	dir, err := tools.CacheDir()
	if err != nil {
		t.Fatal(err)
	}
	if base := filepath.Base(dir); !strings.HasPrefix(base, "etcd-v3.6.5_kwok-v0.7.0_kubernetes-v1.34.4_") {
		t.Errorf("cache directory %s is not named after the versions", dir)
	}
}

func TestEveryBinaryIsAToolOfItsModule(t *testing.T) {
	root, err := RepoRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range toolModules {
		path := filepath.Join(root, toolsDir, m.name, "go.mod")
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		f, err := modfile.Parse(path, data, nil)
		if err != nil {
			t.Fatal(err)
		}
		var tools []string
		for _, tool := range f.Tool {
			tools = append(tools, tool.Path)
		}
		for _, b := range m.binaries {
			if !slices.Contains(tools, b.pkg) {
				t.Errorf("%s: no tool directive for %s (go mod tidy would drop its dependencies)", path, b.pkg)
			}
		}
	}
}

func TestKubernetesStampSetsTheVersionPackages(t *testing.T) {
	got := strings.Join(kubernetesStamp("v1.34.4"), " ")
	for _, want := range []string{
		"k8s.io/component-base/version.gitVersion=v1.34.4",
		"k8s.io/component-base/version.gitMajor=1",
		"k8s.io/component-base/version.gitMinor=34",
		"k8s.io/client-go/pkg/version.gitVersion=v1.34.4",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("stamp %q lacks %q", got, want)
		}
	}
}

func TestMissingBinariesSayHowToBuildThem(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	tools, err := LoadToolsFrom(".")
	if err != nil {
		t.Fatal(err)
	}
	_, err = tools.Binaries()
	var notBuilt *NotBuiltError
	if !errors.As(err, &notBuilt) {
		t.Fatalf("Binaries with an empty cache: got %v, want a NotBuiltError", err)
	}
	for _, want := range []string{"not built", BuildCommand, "kubernetes v1.34.4"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestRepoRootIsFoundFromASubdirectory(t *testing.T) {
	root, err := RepoRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, toolsDir)); err != nil {
		t.Errorf("RepoRoot returned %s, which has no %s: %v", root, toolsDir, err)
	}
	if _, err := RepoRoot(t.TempDir()); err == nil {
		t.Error("RepoRoot outside the repository: got no error")
	}
}
