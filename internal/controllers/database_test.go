package controllers

import (
	"errors"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/oskproject/osk/internal/galera"
)

func TestDatabaseCondition(t *testing.T) {
	members := []string{"mariadb-server-0", "mariadb-server-1", "mariadb-server-2"}
	at := time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)
	boot := galera.Cluster{UUID: "u", Round: 2, History: []galera.Bootstrapped{
		{Round: 1, Member: "mariadb-server-0", Reason: "new cluster", At: at.Add(-time.Hour)},
		{Round: 2, Member: "mariadb-server-1", Reason: "mariadb-server-1 has the most recent committed position u:7", At: at},
	}}
	record := func(c galera.Cluster, phases ...galera.Entry) *galera.Record {
		r := &galera.Record{Cluster: c, Members: map[string]galera.Entry{}}
		for i, e := range phases {
			r.Members[members[i]] = e
		}
		return r
	}
	synced := galera.Entry{Phase: galera.PhaseSynced}
	cases := []struct {
		name    string
		record  *galera.Record
		status  metav1.ConditionStatus
		reason  string
		message []string
	}{
		{"no record", nil, metav1.ConditionUnknown, "NoRecord", []string{"mariadb-galera"}},
		{"unreadable record", nil, metav1.ConditionUnknown, "RecordUnreadable", []string{"forbidden"}},
		{"all synced", record(boot, synced, synced, synced), metav1.ConditionTrue, "Synced",
			[]string{"3/3 members synced", "bootstrap 2 by mariadb-server-1 at 2026-11-26T02:00:00Z: mariadb-server-1 has the most recent"}},
		{"one recovering", record(boot, synced, synced, galera.Entry{Phase: galera.PhaseRecovered}), metav1.ConditionFalse, "Degraded",
			[]string{"2/3 members synced", "mariadb-server-2 recovered"}},
		{"bootstrapping", record(galera.Cluster{Round: 1, History: boot.History[:1]},
			galera.Entry{Phase: galera.PhaseStarted, Mode: galera.Bootstrap}, galera.Entry{Phase: galera.PhaseRecovered}),
			metav1.ConditionFalse, "Starting",
			[]string{"0/3 members synced", "mariadb-server-0 started (bootstrap)", "mariadb-server-2 not reported", "bootstrap 1 by mariadb-server-0"}},
		{"no bootstrap yet", record(galera.Cluster{}, galera.Entry{Phase: galera.PhaseRecovered}), metav1.ConditionFalse, "Starting",
			[]string{"no bootstrap yet"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := galeraView{members: members, record: tc.record}
			if tc.reason == "RecordUnreadable" {
				v.err = errors.New("reading the Galera record mariadb-galera: forbidden")
			}
			status, reason, msg := databaseCondition(v)
			if status != tc.status || reason != tc.reason {
				t.Errorf("condition = %s %s, want %s %s (%s)", status, reason, tc.status, tc.reason, msg)
			}
			for _, want := range tc.message {
				if !strings.Contains(msg, want) {
					t.Errorf("message %q lacks %q", msg, want)
				}
			}
		})
	}
}
