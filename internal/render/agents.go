package render

import (
	"fmt"
	"sort"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/catalog"
)

// The node agents (catalog.Component.NodeAgent: the pods Pod Security's
// restricted profile refuses) run in features.nodeAgents.namespace when
// it names another namespace than the deployment's. Their workloads are
// rendered there, with everything their pods use: the ServiceAccounts,
// configuration Secrets and ConfigMaps they mount (moved, or copied when
// a pod of the control plane uses them too), copies of the keys of
// the credential Secrets they read (rendered Secrets, with the stored
// values), and their claims, budgets and NetworkPolicies. Pod selectors
// stop at their namespace, so the control plane's policies admit the
// agents' pods through a namespace selector.

// LabelNamespaceName is the label every namespace carries with its name.
const LabelNamespaceName = "kubernetes.io/metadata.name"

// AgentsNamespace is the namespace of a deployment's node agents: the
// deployment's own unless features.nodeAgents.namespace names another.
func AgentsNamespace(d *v1.OpenStackDeployment) string {
	if ns := d.Spec.Features.NodeAgents.Namespace; ns != "" {
		return ns
	}
	return d.Namespace
}

// Namespaces are the namespaces a deployment's namespaced objects live
// in: its own, then the agents' when they differ.
func Namespaces(d *v1.OpenStackDeployment) []string {
	if ns := AgentsNamespace(d); ns != d.Namespace {
		return []string{d.Namespace, ns}
	}
	return []string{d.Namespace}
}

// split reports whether the node agents run in a namespace of their own.
func (m *model) split() bool { return AgentsNamespace(m.d) != m.d.Namespace }

// podNamespace is the namespace of a component's pods.
func (m *model) podNamespace(c *catalog.Component) string {
	if c.NodeAgent(m.ctx) {
		return AgentsNamespace(m.d)
	}
	return m.d.Namespace
}

// placeAgents gives the agents' namespace what the agents' pods use
// there: moved when no pod of the control plane uses it too, copied
// otherwise (claims always move: a copy would be another volume). It
// moves what selects only the agents' pods too. It runs once every
// workload is rendered, before the NetworkPolicies.
func (m *model) placeAgents() error {
	if !m.split() {
		return nil
	}
	ns := AgentsNamespace(m.d)
	need, agentPods := m.usedIn(ns)
	shared, controlPods := m.usedIn(m.d.Namespace)
	var copies []client.Object
	for _, o := range m.objects {
		k := KeyOf(o)
		switch {
		case need[k] && (k.Kind == "PersistentVolumeClaim" || !shared[k]):
			o.SetNamespace(ns)
		case need[k]:
			c := o.DeepCopyObject().(client.Object)
			c.SetNamespace(ns)
			copies = append(copies, c)
		case selectsOnly(o, agentPods, controlPods):
			if pm, ok := o.(*monitoringv1.PodMonitor); ok {
				// Stays beside the deployment's other monitors, where the
				// stack looks for them; scrapes the agents' namespace.
				pm.Spec.NamespaceSelector.MatchNames = []string{ns}
			} else {
				o.SetNamespace(ns)
			}
		}
		delete(need, k)
	}
	m.add(copies...)
	return m.copyCredentials(need)
}

// usedIn returns what the pods of namespace ns use, keyed as found in the
// deployment's namespace (where everything is rendered first), and the
// labels of those pods.
func (m *model) usedIn(ns string) (map[Key]bool, []map[string]string) {
	used := map[Key]bool{}
	var pods []map[string]string
	for _, o := range m.objects {
		tpl := PodTemplate(o)
		if tpl == nil || o.GetNamespace() != ns {
			continue
		}
		pods = append(pods, tpl.Labels)
		for _, k := range podUses(&tpl.Spec) {
			used[Key{Kind: k.Kind, Namespace: m.d.Namespace, Name: k.Name}] = true
		}
	}
	return used, pods
}

// copyCredentials renders, in the agents' namespace, the keys the agents
// read of Secrets osk does not render: the deployment's credential
// Secrets, with the stored (or newly generated) values. A Secret the
// user provides (for example Octavia's certificates) cannot be copied:
// the user creates it in the agents' namespace too.
func (m *model) copyCredentials(need map[Key]bool) error {
	keys := map[string][]string{}
	for k := range need {
		if k.Kind == "SecretKey" {
			secret, key := splitSecretKey(k.Name)
			keys[secret] = append(keys[secret], key)
		}
	}
	for _, secret := range sortedKeys(keys) {
		if !catalog.GeneratedSecret(secret) || !need[Key{Kind: "Secret", Namespace: m.d.Namespace, Name: secret}] {
			continue
		}
		data := map[string][]byte{}
		for _, key := range keys[secret] {
			v := m.creds.Value(secret, key)
			if v == "" {
				return fmt.Errorf("copying %s of credentials %s to the agents' namespace: no value", key, secret)
			}
			data[key] = []byte(v)
		}
		s := &corev1.Secret{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
			ObjectMeta: metav1.ObjectMeta{Name: secret, Namespace: AgentsNamespace(m.d), Labels: m.copyLabels()},
			Type:       corev1.SecretTypeOpaque,
			Data:       data,
		}
		m.add(s)
	}
	return nil
}

