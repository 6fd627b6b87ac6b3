package render

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/catalog"
)

// workload is one workload being rendered: a component, possibly in a
// node variant.
type workload struct {
	s      *catalog.Service
	c      *catalog.Component
	ctx    *catalog.Context
	name   string
	secret string
	files  map[string][]byte
	// nodeLabel, for a node variant, is the label (key, value) it serves.
	nodeKey, nodeLabel, nodeValue string
	// exclude lists node labels (key → value) the workload stays off.
	exclude [][2]string
}

// renderComponent renders a component's workload, Services, claims and
// budget, and its node variants.
func (m *model) renderComponent(s *catalog.Service, c *catalog.Component, base fileSet, baseFiles map[string][]byte) {
	name := s.Project + "-" + c.Name
	files := m.content(s, m.ctx, m.componentFiles(s, c, base), c.Reads)
	w := &workload{s: s, c: c, ctx: m.ctx, name: name, secret: s.Project + "-etc", files: files}
	if !subset(files, baseFiles) {
		w.secret = name + "-etc"
		m.add(m.configSecret(w.secret, m.labels(s, c.Name), files))
	}
	if c.Kind == catalog.DaemonSet {
		w.exclude = m.renderNodeVariants(w)
	}
	m.add(m.podController(w))
	m.add(m.services(w)...)
	m.add(m.claims(w)...)
	if pdb := m.budget(w); pdb != nil {
		m.add(pdb)
	}
	m.add(m.configMapsRBAC(w)...)
}

// addOskBinary gives an OskBinary component's pods osk's binary: an init
// container of the osk image copies it into an emptyDir every container
// mounts at catalog.OskDir.
func (m *model) addOskBinary(w *workload, spec *corev1.PodSpec) {
	if !w.c.OskBinary {
		return
	}
	mount := corev1.VolumeMount{Name: "osk-bin", MountPath: catalog.OskDir}
	install := corev1.Container{
		Name: "install-osk", Image: m.images["osk"], Command: []string{"osk", "install", catalog.OskDir + "/osk"},
		VolumeMounts: []corev1.VolumeMount{mount},
	}
	m.secure(&install, runtime("osk"), nil, catalog.ProfileInit)
	spec.InitContainers = append(spec.InitContainers, install)
	for i := range spec.Containers {
		spec.Containers[i].VolumeMounts = append(spec.Containers[i].VolumeMounts, mount)
	}
	spec.Volumes = append(spec.Volumes, corev1.Volume{Name: "osk-bin", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}})
}

// configMapsRBAC lets a component's pods create the ConfigMaps it names
// and read and update them (create cannot be limited by name).
func (m *model) configMapsRBAC(w *workload) []client.Object {
	if len(w.c.ConfigMaps) == 0 || w.nodeKey != "" {
		return nil
	}
	role, binding := m.role(w.name, m.labels(w.s, w.c.Name), w.s.Project, []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"create"}},
		{APIGroups: []string{""}, Resources: []string{"configmaps"}, ResourceNames: w.c.ConfigMaps, Verbs: []string{"get", "update"}},
	})
	return []client.Object{role, binding}
}

// subset reports whether every file of a is in b with the same content.
func subset(a, b map[string][]byte) bool {
	for n, v := range a {
		if !bytes.Equal(v, b[n]) {
			return false
		}
	}
	return true
}

// claimsWhenDeleted says what happens to a StatefulSet's claims when osk
// deletes it: a durable service keeps its data unless the spec says
// otherwise; the others (message queues, coordination, caches) hold
// nothing that outlives the deployment.
func (m *model) claimsWhenDeleted(s *catalog.Service) appsv1.PersistentVolumeClaimRetentionPolicyType {
	if s.Durable && m.d.Spec.Features.Database.VolumeClaimPolicy != v1.VolumeClaimsDelete {
		return appsv1.RetainPersistentVolumeClaimRetentionPolicyType
	}
	return appsv1.DeletePersistentVolumeClaimRetentionPolicyType
}

