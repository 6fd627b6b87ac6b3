package render

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/oskproject/osk/internal/catalog"
	"github.com/oskproject/osk/internal/monitoring"
)

// The log shipper's names and paths.
const (
	// LogShipper names its ConfigMap and container and, with the node
	// role's short name, its DaemonSets (log-shipper-compute, ...).
	LogShipper = "log-shipper" // catalog.LogShipper.Name
	// LogShipperConfig is its configuration file, the ConfigMap's key.
	LogShipperConfig = "syslog-ng.conf"
	// PodLogDir is where the kubelet writes every container's log.
	PodLogDir = "/var/log/pods"
	// LogStateDir holds, per deployment namespace, the shipper's file
	// positions and disk buffer on the node (a hostPath, so that a new
	// pod takes over where the last one stopped).
	LogStateDir = "/var/lib/osk-logs"
	// logConfigDir is where the ConfigMap's file is mounted.
	logConfigDir = "/etc/osk-logs"
)

// logDefaultURL is OpenSearch's address when features.stacklight.logs.url
// is empty: the OpenSearch chart's default Service in the stack's
// namespace.
const logDefaultURL = "http://opensearch-cluster-master.%s.svc:9200"

// renderLogs renders the log shipper when StackLight and its logs are on:
// its configuration (a ConfigMap: it holds no secret) and, per node role,
// a DaemonSet on the nodes of that role and of no role before it (in
// sorted order), so that every node of the deployment runs exactly one.
func (m *model) renderLogs() {
	sl := m.d.Spec.Features.StackLight
	if !sl.Enabled || !sl.Logs.Enabled {
		return
	}
	s := m.service(monitoringService)
	l := m.labels(s, LogShipper)
	url := sl.Logs.URL
	if url == "" {
		url = fmt.Sprintf(logDefaultURL, sl.Namespace)
	}
	config := monitoring.ShipperConfig(monitoring.LogShipper{
		PodLogs: PodLogDir, Namespace: m.d.Namespace, Agents: AgentsNamespace(m.d), URL: url,
		Credentials: sl.Logs.CredentialsSecret != "", StateDir: LogStateDir, Self: LogShipper,
	})
	m.add(&corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: m.meta(LogShipper, l),
		Data:       map[string]string{LogShipperConfig: config},
	})
	pod := m.logShipperPod(sl.Logs.CredentialsSecret)
	roles := sortedKeys(roleShort)
	for i, role := range roles {
		rl := m.labels(s, LogShipper+"-"+roleShort[role])
		meta := m.meta(LogShipper+"-"+roleShort[role], rl)
		meta.Namespace = m.podNamespace(&catalog.LogShipper)
		spec := *pod.DeepCopy()
		spec.NodeSelector = map[string]string{role: catalog.RoleValue}
		if i > 0 {
			spec.Affinity = notOnRoles(roles[:i])
		}
		m.add(&appsv1.DaemonSet{
			TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "DaemonSet"},
			ObjectMeta: meta,
			Spec: appsv1.DaemonSetSpec{
				UpdateStrategy: nodeRollout(nil),
				Selector:       &metav1.LabelSelector{MatchLabels: selector(rl)},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: rl, Annotations: map[string]string{
						AnnotationConfigHash: hash([]byte(config), []byte(sl.Logs.CredentialsSecret)),
					}},
					Spec: spec,
				},
			},
		})
	}
}

// logShipperPod is the shipper's pod: syslog-ng with its configuration,
// the node's pod logs (read-only) and its state directory, the node's
// name and, when named, OpenSearch's credentials from their Secret.
func (m *model) logShipperPod(credentials string) *corev1.PodSpec {
	state := LogStateDir + "/" + m.d.Namespace
	env := []corev1.EnvVar{{Name: monitoring.EnvNodeName, ValueFrom: &corev1.EnvVarSource{
		FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.nodeName"}}}}
	if credentials != "" {
		for _, e := range []struct{ name, key string }{{monitoring.EnvUsername, "username"}, {monitoring.EnvPassword, "password"}} {
			env = append(env, corev1.EnvVar{Name: e.name, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
				LocalObjectReference: corev1.LocalObjectReference{Name: credentials}, Key: e.key}}})
		}
	}
	ctr := corev1.Container{
		Name: catalog.LogShipper.Name, Image: m.images[catalog.LogShipper.Image],
		Command: monitoring.ShipperArgs(logConfigDir+"/"+LogShipperConfig, LogStateDir, "/tmp"),
		Env:     env,
		VolumeMounts: []corev1.VolumeMount{
			{Name: "config", MountPath: logConfigDir + "/" + LogShipperConfig, SubPath: LogShipperConfig, ReadOnly: true},
			{Name: "pod-logs", MountPath: PodLogDir, ReadOnly: true},
			{Name: "state", MountPath: LogStateDir},
		},
	}
	rt, p := runtime(catalog.LogShipper.Image), catalog.LogShipper.Privileges
	m.secure(&ctr, rt, p, catalog.LogShipper.Profile)
	directory, orCreate := corev1.HostPathDirectory, corev1.HostPathDirectoryOrCreate
	spec := &corev1.PodSpec{
		AutomountServiceAccountToken: ptr(false),
		Containers:                   []corev1.Container{ctr},
		// A node going away should not wait for the shipper: what it has
		// not sent stays in the disk buffer for the next pod.
		TerminationGracePeriodSeconds: ptr[int64](30),
		Volumes: []corev1.Volume{
			{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
				LocalObjectReference: corev1.LocalObjectReference{Name: LogShipper}}}},
			{Name: "pod-logs", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: PodLogDir, Type: &directory}}},
			{Name: "state", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: state, Type: &orCreate}}},
		},
	}
	securePod(spec, rt, p)
	return spec
}

// notOnRoles keeps a pod off the nodes carrying any of the given roles.
func notOnRoles(roles []string) *corev1.Affinity {
	term := corev1.NodeSelectorTerm{}
	for _, r := range roles {
		term.MatchExpressions = append(term.MatchExpressions, corev1.NodeSelectorRequirement{
			Key: r, Operator: corev1.NodeSelectorOpNotIn, Values: []string{catalog.RoleValue}})
	}
	return &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{term}}}}
}
