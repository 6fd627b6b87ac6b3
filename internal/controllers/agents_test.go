package controllers

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/oskproject/osk/api/v1alpha1"
)

// TestAgentPodDeployments checks that a pod in a node agents' namespace
// leads to the deployment of its instance label whose agents run there,
// and to no other.
func TestAgentPodDeployments(t *testing.T) {
	deployment := func(ns, name, agents string) v1.OpenStackDeployment {
		d := v1.OpenStackDeployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
		d.Spec.Features.NodeAgents.Namespace = agents
		return d
	}
	ds := []v1.OpenStackDeployment{
		deployment("openstack", "cloud", "agents"),
		deployment("other", "cloud", "other-agents"),
		deployment("third", "cloud", ""),
		deployment("fourth", "edge", "agents"),
	}
	got := agentPodDeployments(ds, "agents", "cloud")
	if len(got) != 1 || got[0].Namespace != "openstack" || got[0].Name != "cloud" {
		t.Errorf("a pod of cloud in agents belongs to %v, want openstack/cloud", got)
	}
	if got := agentPodDeployments(ds, "third", "cloud"); len(got) != 0 {
		t.Errorf("a pod in its deployment's own namespace is an agent pod of %v", got)
	}
}