// podController renders the Deployment, StatefulSet or DaemonSet.
func (m *model) podController(w *workload) client.Object {
	l := m.labels(w.s, w.c.Name)
	sel := &metav1.LabelSelector{MatchLabels: selector(l)}
	if w.nodeKey != "" {
		sel.MatchLabels[LabelComponent] = w.c.Name + "-" + slug(w.nodeKey)
		l[LabelComponent] = sel.MatchLabels[LabelComponent]
	}
	tpl := m.podTemplate(w, l)
	m.notePods(w, l)
	meta := m.meta(w.name, l)
	meta.Namespace = m.podNamespace(w.c)
	if w.nodeKey != "" {
		meta.Annotations = map[string]string{AnnotationNodeOverride: w.nodeKey}
	}
	replicas := m.replicas(w.s, w.c)
	switch w.c.Kind {
	case catalog.StatefulSet:
		return &appsv1.StatefulSet{
			TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "StatefulSet"}, ObjectMeta: meta,
			Spec: appsv1.StatefulSetSpec{
				Replicas: &replicas, Selector: sel, Template: tpl, ServiceName: w.name + "-peers",
				PodManagementPolicy:  appsv1.ParallelPodManagement,
				VolumeClaimTemplates: m.claimTemplates(w),
				PersistentVolumeClaimRetentionPolicy: &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{
					WhenDeleted: m.claimsWhenDeleted(w.s), WhenScaled: appsv1.RetainPersistentVolumeClaimRetentionPolicyType,
				},
			},
		}
	case catalog.DaemonSet:
		return &appsv1.DaemonSet{
			TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "DaemonSet"}, ObjectMeta: meta,
			Spec: appsv1.DaemonSetSpec{Selector: sel, Template: tpl,
				UpdateStrategy: nodeRollout(m.d.Spec.Services[w.s.Name].Components[w.c.Name].MaxUnavailable)},
		}
	default:
		return &appsv1.Deployment{
			TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"}, ObjectMeta: meta,
			Spec: appsv1.DeploymentSpec{Replicas: &replicas, Selector: sel, Template: tpl},
		}
	}
}

// DefaultMaxUnavailable is how many nodes' pods a DaemonSet's rollout
// replaces at once unless the spec says otherwise.
var DefaultMaxUnavailable = intstr.FromString("10%")

// nodeRollout is a DaemonSet's update strategy: rolling, n nodes' pods
// at a time (DefaultMaxUnavailable when nil).
func nodeRollout(n *intstr.IntOrString) appsv1.DaemonSetUpdateStrategy {
	if n == nil {
		n = &DefaultMaxUnavailable
	}
	m := *n
	return appsv1.DaemonSetUpdateStrategy{Type: appsv1.RollingUpdateDaemonSetStrategyType,
		RollingUpdate: &appsv1.RollingUpdateDaemonSet{MaxUnavailable: &m}}
}

// podTemplate renders the pods of a workload.
func (m *model) podTemplate(w *workload, l map[string]string) corev1.PodTemplateSpec {
	c := w.c
	spec := corev1.PodSpec{
		ServiceAccountName: w.s.Project,
		NodeSelector:       map[string]string{c.Role: catalog.RoleValue},
		Affinity:           m.affinity(w),
		Containers:         []corev1.Container{m.mainContainer(w)},
		Volumes:            m.volumes(w.name, w.ctx, w.secret, w.files, c.Volumes, c.Kind),
	}
	if w.nodeLabel != "" {
		spec.NodeSelector[w.nodeLabel] = w.nodeValue
	}
	for _, sc := range c.Sidecars {
		if sc.When == nil || sc.When(w.ctx) {
			spec.Containers = append(spec.Containers, m.sidecar(w, sc))
		}
	}
	m.addOskBinary(w, &spec)
	if init := m.nodeConfigContainer(w); init != nil {
		spec.InitContainers = append(spec.InitContainers, *init)
		spec.Volumes = append(spec.Volumes, corev1.Volume{Name: "node-config",
			VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumMemory}}})
	}
	caHash := m.addNodeCertificates(w, &spec) + m.addInternalTLS(w, &spec)
	securePod(&spec, runtime(or(c.Image, w.s.Image)), c.Privileges)
	if d := c.DrainSeconds; d > 0 {
		spec.TerminationGracePeriodSeconds = ptr(int64(d) + 30)
		spec.Containers[0].Lifecycle = &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{
			Exec: &corev1.ExecAction{Command: []string{"sleep", fmt.Sprint(d)}}}}
	}
	ann := map[string]string{AnnotationConfigHash: hashFiles(w.files, spec.Containers[0].Image, strings.Join(m.nodeInterfaces(w), ",")+caHash)}
	return corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: l, Annotations: ann}, Spec: spec}
}

