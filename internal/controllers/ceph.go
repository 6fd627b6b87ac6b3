package controllers

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/oskproject/osk/internal/cephkeys"
)

// ConditionCephKeys says whether the Ceph Secret (features.ceph.keysSecret)
// holds, well-formed, every key the deployment's Ceph clients read; while
// it does not, those services wait and the message names what is missing.
const ConditionCephKeys = "CephKeysReady"

// cephVerdict is what the Ceph Secret means for a deployment: the services
// that wait for it, and its condition.
type cephVerdict struct {
	// held maps each waiting service to what it waits for.
	held map[string]string
	// none is true when no service reads the Secret: no condition.
	none            bool
	status          metav1.ConditionStatus
	reason, message string
}

// readCephKeys reads the deployment's Ceph Secret from the API server; nil
// when it does not exist. The operator caches only the Secrets it manages
// and those labelled cephkeys.LabelWatched, so it asks the API server: an
// unlabelled Secret can then be named as such.
func (p *pass) readCephKeys(ctx context.Context, name string) (*corev1.Secret, error) {
	s := &corev1.Secret{}
	key := types.NamespacedName{Namespace: p.d.Namespace, Name: name}
	// A labelled Secret is in the Ceph Secrets' cache, whose changes start
	// the passes; only one missing there (absent, or not labelled, which
	// the condition names) is read from the API server.
	if p.r.cephKeys != nil {
		if err := p.r.cephKeys.Get(ctx, key, s); err == nil {
			return s, nil
		}
	}
	err := p.r.APIReader.Get(ctx, key, s)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the Ceph Secret %s: %w", name, err)
	}
	return s, nil
}

// judgeCephKeys decides, from the Secret (nil when absent) and the keys
// each service reads, which services wait and what the condition says. It
// never quotes a value.
func judgeCephKeys(name string, s *corev1.Secret, reads map[string][]string) cephVerdict {
	if len(reads) == 0 {
		return cephVerdict{none: true}
	}
	v := cephVerdict{held: map[string]string{}}
	var all []string
	for _, svc := range slices.Sorted(maps.Keys(reads)) {
		all = append(all, reads[svc]...)
		if why := cephProblem(name, s, reads[svc]); why != "" {
			v.held[svc] = why
		}
	}
	if len(v.held) == 0 {
		v.status, v.reason, v.message = metav1.ConditionTrue, "Complete", "Secret "+name+" holds every key the Ceph clients read"
		return v
	}
	v.status, v.reason = metav1.ConditionFalse, cephReason(s)
	v.message = cephProblem(name, s, all) + "; waiting: " + strings.Join(slices.Sorted(maps.Keys(v.held)), ", ")
	return v
}

// cephProblem says what keeps the keys from being read; "" when nothing.
func cephProblem(name string, s *corev1.Secret, keys []string) string {
	switch {
	case s == nil:
		return "Secret " + name + " does not exist (see the README's Ceph section for its keys)"
	case s.Labels[cephkeys.LabelWatched] != "true":
		return "Secret " + name + " lacks the label " + cephkeys.LabelWatched + "=true (osk watches only Secrets with it)"
	}
	if problems := cephkeys.Check(s.Data, keys); len(problems) > 0 {
		return cephkeys.Summary(name, problems)
	}
	return ""
}

func cephReason(s *corev1.Secret) string {
	switch {
	case s == nil:
		return "SecretMissing"
	case s.Labels[cephkeys.LabelWatched] != "true":
		return "SecretNotLabelled"
	}
	return "SecretIncomplete"
}

// cephData is what the renderer fills the Ceph files from: the Secret's
// data once osk watches it, placeholders before.
func cephData(s *corev1.Secret) map[string][]byte {
	if s == nil || s.Labels[cephkeys.LabelWatched] != "true" {
		return nil
	}
	return s.Data
}
