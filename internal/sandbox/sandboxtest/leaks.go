package sandboxtest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"
)

// Every namespace a test gets is searched, when the test ends, for the
// values of its secrets: osk's generated credentials (the Secrets labelled
// LabelCredentials) and the Secrets a test labels LabelSecretValues. None
// may appear in an Event of the namespace, in the status of an osk object
// of it, or in a line the operator running in the test binary logged.

// LabelCredentials marks osk's credential Secrets (every value generated).
const LabelCredentials = "osk.dev/credentials-of"

// LabelSecretValues marks a Secret a test made whose values are secret:
// its values, or their string leaves when a value is a YAML map (Helm
// values), are searched for.
const LabelSecretValues = "sandboxtest.osk.dev/secret-values"

// minLeakLength is the shortest value searched for: shorter ones are
// found in ordinary text.
const minLeakLength = 6

// operatorLog holds every line controller-runtime's logger wrote in this
// test binary: the in-process operator's log.
var operatorLog = &lockedBuffer{}

// operatorLevel is the in-process operator's log level (LogOperatorAt).
var operatorLevel = &slog.LevelVar{}

// captureOperatorLog makes controller-runtime's logger write JSON lines,
// at every verbosity, to operatorLog (and to stderr under -v).
func captureOperatorLog() {
	var w io.Writer = operatorLog
	if testing.Verbose() {
		w = io.MultiWriter(operatorLog, os.Stderr)
	}
	operatorLevel.Set(slog.Level(-127))
	ctrl.SetLogger(logr.FromSlogHandler(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: operatorLevel})))
}

// LogOperatorAt sets the in-process operator's log level; what it logs is
// still searched for secrets. Tests log at every verbosity (client-go's
// dumps of request and response bodies included) so that the search sees
// everything; a benchmark logs at info, `osk operator`'s own default, so
// that it measures the operator as it runs.
func LogOperatorAt(level slog.Level) { operatorLevel.Set(level) }

// lockedBuffer is a bytes.Buffer safe for concurrent writers.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// secretValue is one value searched for, named by where it is kept.
type secretValue struct {
	where string // "Secret name, key k"
	value string
}

// checkLeaks fails t when a secret value of namespace ns appears where
// it must not.
func (e *Env) checkLeaks(t testing.TB, ns string) {
	t.Helper()
	ctx := context.Background()
	secrets, err := e.secretValues(ctx, ns)
	if err != nil {
		t.Errorf("leak check of namespace %s: %v", ns, err)
		return
	}
	if len(secrets) == 0 {
		return
	}
	seen, err := e.visible(ctx, ns)
	if err != nil {
		t.Errorf("leak check of namespace %s: %v", ns, err)
		return
	}
	seen["the operator's log"] = operatorLog.String()
	for _, leak := range findLeaks(secrets, seen) {
		t.Errorf("leak check of namespace %s: %s", ns, leak)
	}
}

// secretValues returns the values of the namespace's credential Secrets
// and of the Secrets its test marked.
func (e *Env) secretValues(ctx context.Context, ns string) ([]secretValue, error) {
	var out []secretValue
	for _, label := range []string{LabelCredentials, LabelSecretValues} {
		var list corev1.SecretList
		if err := e.client.List(ctx, &list, client.InNamespace(ns), client.HasLabels{label}); err != nil {
			return nil, fmt.Errorf("listing Secrets labelled %s: %w", label, err)
		}
		for _, s := range list.Items {
			for key, v := range s.Data {
				where := fmt.Sprintf("Secret %s, key %s", s.Name, key)
				for _, leaf := range leaves(v, label == LabelSecretValues) {
					out = append(out, secretValue{where: where, value: leaf})
				}
			}
		}
	}
	return out, nil
}

// leaves returns the value itself, or, for a YAML or JSON map when
// parse is set, its string leaves.
func leaves(v []byte, parse bool) []string {
	var m map[string]any
	if !parse || yaml.Unmarshal(v, &m) != nil || m == nil {
		return []string{string(v)}
	}
	var out []string
	var walk func(any)
	walk = func(x any) {
		switch x := x.(type) {
		case string:
			out = append(out, x)
		case map[string]any:
			for _, e := range x {
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(m)
	return out
}

// visible returns what users and tools see of namespace ns, by where:
// each Event's message and note, and each osk object's status.
func (e *Env) visible(ctx context.Context, ns string) (map[string]string, error) {
	out := map[string]string{}
	var events corev1.EventList
	if err := e.client.List(ctx, &events, client.InNamespace(ns)); err != nil {
		return nil, fmt.Errorf("listing Events: %w", err)
	}
	for _, ev := range events.Items {
		out["Event "+ev.Name] = ev.Reason + " " + ev.Message
	}
	var newEvents eventsv1.EventList
	if err := e.client.List(ctx, &newEvents, client.InNamespace(ns)); err != nil {
		return nil, fmt.Errorf("listing events.k8s.io Events: %w", err)
	}
	for _, ev := range newEvents.Items {
		out["Event "+ev.Name] += " " + ev.Reason + " " + ev.Note
	}
	for _, kind := range []string{"OpenStackDeploymentList", "HelmBundleList"} {
		list := &unstructured.UnstructuredList{}
		list.SetAPIVersion("osk.dev/v1alpha1")
		list.SetKind(kind)
		if err := e.client.List(ctx, list, client.InNamespace(ns)); err != nil {
			continue // the test did not install osk's CRDs
		}
		for _, o := range list.Items {
			b, err := json.Marshal(o.Object["status"])
			if err != nil {
				return nil, fmt.Errorf("status of %s %s: %w", o.GetKind(), o.GetName(), err)
			}
			out[o.GetKind()+" "+o.GetName()+" status"] = string(b)
		}
	}
	return out, nil
}

// findLeaks names every place of seen that holds a secret value, as it
// is or base64-encoded. The messages name the secret, never its value.
func findLeaks(secrets []secretValue, seen map[string]string) []string {
	var out []string
	for _, s := range secrets {
		if len(s.value) < minLeakLength {
			continue
		}
		forms := []string{s.value, base64.StdEncoding.EncodeToString([]byte(s.value))}
		for where, text := range seen {
			if slices.ContainsFunc(forms, func(f string) bool { return strings.Contains(text, f) }) {
				out = append(out, fmt.Sprintf("%s holds the value of %s", where, s.where))
			}
		}
	}
	slices.Sort(out)
	return out
}
