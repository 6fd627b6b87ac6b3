package controllers

import (
	"slices"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	v1 "github.com/oskproject/osk/api/v1alpha1"
)

// statusInterval is the shortest time between two status writes of a
// deployment that change only its progress (counts and messages): a
// rollout or an upgrade changes those with nearly every pass, and each
// write costs the API server an update of the whole object and a watch
// event to every client of it. A change of state, generation, release,
// upgrade step, or of a condition's or a service's verdict is written at
// once.
const statusInterval = time.Second

// statusPace remembers when each deployment's status was last written.
// Safe for concurrent use; the zero value is ready.
type statusPace struct {
	mu   sync.Mutex
	last map[types.UID]time.Time
}

// wait says how long the write of a progress-only change must wait; 0
// means write now.
func (s *statusPace) wait(uid types.UID, now time.Time) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return max(0, s.last[uid].Add(statusInterval).Sub(now))
}

// wrote remembers a write at now.
func (s *statusPace) wrote(uid types.UID, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.last == nil {
		s.last = map[types.UID]time.Time{}
	}
	s.last[uid] = now
}

// forget drops what is remembered of a deployment that is gone.
func (s *statusPace) forget(uid types.UID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.last, uid)
}

// progressOnly reports whether b differs from a only by progress: counts,
// messages and the time an upgrade step was entered.
func progressOnly(a, b *v1.OpenStackDeploymentStatus) bool {
	return a.ObservedGeneration == b.ObservedGeneration && a.State == b.State &&
		a.DeployedVersion == b.DeployedVersion && a.Fingerprint == b.Fingerprint &&
		equality.Semantic.DeepEqual(a.Tempest, b.Tempest) && sameStep(a.Upgrade, b.Upgrade) &&
		slices.EqualFunc(a.Conditions, b.Conditions, func(x, y metav1.Condition) bool {
			return x.Type == y.Type && x.Status == y.Status && x.Reason == y.Reason
		}) && sameVerdicts(a.Services, b.Services)
}

func sameStep(a, b *v1.UpgradeStatus) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.From == b.From && a.To == b.To && a.Service == b.Service && a.Step == b.Step && slices.Equal(a.Completed, b.Completed)
}

func sameVerdicts(a, b map[string]v1.ServiceStatus) bool {
	if len(a) != len(b) {
		return false
	}
	for name, s := range a {
		if t, ok := b[name]; !ok || t.State != s.State {
			return false
		}
	}
	return true
}