// copyLabels label the agents' copies of credentials.
func (m *model) copyLabels() map[string]string {
	return map[string]string{LabelName: ManagedBy, LabelInstance: m.d.Name, LabelPartOf: "openstack", LabelManagedBy: ManagedBy}
}

// secretKeySep joins a Secret's name and a key in a Key's name (neither
// holds it).
const secretKeySep = "\x00"

func splitSecretKey(s string) (secret, key string) {
	for i := range len(s) {
		if s[i] == secretKeySep[0] {
			return s[:i], s[i+1:]
		}
	}
	return s, ""
}

// podUses lists what a pod refers to by name in its namespace: its
// ServiceAccount, the Secrets, ConfigMaps and claims of its volumes, and
// the Secrets and ConfigMaps of its environment; a single key of a Secret
// (kind "SecretKey", name "secret\x00key") besides the Secret itself.
func podUses(spec *corev1.PodSpec) []Key {
	var out []Key
	add := func(kind, name string) { out = append(out, Key{Kind: kind, Name: name}) }
	if spec.ServiceAccountName != "" {
		add("ServiceAccount", spec.ServiceAccountName)
	}
	for _, v := range spec.Volumes {
		switch {
		case v.Secret != nil:
			add("Secret", v.Secret.SecretName)
		case v.ConfigMap != nil:
			add("ConfigMap", v.ConfigMap.Name)
		case v.PersistentVolumeClaim != nil:
			add("PersistentVolumeClaim", v.PersistentVolumeClaim.ClaimName)
		case v.Projected != nil:
			for _, p := range v.Projected.Sources {
				if p.Secret != nil {
					add("Secret", p.Secret.Name)
				}
				if p.ConfigMap != nil {
					add("ConfigMap", p.ConfigMap.Name)
				}
			}
		}
	}
	for _, c := range append(append([]corev1.Container(nil), spec.InitContainers...), spec.Containers...) {
		for _, e := range c.Env {
			if r := e.ValueFrom; r != nil && r.SecretKeyRef != nil {
				add("Secret", r.SecretKeyRef.Name)
				add("SecretKey", r.SecretKeyRef.Name+secretKeySep+r.SecretKeyRef.Key)
			} else if r != nil && r.ConfigMapKeyRef != nil {
				add("ConfigMap", r.ConfigMapKeyRef.Name)
			}
		}
		for _, e := range c.EnvFrom {
			if e.SecretRef != nil {
				add("Secret", e.SecretRef.Name)
			}
			if e.ConfigMapRef != nil {
				add("ConfigMap", e.ConfigMapRef.Name)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Kind+out[i].Name < out[j].Kind+out[j].Name })
	return out
}

// selectsOnly reports whether an object that selects pods (a budget, a
// NetworkPolicy, a PodMonitor) selects some of the agents' pods and none
// of the control plane's.
func selectsOnly(o client.Object, agents, controlPlane []map[string]string) bool {
	var sel *metav1.LabelSelector
	switch t := o.(type) {
	case *policyv1.PodDisruptionBudget:
		sel = t.Spec.Selector
	case *networkingv1.NetworkPolicy:
		sel = &t.Spec.PodSelector
	case *monitoringv1.PodMonitor:
		sel = &t.Spec.Selector
	default:
		return false
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil || s.Empty() {
		return false
	}
	return anyMatches(s, agents) && !anyMatches(s, controlPlane)
}

func anyMatches(s labels.Selector, pods []map[string]string) bool {
	for _, l := range pods {
		if s.Matches(labels.Set(l)) {
			return true
		}
	}
	return false
}

// peerIn is a policy peer selecting pods in a namespace: the pod selector
// alone in the deployment's own, with the namespace's in another.
func (m *model) peerIn(namespace string, pods map[string]string) networkingv1.NetworkPolicyPeer {
	p := podPeer(pods)
	if namespace != "" && namespace != m.d.Namespace {
		p.NamespaceSelector = &metav1.LabelSelector{MatchLabels: map[string]string{LabelNamespaceName: namespace}}
	}
	return p
}