// mainContainer renders a component's own container.
func (m *model) mainContainer(w *workload) corev1.Container {
	c := w.c
	ctr := corev1.Container{
		Name:         c.Name,
		Image:        m.image(w.s, c.Image),
		Command:      m.command(w.ctx, c.Command, c.Args),
		Env:          m.env(c.Env, c.Kind == catalog.StatefulSet, w),
		Ports:        containerPorts(slices.Concat(c.Ports, c.MetricsPorts)),
		Resources:    m.resources(w.s, c),
		VolumeMounts: m.mounts(w.s, w.ctx, w.files, c.Volumes),
	}
	if len(c.NodeAddresses) > 0 {
		ctr.VolumeMounts = append(ctr.VolumeMounts, corev1.VolumeMount{Name: "node-config", MountPath: catalog.NodeConfigDir, ReadOnly: true})
	}
	m.secure(&ctr, runtime(or(c.Image, w.s.Image)), c.Privileges, c.Profile)
	if p := probe(c); p != nil {
		ctr.ReadinessProbe = p
		live := *p
		if len(c.Probe.LiveCommand) > 0 {
			live.Exec = &corev1.ExecAction{Command: c.Probe.LiveCommand}
		}
		live.InitialDelaySeconds, live.FailureThreshold = 30, 6
		if t := c.Probe.LiveTimeoutSeconds; t > 0 {
			live.TimeoutSeconds, live.PeriodSeconds, live.InitialDelaySeconds, live.FailureThreshold = t, 2*t, 120, 3
		}
		if s := c.Probe.StartupSeconds; s > 0 {
			start := *p
			start.FailureThreshold = (s + start.PeriodSeconds - 1) / start.PeriodSeconds
			ctr.StartupProbe = &start
			live.InitialDelaySeconds = 0
		}
		ctr.LivenessProbe = &live
	}
	return ctr
}

// sidecar renders an extra container of a component's pods.
func (m *model) sidecar(w *workload, sc catalog.Container) corev1.Container {
	image := or(sc.Image, or(w.c.Image, w.s.Image))
	ctr := corev1.Container{
		Name:    sc.Name,
		Image:   m.images[image],
		Command: sc.Command,
		Env:     m.env(sc.Env, false, w),
		Ports:   containerPorts(sc.Ports),
	}
	if !sc.Isolated {
		ctr.VolumeMounts = m.mounts(w.s, w.ctx, w.files, w.c.Volumes)
	}
	for _, v := range active(w.ctx, w.c.Volumes) {
		if slices.Contains(sc.ReadOnlyVolumes, v.Name) {
			ctr.VolumeMounts = append(ctr.VolumeMounts, corev1.VolumeMount{Name: v.Name, MountPath: v.MountPath, ReadOnly: true})
		}
	}
	m.secure(&ctr, runtime(image), sc.Privileges, sc.Profile)
	return ctr
}

// command joins a catalog command and its computed arguments.
func (m *model) command(ctx *catalog.Context, cmd []string, args func(*catalog.Context) []string) []string {
	out := append([]string(nil), cmd...)
	if args != nil {
		out = append(out, args(ctx)...)
	}
	return out
}

// image resolves a catalog image name; the service's by default.
func (m *model) image(s *catalog.Service, name string) string {
	return m.images[or(name, s.Image)]
}

// env builds a container's environment: where it runs, StatefulSet
// peers, and the catalog's variables.
func (m *model) env(vars []catalog.Env, peers bool, w *workload) []corev1.EnvVar {
	field := func(name, path string) corev1.EnvVar {
		return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: path}}}
	}
	env := []corev1.EnvVar{
		field("POD_NAME", "metadata.name"), field("POD_NAMESPACE", "metadata.namespace"), field("NODE_NAME", "spec.nodeName"),
	}
	if peers {
		n := int(m.replicas(w.s, w.c))
		members := make([]string, n)
		for i := range members {
			members[i] = fmt.Sprintf("%s-%d", w.name, i)
		}
		env = append(env,
			corev1.EnvVar{Name: "PEERS", Value: fmt.Sprintf("%s-peers.%s.svc.%s", w.name, m.d.Namespace, m.d.Spec.InternalDomainName)},
			corev1.EnvVar{Name: "MEMBERS", Value: strings.Join(members, ",")})
	}
	for _, v := range vars {
		if v.Secret == "" {
			env = append(env, corev1.EnvVar{Name: v.Name, Value: v.Value})
			continue
		}
		env = append(env, corev1.EnvVar{Name: v.Name, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: v.Secret}, Key: v.Key}}})
	}
	return env
}

