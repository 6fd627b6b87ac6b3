// Package cephtest gives tests on the sandbox, where no Ceph runs, a
// stand-in for the Ceph Secret (internal/cephkeys): complete, watched and
// well-formed, with fresh random keys that no cluster knows. Tests on
// real Ceph (test/ceph) publish a real one.
package cephtest

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/oskproject/osk/internal/cephkeys"
	"github.com/oskproject/osk/internal/defaulting"
)

// StandIn returns a complete Ceph Secret named as osk's default, in
// namespace: documentation addresses (TEST-NET-1) for the monitors and
// the gateway, a pool per role named as the role, a fresh key per client.
func StandIn(namespace string) *corev1.Secret {
	data := map[string][]byte{
		cephkeys.FSID:           []byte("7e1d2f0a-3b4c-4d5e-8f60-718293a4b5c6"),
		cephkeys.MonHost:        []byte("[v2:192.0.2.10:3300,v1:192.0.2.10:6789]"),
		cephkeys.RGWInternalURL: []byte("http://192.0.2.20:8080"),
	}
	for _, r := range cephkeys.Roles {
		data[cephkeys.Pool(r)] = []byte(r)
	}
	for _, c := range cephkeys.Clients {
		data[cephkeys.ClientKey(c)] = []byte(Key())
	}
	return &corev1.Secret{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{Name: defaulting.CephKeysSecret, Namespace: namespace,
			Labels: map[string]string{cephkeys.LabelWatched: "true"}},
		Data: data,
	}
}

// Key returns a new cephx key in the format ceph auth get-key prints:
// type 1 (AES), the creation time, length 16, 16 random bytes.
func Key() string {
	b := make([]byte, 28)
	binary.LittleEndian.PutUint16(b[0:2], 1)
	binary.LittleEndian.PutUint32(b[2:6], uint32(time.Now().Unix()))
	binary.LittleEndian.PutUint16(b[10:12], 16)
	if _, err := rand.Read(b[12:]); err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return base64.StdEncoding.EncodeToString(b)
}

// Create creates the stand-in in namespace, unless a Secret of its name
// exists there.
func Create(t testing.TB, c client.Client, namespace string) {
	t.Helper()
	if err := c.Create(t.Context(), StandIn(namespace)); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("creating the stand-in Ceph Secret: %v", err)
	}
}
