package catalog

// Pod Security's "restricted" profile refuses a pod that runs as root, is
// privileged, uses the host's network or processes, mounts a host path or
// adds a capability other than NET_BIND_SERVICE. The components whose
// Privileges or volumes need one of these are the node agents: osk runs
// them in features.nodeAgents.namespace, so that the control plane's
// namespace can enforce the profile.

// restrictedCapability is the one capability the restricted profile lets a
// container add.
const restrictedCapability = "NET_BIND_SERVICE"

// Restricted reports whether a container with these privileges fits the
// restricted profile; no privileges always do.
func (p *Privileges) Restricted() bool {
	if p == nil {
		return true
	}
	if p.RunsAsRoot() || p.HostNetwork || p.HostPID {
		return false
	}
	for _, c := range p.Capabilities {
		if c != restrictedCapability {
			return false
		}
	}
	return true
}

// NodeAgent reports whether the restricted profile refuses the component's
// pods in this deployment: its own privileges, those of a sidecar it
// runs, or a host path it mounts.
func (c *Component) NodeAgent(ctx *Context) bool {
	if !c.Privileges.Restricted() {
		return true
	}
	for _, sc := range c.Sidecars {
		if (sc.When == nil || sc.When(ctx)) && !sc.Privileges.Restricted() {
			return true
		}
	}
	for _, v := range c.Volumes {
		if v.Kind == VolumeHostPath && (v.When == nil || v.When(ctx)) {
			return true
		}
	}
	return false
}
