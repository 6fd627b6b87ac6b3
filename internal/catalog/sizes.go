package catalog

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	v1 "github.com/oskproject/osk/api/v1alpha1"
)

// replicas maps size and replica class to a replica count.
var replicas = map[v1.Size]map[Scale]int32{
	v1.SizeSingle: {ScaleAPI: 1, ScaleWorker: 1, ScaleSingleton: 1, ScaleQuorum: 1},
	v1.SizeTiny:   {ScaleAPI: 2, ScaleWorker: 1, ScaleSingleton: 1, ScaleQuorum: 3},
	v1.SizeSmall:  {ScaleAPI: 3, ScaleWorker: 2, ScaleSingleton: 1, ScaleQuorum: 3},
	v1.SizeMedium: {ScaleAPI: 6, ScaleWorker: 3, ScaleSingleton: 1, ScaleQuorum: 3},
}

// workers is the number of worker processes of each API pod by size.
var workers = map[v1.Size]int{v1.SizeSingle: 1, v1.SizeTiny: 2, v1.SizeSmall: 4, v1.SizeMedium: 8}

// resources are requests (CPU, memory) and memory limits by profile; the
// size multiplies them for the profiles that grow with the cloud. Every
// container has a memory limit: a leaking process is stopped before it
// starves its node.
var resources = map[Profile][3]string{
	ProfileLight:    {"50m", "64Mi", "512Mi"},
	ProfileAPI:      {"100m", "256Mi", "2Gi"},
	ProfileWorker:   {"100m", "256Mi", "2Gi"},
	ProfileAgent:    {"100m", "128Mi", "2Gi"},
	ProfileDatabase: {"500m", "1Gi", "8Gi"},
	ProfileInit:     {"10m", "32Mi", "256Mi"},
	ProfileJob:      {"100m", "256Mi", "2Gi"},
}

// sizeFactor scales requests and limits.
var sizeFactor = map[v1.Size]int64{v1.SizeSingle: 1, v1.SizeTiny: 1, v1.SizeSmall: 2, v1.SizeMedium: 4}

// fixedSize are the profiles whose work does not grow with the cloud.
var fixedSize = map[Profile]bool{ProfileInit: true, ProfileJob: true}

// ReplicasFor returns a component's replica count for a size; 0 for
// components that run on every node of their role.
func (c *Component) ReplicasFor(size v1.Size) int32 {
	if n, ok := c.Replicas[size]; ok {
		return n
	}
	return replicas[size][c.Scale]
}

// Workers returns the worker processes of an API pod for a size.
func Workers(size v1.Size) int { return workers[size] }

// ResourcesFor returns a component's resources for a size.
func (c *Component) ResourcesFor(size v1.Size) corev1.ResourceRequirements {
	return ResourcesFor(c.Profile, size)
}

// ResourcesFor returns the requests and limits of a resource class for a
// size; ProfileLight's when p is empty.
func ResourcesFor(p Profile, size v1.Size) corev1.ResourceRequirements {
	if p == "" {
		p = ProfileLight
	}
	r := resources[p]
	f := sizeFactor[size]
	if fixedSize[p] || f == 0 {
		f = 1
	}
	scale := func(s string) resource.Quantity {
		q := resource.MustParse(s)
		return *resource.NewQuantity(q.Value()*f, resource.BinarySI)
	}
	return corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: milli(r[0], f), corev1.ResourceMemory: scale(r[1])},
		Limits:   corev1.ResourceList{corev1.ResourceMemory: scale(r[2])},
	}
}

// milli multiplies a CPU quantity.
func milli(s string, f int64) resource.Quantity {
	q := resource.MustParse(s)
	return *resource.NewMilliQuantity(q.MilliValue()*f, resource.DecimalSI)
}

// Replicas is how many replicas a component of a service runs: the
// spec's override, or its scale class's for the deployment's size.
func (c *Context) Replicas(s *Service, comp *Component) int32 {
	if r := c.Spec.Services[s.Name].Components[comp.Name].Replicas; r != nil {
		return *r
	}
	return comp.ReplicasFor(c.Spec.Size)
}
