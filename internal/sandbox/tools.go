package sandbox

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"golang.org/x/mod/modfile"
)

// ModulePath is the module path of the osk repository, used to recognise
// its root.
const ModulePath = "github.com/oskproject/osk"

// toolsDir is where the tools modules live, relative to the repository root.
const toolsDir = "hack/sandbox"

// Names of the sandbox's binaries.
const (
	binEtcd                  = "etcd"
	binKubeAPIServer         = "kube-apiserver"
	binKubeControllerManager = "kube-controller-manager"
	binKubeScheduler         = "kube-scheduler"
	binKubectl               = "kubectl"
	binKwok                  = "kwok"
)

// kwokStagesFile is the kwok configuration, relative to a binary set's
// directory, that holds the stages simulating node and pod lifecycles.
const kwokStagesFile = "share/kwok-stages.yaml"

// toolModule is one tools module under hack/sandbox: the upstream module
// whose pinned version names the component, and what is built from it.
// Each upstream lives in its own module so that it is built with exactly
// the dependency versions its own release was tested with.
type toolModule struct {
	name     string   // directory under hack/sandbox, and the component's name
	upstream string   // the module whose required version is the component's version
	binaries []binary // main packages, all listed as tool directives in go.mod
	// stamp returns the linker -X flags that record version in the binaries.
	stamp func(version string) []string
	// assets are files copied from the upstream module into the binary set.
	assets []asset
}

// binary is a main package and the name of the executable built from it.
type binary struct{ name, pkg string }

// asset is a file of the binary set assembled from files of the upstream
// module, concatenated as YAML documents.
type asset struct {
	name    string   // path relative to the binary set's directory
	sources []string // paths relative to the upstream module's root
}

// toolModules lists the tools modules, cheapest to build first. Versions are
// pinned by their go.mod files only.
var toolModules = []toolModule{
	{
		name:     "etcd",
		upstream: "go.etcd.io/etcd/server/v3",
		binaries: []binary{{binEtcd, "go.etcd.io/etcd/server/v3"}},
		stamp:    func(string) []string { return nil }, // etcd's version is a constant of its source
	},
	{
		name:     "kwok",
		upstream: "sigs.k8s.io/kwok",
		binaries: []binary{{binKwok, "sigs.k8s.io/kwok/cmd/kwok"}},
		stamp: func(v string) []string {
			return []string{"sigs.k8s.io/kwok/pkg/consts.Version=" + strings.TrimPrefix(v, "v")}
		},
		// The stages kwokctl installs by default: nodes become ready and
		// keep their lease; pods become ready, complete and go away.
		assets: []asset{{name: kwokStagesFile, sources: []string{
			"kustomize/stage/node/fast/node-initialize.yaml",
			"kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml",
			"kustomize/stage/pod/fast/pod-ready.yaml",
			"kustomize/stage/pod/fast/pod-complete.yaml",
			"kustomize/stage/pod/fast/pod-delete.yaml",
		}}},
	},
	{
		name:     "kubernetes",
		upstream: "k8s.io/kubernetes",
		binaries: []binary{
			{binKubeAPIServer, "k8s.io/kubernetes/cmd/kube-apiserver"},
			{binKubeControllerManager, "k8s.io/kubernetes/cmd/kube-controller-manager"},
			{binKubeScheduler, "k8s.io/kubernetes/cmd/kube-scheduler"},
			{binKubectl, "k8s.io/kubernetes/cmd/kubectl"},
		},
		stamp: kubernetesStamp,
	},
}

// kubernetesStamp returns the -X flags with which Kubernetes' own build
// (hack/lib/version.sh) records its version, so that the binaries report
// v1.34.4 rather than v0.0.0-master, and derive the right API emulation
// version from it.
func kubernetesStamp(version string) []string {
	major, minor, _ := strings.Cut(strings.TrimPrefix(version, "v"), ".")
	minor, _, _ = strings.Cut(minor, ".")
	var flags []string
	for _, pkg := range []string{"k8s.io/component-base/version", "k8s.io/client-go/pkg/version"} {
		flags = append(flags,
			pkg+".gitVersion="+version,
			pkg+".gitMajor="+major,
			pkg+".gitMinor="+minor,
			pkg+".gitTreeState=clean",
		)
	}
	return flags
}

// Tools is the pinned set of sandbox binaries: the tools modules of an osk
// checkout and the versions they pin.
type Tools struct {
	// Dir is the directory holding the tools modules (hack/sandbox).
	Dir string
	// Versions maps each component (etcd, kwok, kubernetes) to its pinned
	// version.
	Versions map[string]string
	// key names the binary set in the cache: the versions, and a digest of
	// everything that determines the build.
	key string
}

// LoadTools reads the tools modules of the osk checkout rooted at repoRoot.
func LoadTools(repoRoot string) (*Tools, error) {
	t := &Tools{Dir: filepath.Join(repoRoot, toolsDir), Versions: map[string]string{}}
	digest := sha256.New()
	fmt.Fprintf(digest, "%s/%s\n", runtime.GOOS, runtime.GOARCH)
	var names []string
	for _, m := range toolModules {
		version, err := t.readModule(m, digest)
		if err != nil {
			return nil, fmt.Errorf("reading the %s tools module: %w", m.name, err)
		}
		t.Versions[m.name] = version
		names = append(names, m.name+"-"+version)
	}
	t.key = strings.Join(names, "_") + "_" + hex.EncodeToString(digest.Sum(nil))[:12]
	return t, nil
}

