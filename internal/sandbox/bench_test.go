package sandbox_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/oskproject/osk/internal/poll"
	"github.com/oskproject/osk/internal/sandbox"
)

// BenchmarkStart measures the start of a sandbox with built binaries, up
// to every component being healthy; stopping is not measured.
func BenchmarkStart(b *testing.B) {
	bins := mustBinaries(b)
	for range b.N {
		sb, err := sandbox.Start(b.Context(), sandbox.Options{Binaries: bins})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := sb.Stop(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

// BenchmarkRegister1000Nodes measures the creation of 1,000 nodes, up to
// every one of them being ready.
func BenchmarkRegister1000Nodes(b *testing.B) {
	topology := sandbox.Topology{ControlPlane: 100, Compute: 800, Gateway: 100}
	sb := start(b, sandbox.Options{})
	cs, err := kubernetes.NewForConfig(sb.RESTConfig())
	if err != nil {
		b.Fatal(err)
	}
	var elapsed time.Duration
	for range b.N {
		b.StartTimer()
		begin := time.Now()
		if err := sb.ApplyTopology(b.Context(), topology); err != nil {
			b.Fatal(err)
		}
		elapsed += time.Since(begin)
		b.StopTimer()
		deleteNodes(b, cs)
	}
	b.ReportMetric(float64(topology.Size()*b.N)/elapsed.Seconds(), "nodes/s")
}

// deleteNodes deletes every node and waits until they are gone.
func deleteNodes(b *testing.B, cs kubernetes.Interface) {
	b.Helper()
	nodes := cs.CoreV1().Nodes()
	if err := nodes.DeleteCollection(b.Context(), metav1.DeleteOptions{}, metav1.ListOptions{}); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(b.Context(), time.Minute)
	defer cancel()
	err := poll.Until(ctx, 250*time.Millisecond, "the nodes to be deleted", func(ctx context.Context) error {
		list, err := nodes.List(ctx, metav1.ListOptions{})
		if err == nil && len(list.Items) > 0 {
			return fmt.Errorf("%d nodes remain", len(list.Items))
		}
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
}
