package jobs

import (
	"context"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/oskproject/osk/internal/credentials"
)

// RotateKeys rotates a Fernet key repository the way keystone-manage
// fernet_rotate does: the staged key 0 becomes the new primary (the highest
// number), a new staged key is generated, and the oldest secondary keys go
// until maxActive keys remain. Tokens signed with a removed key stop
// validating, so maxActive bounds how long a token can live.
func RotateKeys(keys map[string][]byte, maxActive int, newKey func() ([]byte, error)) (map[string][]byte, error) {
	if maxActive < 2 {
		return nil, fmt.Errorf("max active keys %d: must be 2 or more (a staged and a primary key)", maxActive)
	}
	var ids []int
	for k := range keys {
		id, err := strconv.Atoi(k)
		if err != nil || id < 0 {
			return nil, fmt.Errorf("key %q: Fernet key names are non-negative numbers", k)
		}
		ids = append(ids, id)
	}
	slices.Sort(ids)
	out := maps.Clone(keys)
	if out == nil {
		out = map[string][]byte{}
	}
	if _, ok := out["0"]; ok {
		out[strconv.Itoa(slices.Max(append(ids, 0))+1)] = out["0"]
	}
	staged, err := newKey()
	if err != nil {
		return nil, err
	}
	out["0"] = staged
	for _, id := range ids {
		if len(out) <= maxActive {
			break
		}
		if id != 0 {
			delete(out, strconv.Itoa(id))
		}
	}
	return out, nil
}

// RotateSecret rotates the key repository held in a Secret. The update
// carries the Secret's resourceVersion: a concurrent rotation makes it
// fail rather than lose a key.
func RotateSecret(ctx context.Context, c client.Client, namespace, name string, maxActive int) error {
	s := &corev1.Secret{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, s); err != nil {
		return fmt.Errorf("keystone-rotate-keys: reading %s/%s: %w", namespace, name, err)
	}
	keys, err := RotateKeys(s.Data, maxActive, credentials.FernetKey)
	if err != nil {
		return fmt.Errorf("keystone-rotate-keys: %s/%s: %w", namespace, name, err)
	}
	s.Data = keys
	if err := c.Update(ctx, s); err != nil {
		return fmt.Errorf("keystone-rotate-keys: writing %s/%s: %w", namespace, name, err)
	}
	return nil
}

// PodNamespace is the namespace the job runs in: $POD_NAMESPACE, else the
// service account's.
func PodNamespace() (string, error) {
	if ns := os.Getenv("POD_NAMESPACE"); ns != "" {
		return ns, nil
	}
	b, err := os.ReadFile("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
	if err != nil {
		return "", fmt.Errorf("finding the namespace (set POD_NAMESPACE): %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}
