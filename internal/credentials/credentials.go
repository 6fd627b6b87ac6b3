// Package credentials generates the passwords and keys of a deployment and
// keeps them in Secrets osk owns. A value is generated once, with
// crypto/rand, and never overwritten: a Secret that lacks a key gets the
// key added; one that has it keeps it.
package credentials

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/oskproject/osk/internal/catalog"
	"github.com/oskproject/osk/internal/pki"
	"github.com/oskproject/osk/internal/render"
)

// passwordLength is the length of generated passwords: 32 characters of a
// 62-letter alphabet, 190 bits, safe in URLs and INI files unquoted.
const passwordLength = 32

// caLifetime is the lifetime of the CAs osk generates as credentials: 10
// years. The certificates they sign are made anew at every start of
// their pod.
const caLifetime = 10 * 365 * 24 * time.Hour

// keyRepositoryKeys are the keys a new Fernet key repository starts with:
// 0 is the staged key, 1 the primary.
var keyRepositoryKeys = []string{"0", "1"}

// Generated reports whether osk generates a Secret (see
// catalog.GeneratedSecret).
func Generated(secret string) bool { return catalog.GeneratedSecret(secret) }

// keyRepository reports whether a Secret is a Fernet key repository, whose
// keys are numbered and rotated rather than named.
func keyRepository(secret string) bool {
	return secret == catalog.FernetKeysSecret || secret == catalog.CredentialKeysSecret
}

// Value generates a new value for one key of one Secret, in the format
// its consumer expects.
func Value(secret, key string) ([]byte, error) {
	switch {
	case keyRepository(secret) || key == "kek":
		return FernetKey()
	case key == catalog.KeyLibvirtCA:
		ca, err := pki.NewCA("osk-libvirt-ca", time.Now(), caLifetime)
		return ca.Bundle(), err
	case secret == catalog.InternalTLSSecret && key == catalog.KeyInternalCA:
		ca, err := pki.NewCA("osk-internal-ca", time.Now(), caLifetime)
		return ca.Bundle(), err
	case key == catalog.KeyErlangCookie:
		return random("ABCDEFGHIJKLMNOPQRSTUVWXYZ", passwordLength)
	default:
		return random("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", passwordLength)
	}
}

// FernetKey returns a new Fernet key: 32 random bytes, URL-safe base64.
func FernetKey() ([]byte, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("generating a Fernet key: %w", err)
	}
	return []byte(base64.URLEncoding.EncodeToString(b)), nil
}

// random draws n characters of alphabet uniformly with crypto/rand,
// rejecting the bytes that would bias the draw.
func random(alphabet string, n int) ([]byte, error) {
	limit := 256 - 256%len(alphabet)
	out := make([]byte, 0, n)
	buf := make([]byte, n)
	for len(out) < n {
		if _, err := rand.Read(buf); err != nil {
			return nil, fmt.Errorf("generating a password: %w", err)
		}
		for _, b := range buf {
			if int(b) < limit && len(out) < n {
				out = append(out, alphabet[int(b)%len(alphabet)])
			}
		}
	}
	return out, nil
}

// Store holds the credential values of one deployment: those read from
// its Secrets and those generated during a render. It is the renderer's
// Credentials; a value is generated the first time it is asked for.
type Store struct {
	stored    map[string]map[string][]byte // by Secret, then key
	generated map[string]map[string][]byte
	renewed   []Ref
	err       error
}

// NewStore returns a store holding the data of the given Secrets.
func NewStore(secrets []corev1.Secret) *Store {
	s := &Store{stored: map[string]map[string][]byte{}, generated: map[string]map[string][]byte{}}
	for _, sec := range secrets {
		s.stored[sec.Name] = sec.Data
	}
	return s
}

