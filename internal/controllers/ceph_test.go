package controllers

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/oskproject/osk/internal/cephkeys"
)

const testKey = "AQDI6BFrTzOfFxAA8jovXopMLcNCLkeL8ofZRQ=="

func cephSecret(label bool, data map[string]string) *corev1.Secret {
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "keys"}, Data: map[string][]byte{}}
	if label {
		s.Labels = map[string]string{cephkeys.LabelWatched: "true"}
	}
	for k, v := range data {
		s.Data[k] = []byte(v)
	}
	return s
}

// TestJudgeCephKeys checks which services wait for the Ceph Secret and
// what the condition says, for each state of the Secret.
func TestJudgeCephKeys(t *testing.T) {
	reads := map[string][]string{
		"image":         {cephkeys.FSID, cephkeys.ClientKey("glance")},
		"block-storage": {cephkeys.FSID, cephkeys.ClientKey("cinder")},
	}
	for _, tc := range []struct {
		name    string
		secret  *corev1.Secret
		reads   map[string][]string
		held    string
		status  metav1.ConditionStatus
		reason  string
		message string
	}{
		{name: "no client", reads: nil},
		{name: "absent", reads: reads, held: "block-storage image", status: metav1.ConditionFalse, reason: "SecretMissing",
			message: "Secret keys does not exist (see the README's Ceph section for its keys); waiting: block-storage, image"},
		{name: "unlabelled", secret: cephSecret(false, nil), reads: reads, held: "block-storage image", status: metav1.ConditionFalse,
			reason: "SecretNotLabelled", message: "Secret keys lacks the label osk.dev/ceph-keys=true (osk watches only Secrets with it); waiting: block-storage, image"},
		{name: "one key missing", secret: cephSecret(true, map[string]string{cephkeys.FSID: "4b5c8c0a-ff60-454b-a1b4-9747aa737d19", cephkeys.ClientKey("glance"): testKey}),
			reads: reads, held: "block-storage", status: metav1.ConditionFalse, reason: "SecretIncomplete",
			message: "Secret keys lacks client.cinder.key; waiting: block-storage"},
		{name: "bad key", secret: cephSecret(true, map[string]string{cephkeys.FSID: "4b5c8c0a-ff60-454b-a1b4-9747aa737d19", cephkeys.ClientKey("glance"): "AQ==", cephkeys.ClientKey("cinder"): testKey}),
			reads: reads, held: "image", status: metav1.ConditionFalse, reason: "SecretIncomplete",
			message: "Secret keys client.glance.key is not a cephx key (as ceph auth get-key prints it); waiting: image"},
		{name: "complete", secret: cephSecret(true, map[string]string{cephkeys.FSID: "4b5c8c0a-ff60-454b-a1b4-9747aa737d19", cephkeys.ClientKey("glance"): testKey, cephkeys.ClientKey("cinder"): testKey}),
			reads: reads, status: metav1.ConditionTrue, reason: "Complete", message: "Secret keys holds every key the Ceph clients read"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := judgeCephKeys("keys", tc.secret, tc.reads)
			if tc.reads == nil {
				if !v.none || len(v.held) > 0 {
					t.Errorf("no client, verdict %+v", v)
				}
				return
			}
			var held []string
			for _, svc := range []string{"block-storage", "image"} {
				if v.held[svc] != "" {
					held = append(held, svc)
				}
			}
			if got := strings.Join(held, " "); got != tc.held {
				t.Errorf("held %q, want %q", got, tc.held)
			}
			if v.status != tc.status || v.reason != tc.reason || v.message != tc.message {
				t.Errorf("condition %s %s %q, want %s %s %q", v.status, v.reason, v.message, tc.status, tc.reason, tc.message)
			}
			if strings.Contains(v.message, testKey) {
				t.Error("the message quotes a key")
			}
		})
	}
}

// TestCephData checks that the renderer sees the Secret's data only once
// osk watches it.
func TestCephData(t *testing.T) {
	if cephData(nil) != nil || cephData(cephSecret(false, map[string]string{"fsid": "x"})) != nil {
		t.Error("an absent or unwatched Secret gives data")
	}
	if string(cephData(cephSecret(true, map[string]string{"fsid": "x"}))["fsid"]) != "x" {
		t.Error("a watched Secret gives no data")
	}
}