// LoadToolsFrom finds the osk checkout containing dir and reads its tools
// modules.
func LoadToolsFrom(dir string) (*Tools, error) {
	root, err := RepoRoot(dir)
	if err != nil {
		return nil, err
	}
	return LoadTools(root)
}

// readModule returns the version m's go.mod pins for m.upstream, and feeds
// everything that determines m's build into digest.
func (t *Tools) readModule(m toolModule, digest hash.Hash) (string, error) {
	dir := filepath.Join(t.Dir, m.name)
	gomod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return "", err
	}
	gosum, err := os.ReadFile(filepath.Join(dir, "go.sum"))
	if err != nil {
		return "", err
	}
	f, err := modfile.Parse("go.mod", gomod, nil)
	if err != nil {
		return "", err
	}
	version := ""
	for _, r := range f.Require {
		if r.Mod.Path == m.upstream {
			version = r.Mod.Version
		}
	}
	if version == "" {
		return "", fmt.Errorf("%s/go.mod requires no version of %s", dir, m.upstream)
	}
	fmt.Fprintf(digest, "%s\n%s\n%s\n%q\n", m.name, gomod, gosum, m.assets)
	for _, b := range m.binaries {
		fmt.Fprintf(digest, "%q\n", buildArgs(m, version, b, "-"))
	}
	return version, nil
}

// String lists the pinned versions, e.g. "etcd v3.6.5, kwok v0.7.0,
// kubernetes v1.34.4".
func (t *Tools) String() string {
	parts := make([]string, 0, len(toolModules))
	for _, m := range toolModules {
		parts = append(parts, m.name+" "+t.Versions[m.name])
	}
	return strings.Join(parts, ", ")
}

// CacheDir returns where t's binary set is cached:
// $XDG_CACHE_HOME/osk/sandbox/<versions>, or ~/.cache/osk/sandbox/<versions>.
func (t *Tools) CacheDir() (string, error) {
	root, err := cacheRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, t.key), nil
}

// Binaries returns t's binary set from the cache, or an error saying how
// to build it when it is not there.
func (t *Tools) Binaries() (*Binaries, error) {
	dir, err := t.CacheDir()
	if err != nil {
		return nil, err
	}
	b := &Binaries{Dir: dir, Versions: t.Versions}
	if err := b.check(); err != nil {
		return nil, &NotBuiltError{Tools: t, Err: err}
	}
	return b, nil
}

// NotBuiltError reports that the pinned binaries are not in the cache.
type NotBuiltError struct {
	// Tools pins the binaries that are missing.
	Tools *Tools
	// Err says what is missing from the cache.
	Err error
}

// BuildCommand is the command, run at the root of the osk repository, that
// builds and caches the sandbox's binaries.
const BuildCommand = "go run ./cmd/osk sandbox build"

// Error says which binaries are missing, and how to build them.
func (e *NotBuiltError) Error() string {
	return fmt.Sprintf("the sandbox binaries (%s) are not built: %v\n"+
		"Build them once with %q at the root of the osk repository "+
		"(about 10 minutes with an empty Go cache; they are cached outside the repository).",
		e.Tools, e.Err, BuildCommand)
}

// Unwrap returns what is missing from the cache.
func (e *NotBuiltError) Unwrap() error { return e.Err }

// Binaries is a built set of sandbox binaries.
type Binaries struct {
	// Dir holds bin/ with the executables and share/ with their data.
	Dir string
	// Versions maps each component to the version it was built at.
	Versions map[string]string
}

// Path returns the path of the named executable, e.g. "kubectl".
func (b *Binaries) Path(name string) string { return filepath.Join(b.Dir, "bin", name) }

// KubernetesVersion returns the version of the Kubernetes binaries.
func (b *Binaries) KubernetesVersion() string { return b.Versions["kubernetes"] }

// check verifies that every binary and asset is present.
func (b *Binaries) check() error {
	for _, m := range toolModules {
		for _, bin := range m.binaries {
			if err := isExecutable(b.Path(bin.name)); err != nil {
				return err
			}
		}
		for _, a := range m.assets {
			if _, err := os.Stat(filepath.Join(b.Dir, a.name)); err != nil {
				return err
			}
		}
	}
	return nil
}

// isExecutable checks that path is an executable regular file.
func isExecutable(path string) error {
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !info.Mode().IsRegular() || info.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("%s is not an executable file", path)
	}
	return nil
}

// RepoRoot walks up from dir to the root of the osk checkout: the first
// directory whose go.mod declares module github.com/oskproject/osk.
func RepoRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("finding the osk repository: %w", err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		data, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil && modfile.ModulePath(data) == ModulePath {
			return d, nil
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("finding the osk repository: %w", err)
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("%s is not inside the osk repository (no go.mod of module %s above it)", dir, ModulePath)
		}
	}
}
