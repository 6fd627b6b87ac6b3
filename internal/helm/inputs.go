package helm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	v1 "github.com/oskproject/osk/api/v1alpha1"
)

// defaultTimeout bounds a Helm operation whose release sets no timeout.
const defaultTimeout = 5 * time.Minute

// Desired is a release as the bundle wants it, its chart downloaded and its
// values merged.
type Desired struct {
	// Name and Namespace locate the release.
	Name, Namespace string
	// OwnNamespace is true when the release lives outside the bundle's
	// namespace, in a namespace created when missing.
	OwnNamespace bool
	// User is who Helm acts as (a ServiceAccount's user name), osk itself
	// when empty.
	User string
	// Chart is the resolved chart.
	Chart *chart.Chart
	// Values are the merged user values (never logged: they may hold
	// secrets).
	Values map[string]any
	// Wait and Timeout are passed to every Helm operation.
	Wait    bool
	Timeout time.Duration
	// Remediate rolls back failures (OnFailure Rollback).
	Remediate bool
	// Digest identifies chart, version and values.
	Digest string
	// Secrets are the strings that came from Secrets (values and the
	// repository's password): every error about the release has them
	// redacted before it reaches a status, an event or a log.
	Secrets []string
}

// Resolver turns a bundle's releases into Desired releases: it reads the
// Secrets and ConfigMaps they name and downloads their charts.
type Resolver struct {
	// Reader reads Secrets and ConfigMaps (uncached). Without one, the
	// resolver works offline: values from Secrets and ConfigMaps and
	// repository credentials are left out.
	Reader client.Reader
	// Charts downloads and caches charts.
	Charts *Charts
}

// Resolve resolves every release of the plan, or fails without side
// effects on the first that cannot be.
func (r *Resolver) Resolve(ctx context.Context, p *Plan, bundleNS string) (map[string]Desired, error) {
	out := map[string]Desired{}
	for name, rel := range p.Releases {
		d, err := r.resolve(ctx, p, bundleNS, rel)
		if err != nil {
			return nil, fmt.Errorf("release %s: %w", name, err)
		}
		out[name] = d
	}
	return out, nil
}

func (r *Resolver) resolve(ctx context.Context, p *Plan, bundleNS string, rel v1.HelmRelease) (Desired, error) {
	repoName, chartName := ChartRef(rel.Chart)
	repo := p.Repositories[repoName]
	auth, err := r.auth(ctx, bundleNS, repo)
	if err != nil {
		return Desired{}, err
	}
	ch, err := r.Charts.Get(ctx, repo, auth, chartName, rel.Version)
	if err != nil {
		return Desired{}, err
	}
	vals, secrets, err := r.values(ctx, bundleNS, rel)
	if err != nil {
		return Desired{}, err
	}
	d, err := newDesired(rel, bundleNS, p.ServiceAccount, ch, vals)
	if auth.Password != "" {
		secrets = append(secrets, auth.Password)
	}
	d.Secrets = secrets
	return d, err
}

func newDesired(rel v1.HelmRelease, bundleNS, sa string, ch *chart.Chart, vals map[string]any) (Desired, error) {
	d := Desired{
		Name: rel.Name, Namespace: rel.Namespace, Chart: ch, Values: vals, Wait: rel.Wait,
		Timeout: defaultTimeout, Remediate: rel.OnFailure != v1.FailureStay,
		OwnNamespace: rel.Namespace != "" && rel.Namespace != bundleNS, User: ServiceAccountUser(bundleNS, sa),
	}
	if d.Namespace == "" {
		d.Namespace = bundleNS
	}
	if rel.Timeout != nil {
		d.Timeout = rel.Timeout.Duration
	}
	b, err := json.Marshal(vals)
	if err != nil {
		return Desired{}, fmt.Errorf("hashing the values: %w", err)
	}
	sum := sha256.Sum256(append([]byte(ch.Metadata.Name+"\x00"+ch.Metadata.Version+"\x00"), b...))
	d.Digest = hex.EncodeToString(sum[:8])
	return d, nil
}