// Value returns one key of one Secret, generating it when the Secret
// lacks it.
// An internal API's certificate is issued by the deployment's internal
// CA, and issued anew when it nears its end or the CA changed
// (Change.Renewed).
func (s *Store) Value(secret, key string) string {
	if v, ok := s.generated[secret][key]; ok {
		return string(v)
	}
	host, isCert := certificate(secret, key)
	v, stored := s.stored[secret][key]
	if stored && !(isCert && s.stale(v, time.Now())) {
		return string(v)
	}
	var err error
	if isCert {
		v, err = s.issue(host, time.Now())
	} else {
		v, err = Value(secret, key)
	}
	if err != nil {
		s.err = err
		return ""
	}
	if s.generated[secret] == nil {
		s.generated[secret] = map[string][]byte{}
	}
	s.generated[secret][key] = v
	if stored {
		s.renewed = append(s.renewed, Ref{Secret: secret, Key: key})
	}
	return string(v)
}

// Require makes sure the store holds what the rendered objects reference:
// every key of a generated Secret named by an environment variable, and
// every generated Secret mounted whole (a Fernet key repository is
// started with its first keys).
func (s *Store) Require(objs []client.Object) error {
	for _, ref := range References(objs) {
		if !Generated(ref.Secret) {
			continue
		}
		switch {
		case ref.Key != "":
			s.Value(ref.Secret, ref.Key)
		case keyRepository(ref.Secret) && len(s.stored[ref.Secret]) == 0:
			for _, k := range keyRepositoryKeys {
				s.Value(ref.Secret, k)
			}
		case !keyRepository(ref.Secret) && s.stored[ref.Secret] == nil && s.generated[ref.Secret] == nil:
			return fmt.Errorf("secret %s is mounted whole but osk does not know its keys", ref.Secret)
		}
	}
	return s.err
}

// Changes returns, per Secret, the keys generated since the store was
// read: the data to add to each Secret, sorted by Secret name. Existing
// keys appear only when renewed (an internal API's certificate), listed
// in Renewed.
func (s *Store) Changes() []Change {
	var out []Change
	for _, name := range slices.Sorted(maps.Keys(s.generated)) {
		ch := Change{Secret: name, Data: s.generated[name]}
		for _, r := range s.renewed {
			if r.Secret == name {
				ch.Renewed = append(ch.Renewed, r.Key)
			}
		}
		slices.Sort(ch.Renewed)
		out = append(out, ch)
	}
	return out
}

// Change is the keys to add to one Secret.
type Change struct {
	// Secret is the Secret's name.
	Secret string
	// Data are the new keys and their values.
	Data map[string][]byte
	// Renewed are the keys of Data that replace a value the Secret holds.
	Renewed []string
}

// Ref is a reference from a rendered object to a Secret: one key of it, or
// the whole Secret when Key is empty.
type Ref struct {
	Secret, Key string
}

// References lists the Secrets the pods of objs use, through environment
// variables and volumes, sorted and without duplicates. Secrets objs render
// themselves are left out.
func References(objs []client.Object) []Ref {
	rendered := map[string]bool{}
	for _, o := range objs {
		if _, ok := o.(*corev1.Secret); ok {
			rendered[o.GetName()] = true
		}
	}
	seen := map[Ref]bool{}
	for _, o := range objs {
		spec := render.PodSpec(o)
		if spec == nil {
			continue
		}
		for _, ref := range podRefs(spec) {
			if !rendered[ref.Secret] {
				seen[ref] = true
			}
		}
	}
	return slices.SortedFunc(maps.Keys(seen), func(a, b Ref) int {
		return strings.Compare(a.Secret+"\x00"+a.Key, b.Secret+"\x00"+b.Key)
	})
}

func podRefs(spec *corev1.PodSpec) []Ref {
	var out []Ref
	for _, v := range spec.Volumes {
		switch {
		case v.Secret == nil:
		case len(v.Secret.Items) > 0:
			for _, it := range v.Secret.Items {
				out = append(out, Ref{Secret: v.Secret.SecretName, Key: it.Key})
			}
		default:
			out = append(out, Ref{Secret: v.Secret.SecretName})
		}
	}
	for _, c := range slices.Concat(spec.InitContainers, spec.Containers) {
		for _, e := range c.Env {
			if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
				out = append(out, Ref{Secret: e.ValueFrom.SecretKeyRef.Name, Key: e.ValueFrom.SecretKeyRef.Key})
			}
		}
	}
	return out
}
