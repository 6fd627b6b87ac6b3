package catalog

// LogShipper is StackLight's log shipper (syslog-ng), which osk renders on
// every node when features.stacklight.logs is on: no service's component,
// but a component all the same, with its image, resources and privileges.
//
// Root: the kubelet writes the pod log files under /var/log/pods as root,
// mode 0640, in directories only root may list, and the shipper keeps its
// file positions and disk buffer in a root-owned directory on the node.
// Root needs no capability for either (it owns them), so every capability
// stays dropped; the root filesystem stays read-only, the pod log
// directory is mounted read-only, and the pod shares no host namespace
// and mounts no API token. Resources: ProfileLight; the bed measured
// 16 MiB resident after shipping a Keystone and a Glance log through an
// outage.
var LogShipper = Component{
	Name: "log-shipper", Image: "syslog-ng", Profile: ProfileLight,
	Privileges: &Privileges{
		Why: "reads the kubelet's pod log files under /var/log/pods, which are root's and not world-readable, " +
			"and keeps its file positions and disk buffer in a root-owned directory on the node",
		Root: true,
	},
}