// values merges ValuesFrom in order, then the inline values. secrets
// are the strings of the values that came from Secrets.
func (r *Resolver) values(ctx context.Context, ns string, rel v1.HelmRelease) (vals map[string]any, secrets []string, err error) {
	out := map[string]any{}
	for _, src := range rel.ValuesFrom {
		if r.Reader == nil {
			continue
		}
		vals, err := r.valuesFrom(ctx, ns, src)
		if err != nil {
			return nil, nil, fmt.Errorf("values from %s %s: %w", src.Kind, src.Name, err)
		}
		if src.Kind == "Secret" {
			secrets = appendStrings(secrets, vals)
		}
		out = chartutil.MergeTables(vals, out)
	}
	if rel.Values != nil && len(rel.Values.Raw) > 0 {
		inline := map[string]any{}
		if err := json.Unmarshal(rel.Values.Raw, &inline); err != nil {
			return nil, nil, fmt.Errorf("parsing values: %w", err)
		}
		out = chartutil.MergeTables(inline, out)
	}
	return out, secrets, nil
}

// appendStrings appends every string leaf of v, of at least
// minSecretLength bytes, to out.
func appendStrings(out []string, v any) []string {
	switch v := v.(type) {
	case string:
		if len(v) >= minSecretLength {
			out = append(out, v)
		}
	case map[string]any:
		for _, e := range v {
			out = appendStrings(out, e)
		}
	case []any:
		for _, e := range v {
			out = appendStrings(out, e)
		}
	}
	return out
}

func (r *Resolver) valuesFrom(ctx context.Context, ns string, src v1.ValuesSource) (map[string]any, error) {
	key := src.Key
	if key == "" {
		key = "values.yaml"
	}
	data, found, err := r.read(ctx, ns, src.Kind, src.Name, key)
	if err != nil {
		return nil, err
	}
	if !found {
		if src.Optional {
			return map[string]any{}, nil
		}
		return nil, fmt.Errorf("key %s not found", key)
	}
	vals := map[string]any{}
	if err := yaml.Unmarshal(data, &vals); err != nil {
		if src.Kind == "Secret" {
			// YAML's errors quote the text they stumble on.
			return nil, fmt.Errorf("parsing key %s: not a YAML map of values (the parser's message is withheld: it may quote the Secret)", key)
		}
		return nil, fmt.Errorf("parsing key %s: %w", key, err)
	}
	return vals, nil
}

// read returns a key of a Secret or ConfigMap; found is false when the
// object or the key is missing.
func (r *Resolver) read(ctx context.Context, ns, kind, name, key string) (data []byte, found bool, err error) {
	var obj client.Object = &corev1.ConfigMap{}
	if kind == "Secret" {
		obj = &corev1.Secret{}
	}
	err = r.Reader.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, obj)
	if apierrors.IsNotFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("reading %s %s: %w", kind, name, err)
	}
	switch o := obj.(type) {
	case *corev1.Secret:
		data, found = o.Data[key]
	case *corev1.ConfigMap:
		var s string
		s, found = o.Data[key]
		data = []byte(s)
	}
	return data, found, nil
}

func (r *Resolver) auth(ctx context.Context, ns string, repo v1.HelmRepository) (Auth, error) {
	var a Auth
	if r.Reader == nil {
		return a, nil
	}
	if repo.CredentialsSecret != "" {
		user, err := r.secretKey(ctx, ns, repo.CredentialsSecret, "username")
		if err != nil {
			return a, fmt.Errorf("repository %s credentials: %w", repo.Name, err)
		}
		pass, err := r.secretKey(ctx, ns, repo.CredentialsSecret, "password")
		if err != nil {
			return a, fmt.Errorf("repository %s credentials: %w", repo.Name, err)
		}
		a.Username, a.Password = string(user), string(pass)
	}
	if repo.CASecret != "" {
		ca, err := r.secretKey(ctx, ns, repo.CASecret, "ca.crt")
		if err != nil {
			return a, fmt.Errorf("repository %s CA: %w", repo.Name, err)
		}
		a.CA = ca
	}
	return a, nil
}

func (r *Resolver) secretKey(ctx context.Context, ns, name, key string) ([]byte, error) {
	data, found, err := r.read(ctx, ns, "Secret", name, key)
	if err == nil && !found {
		err = fmt.Errorf("Secret %s has no key %s", name, key)
	}
	return data, err
}
