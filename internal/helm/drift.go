package helm

import (
	"bytes"
	"fmt"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/release"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/cli-runtime/pkg/resource"
)

// Drifted reports whether an object of a deployed revision was deleted,
// or has a field whose value differs from the revision's manifest. It
// only reads, through Helm's own clients.
func Drifted(cfg *action.Configuration, r *release.Release) (bool, error) {
	infos, err := cfg.KubeClient.Build(bytes.NewBufferString(r.Manifest), false)
	if err != nil {
		return false, fmt.Errorf("reading the manifest of release %s: %w", r.Name, err)
	}
	for _, info := range infos {
		changed, err := objectDrifted(info)
		if err != nil || changed {
			return changed, err
		}
	}
	return false, nil
}

func objectDrifted(info *resource.Info) (bool, error) {
	live, err := resource.NewHelper(info.Client, info.Mapping).Get(info.Namespace, info.Name)
	if apierrors.IsNotFound(err) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("reading %s %s/%s: %w", info.Mapping.GroupVersionKind.Kind, info.Namespace, info.Name, err)
	}
	want, ok := info.Object.(*unstructured.Unstructured)
	got, ok2 := live.(*unstructured.Unstructured)
	if !ok || !ok2 {
		return false, fmt.Errorf("reading %s %s/%s: not unstructured", info.Mapping.GroupVersionKind.Kind, info.Namespace, info.Name)
	}
	return !Contains(got.Object, want.Object), nil
}

// Contains reports whether every field set in want has the same value in
// got: what the server adds (defaults, status, metadata) is ignored, a
// list must have the same length. Scalars compare by their printed form,
// so 1 (int64) equals 1 (float64).
func Contains(got, want any) bool {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		return ok && containsMap(g, w)
	case []any:
		g, ok := got.([]any)
		return ok && containsList(g, w)
	case nil:
		return true
	}
	return fmt.Sprint(got) == fmt.Sprint(want)
}

func containsMap(got, want map[string]any) bool {
	for k, w := range want {
		g, ok := got[k]
		if !ok && w != nil || ok && !Contains(g, w) {
			return false
		}
	}
	return true
}

func containsList(got, want []any) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range want {
		if !Contains(got[i], want[i]) {
			return false
		}
	}
	return true
}