func containerPorts(ports []catalog.Port) []corev1.ContainerPort {
	var out []corev1.ContainerPort
	for _, p := range ports {
		out = append(out, corev1.ContainerPort{Name: p.Name, ContainerPort: p.Port, Protocol: corev1.ProtocolTCP})
		if p.UDP {
			out = append(out, corev1.ContainerPort{Name: p.Name + "-udp", ContainerPort: p.Port, Protocol: corev1.ProtocolUDP})
		}
	}
	return out
}

// resources are the spec's override or the size's.
func (m *model) resources(s *catalog.Service, c *catalog.Component) corev1.ResourceRequirements {
	if r := m.d.Spec.Services[s.Name].Components[c.Name].Resources; r != nil {
		return *r
	}
	return c.ResourcesFor(m.d.Spec.Size)
}

func probe(c *catalog.Component) *corev1.Probe {
	p := c.Probe
	port := p.Port
	if port == 0 && len(c.Ports) > 0 {
		port = c.Ports[0].Port
	}
	var h corev1.ProbeHandler
	switch p.Kind {
	case catalog.ProbeHTTP:
		h.HTTPGet = &corev1.HTTPGetAction{Path: p.Path, Port: intstr.FromInt32(port)}
	case catalog.ProbeTCP:
		h.TCPSocket = &corev1.TCPSocketAction{Port: intstr.FromInt32(port)}
	case catalog.ProbeExec:
		h.Exec = &corev1.ExecAction{Command: p.Command}
	default:
		return nil
	}
	return &corev1.Probe{ProbeHandler: h, PeriodSeconds: 10, TimeoutSeconds: 5, FailureThreshold: 3}
}

// affinity spreads replicas over nodes and keeps a DaemonSet off the
// nodes its node variants serve.
func (m *model) affinity(w *workload) *corev1.Affinity {
	a := &corev1.Affinity{}
	if w.c.Kind != catalog.DaemonSet && m.replicas(w.s, w.c) > 1 {
		a.PodAntiAffinity = &corev1.PodAntiAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{{
			Weight: 100,
			PodAffinityTerm: corev1.PodAffinityTerm{
				TopologyKey:   corev1.LabelHostname,
				LabelSelector: &metav1.LabelSelector{MatchLabels: selector(m.labels(w.s, w.c.Name))},
			},
		}}}
	}
	if len(w.exclude) > 0 {
		var reqs []corev1.NodeSelectorRequirement
		for _, kv := range w.exclude {
			reqs = append(reqs, corev1.NodeSelectorRequirement{Key: kv[0], Operator: corev1.NodeSelectorOpNotIn, Values: []string{kv[1]}})
		}
		a.NodeAffinity = &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
			NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: reqs}},
		}}
	}
	if a.PodAntiAffinity == nil && a.NodeAffinity == nil {
		return nil
	}
	return a
}

// services renders the Service of a component's ports and, for a
// StatefulSet, the headless Service of its members.
func (m *model) services(w *workload) []client.Object {
	if len(w.c.Ports) == 0 || w.nodeKey != "" {
		return nil
	}
	l := m.labels(w.s, w.c.Name)
	var ports []corev1.ServicePort
	for _, p := range w.c.Ports {
		ports = append(ports, corev1.ServicePort{Name: p.Name, Port: p.Exposed(), TargetPort: intstr.FromInt32(p.Port), Protocol: corev1.ProtocolTCP})
		if p.UDP {
			ports = append(ports, corev1.ServicePort{Name: p.Name + "-udp", Port: p.Exposed(), TargetPort: intstr.FromInt32(p.Port), Protocol: corev1.ProtocolUDP})
		}
	}
	svc := func(name string, headless bool) *corev1.Service {
		s := &corev1.Service{
			TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Service"}, ObjectMeta: m.meta(name, l),
			Spec: corev1.ServiceSpec{Selector: selector(l), Ports: ports, Type: corev1.ServiceTypeClusterIP},
		}
		if headless {
			s.Spec.ClusterIP = corev1.ClusterIPNone
			s.Spec.PublishNotReadyAddresses = true
		} else if w.c.LoadBalancer {
			s.Spec.Type = corev1.ServiceTypeLoadBalancer
		}
		return s
	}
	out := []client.Object{svc(w.name, false)}
	if w.c.Kind == catalog.StatefulSet {
		out = append(out, svc(w.name+"-peers", true))
	}
	return out
}

