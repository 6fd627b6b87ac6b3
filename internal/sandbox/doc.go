// Package sandbox runs a real Kubernetes control plane with simulated nodes
// on the local machine, for osk's tests and for "osk sandbox".
//
// The control plane is made of the upstream binaries: etcd,
// kube-apiserver, kube-controller-manager and kube-scheduler, with kwok
// playing the kubelets of as many fake nodes as a test needs. Their
// versions are pinned by the tools modules under hack/sandbox of the osk
// repository; [Build] compiles them through the Go module proxy into a
// cache outside the repository, and [Start] runs them on loopback with
// free ports and freshly generated certificates.
//
// A sandbox's processes never outlive the process that started it: they
// are forked from an OS thread locked for the sandbox's lifetime with
// PR_SET_PDEATHSIG, and a small reaper removes the sandbox's directory as
// soon as its owner is gone, however it ended.
package sandbox
