package controllers

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/render"
)

// The node agents may run in a namespace of their own
// (features.nodeAgents.namespace), where no owner reference can point
// back to the deployment: their objects are the deployment's by the
// owner label alone, and their pods by their instance label in a
// namespace the deployment names.

// deploymentOfLabelOnly names the deployment of an object osk owns by
// its owner label alone; objects with an owner reference are left to
// the owner's handler.
func (r *OpenStackDeploymentReconciler) deploymentOfLabelOnly(ctx context.Context, o client.Object) []reconcile.Request {
	if len(o.GetOwnerReferences()) > 0 {
		return nil
	}
	return r.deploymentOfOwnerLabel(ctx, o)
}

// deploymentsOfAgentPod names the deployments whose node agents run in
// a pod's namespace, away from their own, and whose name the pod's
// instance label holds.
func (r *OpenStackDeploymentReconciler) deploymentsOfAgentPod(ctx context.Context, o client.Object) []reconcile.Request {
	name := o.GetLabels()[render.LabelInstance]
	if name == "" {
		return nil
	}
	list := &v1.OpenStackDeploymentList{}
	if err := r.Client.List(ctx, list); err != nil {
		log.FromContext(ctx).Error(err, "Listing deployments to find an agent pod's", "pod", o.GetName())
		return nil
	}
	return agentPodDeployments(list.Items, o.GetNamespace(), name)
}

// agentPodDeployments are the deployments named name whose node agents
// run in namespace, which is not their own.
func agentPodDeployments(ds []v1.OpenStackDeployment, namespace, name string) []reconcile.Request {
	var out []reconcile.Request
	for i := range ds {
		d := &ds[i]
		if d.Name == name && d.Namespace != namespace && render.AgentsNamespace(d) == namespace {
			out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(d)})
		}
	}
	return out
}