// budget keeps all but one replica of a replicated workload running
// through voluntary disruptions such as node drains.
func (m *model) budget(w *workload) client.Object {
	if w.c.Kind == catalog.DaemonSet || m.replicas(w.s, w.c) < 2 {
		return nil
	}
	one := intstr.FromInt32(1)
	return &policyv1.PodDisruptionBudget{
		TypeMeta:   metav1.TypeMeta{APIVersion: "policy/v1", Kind: "PodDisruptionBudget"},
		ObjectMeta: m.meta(w.name, m.labels(w.s, w.c.Name)),
		Spec: policyv1.PodDisruptionBudgetSpec{
			MaxUnavailable: &one,
			Selector:       &metav1.LabelSelector{MatchLabels: selector(m.labels(w.s, w.c.Name))},
		},
	}
}

// storageClass returns the class of a claim kind.
func (m *model) storageClass(k catalog.VolumeKind) *string {
	if k == catalog.VolumeLocal {
		return ptr(m.d.Spec.StorageClasses.Local)
	}
	if m.d.Spec.StorageClasses.Persistent == "" {
		return nil
	}
	return ptr(m.d.Spec.StorageClasses.Persistent)
}

func (m *model) claimSpec(v catalog.Volume) corev1.PersistentVolumeClaimSpec {
	size := v.Size
	if v.SizeFrom != nil {
		size = v.SizeFrom(m.ctx)
	}
	return corev1.PersistentVolumeClaimSpec{
		AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
		StorageClassName: m.storageClass(v.Kind),
		Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(size)}},
	}
}

func isClaim(v catalog.Volume) bool {
	return v.Kind == catalog.VolumeLocal || v.Kind == catalog.VolumePersistent
}

// claimTemplates are a StatefulSet's claims; like the API server's own
// decoding, they carry no TypeMeta, so that a live StatefulSet compares
// equal to its render.
func (m *model) claimTemplates(w *workload) []corev1.PersistentVolumeClaim {
	var out []corev1.PersistentVolumeClaim
	for _, v := range active(w.ctx, w.c.Volumes) {
		if isClaim(v) {
			out = append(out, corev1.PersistentVolumeClaim{
				ObjectMeta: metav1.ObjectMeta{Name: v.Name, Labels: m.labels(w.s, w.c.Name)},
				Spec:       m.claimSpec(v),
			})
		}
	}
	return out
}

// claims are the standalone claims of a Deployment's volumes.
func (m *model) claims(w *workload) []client.Object {
	if w.c.Kind != catalog.Deployment {
		return nil
	}
	return m.standaloneClaims(w.name, m.labels(w.s, w.c.Name), active(w.ctx, w.c.Volumes))
}

// standaloneClaims are the claims <owner>-<volume> of a Deployment's or a
// Job's volumes; shared claims (Volume.Claim) are rendered by
// sharedClaims.
func (m *model) standaloneClaims(owner string, labels map[string]string, vols []catalog.Volume) []client.Object {
	var out []client.Object
	for _, v := range vols {
		if isClaim(v) && v.Claim == "" {
			out = append(out, m.claim(owner+"-"+v.Name, labels, v))
		}
	}
	return out
}

// sharedClaims renders, once each, the claims a service's active
// CronJobs share.
func (m *model) sharedClaims(s *catalog.Service) {
	seen := map[string]bool{}
	for _, j := range s.CronJobs {
		if j.When != nil && !j.When(m.ctx) {
			continue
		}
		for _, v := range active(m.ctx, j.Volumes) {
			if isClaim(v) && v.Claim != "" && !seen[v.Claim] {
				seen[v.Claim] = true
				m.add(m.claim(v.Claim, m.labels(s, v.Name), v))
			}
		}
	}
}

// claim is a standalone claim of a volume.
func (m *model) claim(name string, labels map[string]string, v catalog.Volume) *corev1.PersistentVolumeClaim {
	return &corev1.PersistentVolumeClaim{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "PersistentVolumeClaim"},
		ObjectMeta: m.meta(name, labels),
		Spec:       m.claimSpec(v),
	}
}

func ptr[T any](v T) *T { return &v }
