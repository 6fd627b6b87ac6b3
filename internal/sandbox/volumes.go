package sandbox

import (
	"context"
	"log/slog"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// recycleVolumes makes the sandbox's released local volumes available
// again until ctx ends, as the Local Volume Provisioner does once it has
// wiped a released volume's disk. Without it, every claim deleted by a
// test would use up a volume for good.
func recycleVolumes(ctx context.Context, cs kubernetes.Interface, log *slog.Logger) {
	factory := informers.NewSharedInformerFactory(cs, 0)
	informer := factory.Core().V1().PersistentVolumes().Informer()
	reclaim := func(obj any) {
		pv, ok := obj.(*corev1.PersistentVolume)
		if !ok || pv.Status.Phase != corev1.VolumeReleased ||
			pv.Annotations["pv.kubernetes.io/provisioned-by"] != localVolumeProvisioner {
			return
		}
		pv = pv.DeepCopy()
		pv.Spec.ClaimRef = nil
		_, err := cs.CoreV1().PersistentVolumes().Update(ctx, pv, metav1.UpdateOptions{})
		switch {
		case err == nil:
			log.Debug("recycled a released local volume", "volume", pv.Name)
		case apierrors.IsConflict(err) || apierrors.IsNotFound(err) || ctx.Err() != nil:
			// Changed or gone since: the informer brings the next version.
		default:
			log.Error("recycling a released local volume", "volume", pv.Name, "err", err)
		}
	}
	if _, err := informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    reclaim,
		UpdateFunc: func(_, obj any) { reclaim(obj) },
	}); err != nil {
		log.Error("watching local volumes", "err", err)
		return
	}
	factory.Start(ctx.Done())
	<-ctx.Done()
	factory.Shutdown()
}
