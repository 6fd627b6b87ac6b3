package galera

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Phase is where a member is, as its entry in the record says.
type Phase string

// The phases of a member's entry.
const (
	// PhaseRecovered: the member published its position and waits.
	PhaseRecovered Phase = "recovered"
	// PhaseStarted: its mariadbd was started, bootstrapping or joining.
	PhaseStarted Phase = "started"
	// PhaseSynced: its mariadbd was seen Synced.
	PhaseSynced Phase = "synced"
	// PhaseStopped: its mariadbd exited.
	PhaseStopped Phase = "stopped"
)

// running tells whether a member in this phase has a mariadbd.
func (p Phase) running() bool { return p == PhaseStarted || p == PhaseSynced }

// Entry is one member's part of the record.
type Entry struct {
	Phase Phase `json:"phase"`
	// Mode is how a started member started: bootstrap or join.
	Mode    ActionKind `json:"mode,omitempty"`
	HasData bool       `json:"hasData"`
	Position
	SafeToBootstrap bool `json:"safeToBootstrap"`
	// Seen is when the member wrote the entry.
	Seen time.Time `json:"seen"`
}

// Bootstrapped records one bootstrap.
type Bootstrapped struct {
	Round    int       `json:"round"`
	Member   string    `json:"member"`
	Position Position  `json:"position"`
	Reason   string    `json:"reason"`
	At       time.Time `json:"at"`
}

// Cluster is the record's memory of the cluster.
type Cluster struct {
	// UUID is the cluster's state UUID, written by the first member seen
	// Synced after a bootstrap.
	UUID string `json:"uuid,omitempty"`
	// Round counts bootstraps.
	Round int `json:"round"`
	// History holds the last bootstraps, oldest first.
	History []Bootstrapped `json:"history,omitempty"`
}

// historyLength bounds Cluster.History.
const historyLength = 10

// Record is the coordination record the members share.
type Record struct {
	Cluster Cluster
	Members map[string]Entry
	// Version is the resourceVersion the record was read at; empty when
	// it does not exist yet.
	Version string
	// stored is the ConfigMap it was read from, whose other keys, labels
	// and owners an update keeps.
	stored *corev1.ConfigMap
}

// clone returns a copy of r whose maps and slices may be changed.
func (r Record) clone() Record {
	c := r
	c.Members = make(map[string]Entry, len(r.Members))
	for k, v := range r.Members {
		c.Members[k] = v
	}
	c.Cluster.History = append([]Bootstrapped(nil), r.Cluster.History...)
	return c
}

// addBootstrap records a bootstrap by member.
func (r *Record) addBootstrap(member string, pos Position, reason string, at time.Time) {
	r.Cluster.Round++
	r.Cluster.History = append(r.Cluster.History, Bootstrapped{Round: r.Cluster.Round, Member: member, Position: pos, Reason: reason, At: at})
	if n := len(r.Cluster.History); n > historyLength {
		r.Cluster.History = r.Cluster.History[n-historyLength:]
	}
}

// ErrConflict is returned by Store.Update when the record changed since it
// was read.
var ErrConflict = errors.New("the coordination record changed since it was read")

// Store reads and writes the coordination record.
type Store interface {
	// Get returns the record; a missing record is empty, with no Version.
	Get(ctx context.Context) (Record, error)
	// Update writes r if the stored record is still at r.Version, or
	// returns ErrConflict.
	Update(ctx context.Context, r Record) error
}

// ConfigMapStore keeps the record in a ConfigMap.
type ConfigMapStore struct {
	Client          client.Client
	Namespace, Name string
}

const (
	clusterKey   = "cluster"
	memberPrefix = "member."
)

// Get reads the ConfigMap.
func (s ConfigMapStore) Get(ctx context.Context) (Record, error) {
	var cm corev1.ConfigMap
	err := s.Client.Get(ctx, client.ObjectKey{Namespace: s.Namespace, Name: s.Name}, &cm)
	if apierrors.IsNotFound(err) {
		return Record{Members: map[string]Entry{}}, nil
	}
	if err != nil {
		return Record{}, fmt.Errorf("reading the coordination record %s/%s: %w", s.Namespace, s.Name, err)
	}
	return decodeRecord(&cm)
}

// Update creates or updates the ConfigMap at the record's version.
func (s ConfigMapStore) Update(ctx context.Context, r Record) error {
	cm, err := encodeRecord(r)
	if err != nil {
		return err
	}
	cm.Namespace, cm.Name = s.Namespace, s.Name
	if r.Version == "" {
		err = s.Client.Create(ctx, cm)
	} else {
		err = s.Client.Update(ctx, cm)
	}
	if apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err) {
		return ErrConflict
	}
	if err != nil {
		return fmt.Errorf("writing the coordination record %s/%s: %w", s.Namespace, s.Name, err)
	}
	return nil
}

// decodeRecord reads a record out of its ConfigMap.
func decodeRecord(cm *corev1.ConfigMap) (Record, error) {
	r := Record{Members: map[string]Entry{}, Version: cm.ResourceVersion, stored: cm.DeepCopy()}
	for k, v := range cm.Data {
		var err error
		switch {
		case k == clusterKey:
			err = json.Unmarshal([]byte(v), &r.Cluster)
		case strings.HasPrefix(k, memberPrefix):
			var e Entry
			err = json.Unmarshal([]byte(v), &e)
			r.Members[strings.TrimPrefix(k, memberPrefix)] = e
		}
		if err != nil {
			return Record{}, fmt.Errorf("decoding key %s of the coordination record %s/%s: %w", k, cm.Namespace, cm.Name, err)
		}
	}
	return r, nil
}

// RecordManagedBy is the managed-by label of the coordination record: the
// members, not the operator, write it, and osk never prunes it.
const RecordManagedBy = "osk-galera"

// encodeRecord writes a record into a ConfigMap.
func encodeRecord(r Record) (*corev1.ConfigMap, error) {
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app.kubernetes.io/managed-by": RecordManagedBy}}}
	if r.stored != nil {
		cm = r.stored.DeepCopy()
	}
	cm.ResourceVersion = r.Version
	if cm.Data == nil {
		cm.Data = map[string]string{}
	}
	b, err := json.Marshal(r.Cluster)
	if err != nil {
		return nil, fmt.Errorf("encoding the record's cluster: %w", err)
	}
	cm.Data[clusterKey] = string(b)
	for name, e := range r.Members {
		b, err := json.Marshal(e)
		if err != nil {
			return nil, fmt.Errorf("encoding the record's entry of %s: %w", name, err)
		}
		cm.Data[memberPrefix+name] = string(b)
	}
	return cm, nil
}

// RecordOf decodes the record a ConfigMap holds, for readers other than
// the members (the operator's status).
func RecordOf(cm *corev1.ConfigMap) (Record, error) { return decodeRecord(cm) }
