package render_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/oskproject/osk/internal/manifest"
	"github.com/oskproject/osk/internal/netpol"
	"github.com/oskproject/osk/internal/render"
)

// testNodeCIDR is where the test's nodes are; pods are in 10.244.0.0/16.
const testNodeCIDR = "192.0.2.0/24"

// podOf is one rendered pod template as an end of connections.
type podOf struct {
	name string
	pod  netpol.Pod
	obj  client.Object
	text string
}

// flow is a connection a pod needs.
type flow struct {
	from, to *podOf
	port     int32
}

// TestNetworkPolicies renders every example, with the nodes' network
// given, with the node agents beside the control plane and in a
// namespace of their own, finds the connections every pod needs from what it is told (each
// host:port of a Service of the deployment in its files, commands and
// environment) and evaluates the rendered NetworkPolicies: each needed
// connection must be allowed, and horizon, memcached, the ingress
// controller and the host-network agents must reach neither the
// database, nor a bus, nor etcd. A host-network agent shares its node's
// address with every other: it may reach what another host-network
// agent needs, which no policy can tell apart, and the test lists those.
func TestNetworkPolicies(t *testing.T) {
	paths, _ := filepath.Glob(filepath.Join("..", "..", "examples", "*.yaml"))
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil || !strings.Contains(string(data), "kind: OpenStackDeployment") {
			continue
		}
		d, err := manifest.Load(p)
		if err != nil {
			t.Fatal(err)
		}
		d.Spec.Features.NetworkPolicy.NodeCIDRs = []string{testNodeCIDR}
		for _, agents := range []string{"", agentsNamespace(d)} {
			d.Spec.Features.NodeAgents.Namespace = agents
			res, err := render.Render(d, render.Options{})
			if err != nil {
				t.Fatalf("rendering %s: %v", p, err)
			}
			t.Run(filepath.Base(p)+"/agents="+agents, func(t *testing.T) { checkPolicies(t, res.Objects, d.Namespace) })
		}
	}
}

// checkPolicies evaluates the policies of a deployment of namespace ns.
func checkPolicies(t *testing.T, objs []client.Object, ns string) {
	cl := &netpol.Cluster{}
	for _, o := range objs {
		if np, ok := o.(*networkingv1.NetworkPolicy); ok {
			cl.Policies = append(cl.Policies, *np)
		}
	}
	pods := renderedPods(objs)
	needed := neededFlows(objs, pods, ns)
	for _, f := range needed {
		if !cl.Allowed(f.from.pod, f.to.pod, f.port, corev1.ProtocolTCP) {
			t.Errorf("%s needs %s:%d, which the policies refuse", f.from.name, f.to.name, f.port)
		}
	}
	hostNeeds := map[string]bool{}
	for _, f := range needed {
		if f.from.pod.HostNetwork && guarded(f.to) {
			hostNeeds[fmt.Sprintf("%s:%d", f.to.name, f.port)] = true
			t.Logf("host agent %s needs %s:%d", f.from.name, f.to.name, f.port)
		}
	}
	checked, shared := 0, 0
	for _, from := range pods {
		if !noBusiness(from) {
			continue
		}
		for _, to := range pods {
			if !guarded(to) {
				continue
			}
			for _, port := range containerPorts(to) {
				checked++
				if !cl.Allowed(from.pod, to.pod, port, corev1.ProtocolTCP) {
					continue
				}
				if from.pod.HostNetwork && hostNeeds[fmt.Sprintf("%s:%d", to.name, port)] {
					shared++
					continue
				}
				t.Errorf("%s reaches %s:%d, where it has no business", from.name, to.name, port)
			}
		}
	}
	t.Logf("%d policies, %d needed connections allowed, %d forbidden ones checked (%d open to host agents because one of them needs it)",
		len(cl.Policies), len(needed), checked, shared)
}

// renderedPods are the pods of every workload, Job and CronJob.
func renderedPods(objs []client.Object) []*podOf {
	secrets := map[string]*corev1.Secret{}
	for _, o := range objs {
		if s, ok := o.(*corev1.Secret); ok {
			secrets[s.Namespace+"/"+s.Name] = s
		}
	}
	var out []*podOf
	for i, o := range objs {
		tpl := render.PodTemplate(o)
		if tpl == nil {
			continue
		}
		ip := fmt.Sprintf("10.244.%d.%d", i/250, i%250+1)
		if tpl.Spec.HostNetwork {
			ip = fmt.Sprintf("192.0.2.%d", i%250+1)
		}
		out = append(out, &podOf{
			name: render.KeyOf(o).String(), obj: o, text: podText(o.GetNamespace(), &tpl.Spec, secrets),
			pod: netpol.Pod{Namespace: o.GetNamespace(), Labels: tpl.Labels, IP: ip, HostNetwork: tpl.Spec.HostNetwork},
		})
	}
	return out
}

// podText is everything a pod is told: its containers' commands and
// environment and the files of rendered Secrets they mount.
func podText(namespace string, spec *corev1.PodSpec, secrets map[string]*corev1.Secret) string {
	source := map[string]*corev1.Secret{}
	for _, v := range spec.Volumes {
		if v.Secret != nil && secrets[namespace+"/"+v.Secret.SecretName] != nil {
			source[v.Name] = secrets[namespace+"/"+v.Secret.SecretName]
		}
	}
	var b strings.Builder
	for _, c := range append(append([]corev1.Container(nil), spec.InitContainers...), spec.Containers...) {
		b.WriteString(strings.Join(append(c.Command, c.Args...), " ") + "\n")
		for _, e := range c.Env {
			b.WriteString(e.Value + "\n")
		}
		for _, vm := range c.VolumeMounts {
			if s := source[vm.Name]; s != nil {
				b.Write(mounted(s, vm.SubPath))
			}
		}
	}
	return b.String()
}

// mounted is one key of a Secret, or all of them when the whole Secret is
// mounted.
func mounted(s *corev1.Secret, key string) []byte {
	if key != "" {
		return append(s.Data[key], '\n')
	}
	var out []byte
	for _, data := range s.Data {
		out = append(append(out, data...), '\n')
	}
	return out
}

var hostPort = regexp.MustCompile(`([a-z0-9][a-z0-9.-]*):([0-9]{2,5})\b`)

// neededFlows are the connections to a Service of the deployment (of
// namespace ns, where its Services are) that each pod's text names, to
// every pod of the Service.
func neededFlows(objs []client.Object, pods []*podOf, ns string) []flow {
	services := map[string]*corev1.Service{}
	for _, o := range objs {
		if s, ok := o.(*corev1.Service); ok && s.Namespace == ns {
			services[s.Name] = s
		}
	}
	var out []flow
	seen := map[string]bool{}
	for _, from := range pods {
		for _, m := range hostPort.FindAllStringSubmatch(from.text, -1) {
			svc := services[serviceName(m[1], ns, from.pod.Namespace)]
			n, _ := strconv.Atoi(m[2])
			port, ok := targetPort(svc, int32(n))
			if !ok {
				continue
			}
			for _, to := range pods {
				key := fmt.Sprintf("%s>%s:%d", from.name, to.name, port)
				if serves(svc, to) && !seen[key] {
					seen[key] = true
					out = append(out, flow{from: from, to: to, port: port})
				}
			}
		}
	}
	return out
}

// serviceName is the Service of namespace a host names from a pod of
// namespace from: the label before <namespace>.svc, or a short name in
// the pod's own namespace.
func serviceName(host, namespace, from string) string {
	parts := strings.Split(host, ".")
	for i := 1; i+1 < len(parts); i++ {
		if parts[i] == namespace && parts[i+1] == "svc" {
			return parts[i-1]
		}
	}
	if len(parts) == 1 && namespace == from {
		return host
	}
	return ""
}

// targetPort is the pods' port behind a Service's port.
func targetPort(svc *corev1.Service, port int32) (int32, bool) {
	if svc == nil {
		return 0, false
	}
	for _, p := range svc.Spec.Ports {
		if p.Port == port {
			return p.TargetPort.IntVal, true
		}
	}
	return 0, false
}

// serves reports whether a Service selects a workload's pods.
func serves(svc *corev1.Service, p *podOf) bool {
	switch p.obj.(type) {
	case *appsv1.Deployment, *appsv1.StatefulSet, *appsv1.DaemonSet:
		return labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(p.pod.Labels))
	}
	return false
}

// noBusiness are the pods that must not reach the database, the buses or
// etcd: horizon, memcached, the ingress controller, the host agents.
func noBusiness(p *podOf) bool {
	switch p.pod.Labels[render.LabelName] {
	case "horizon", "memcached", "ingress":
		return true
	}
	_, ds := p.obj.(*appsv1.DaemonSet)
	return ds && p.pod.HostNetwork
}

// guarded are the database, the buses and etcd.
func guarded(p *podOf) bool {
	switch p.pod.Labels[render.LabelName] {
	case "mariadb", "rabbitmq", "etcd":
		return isWorkload(p.obj)
	}
	return false
}

func isWorkload(o client.Object) bool {
	switch o.(type) {
	case *appsv1.Deployment, *appsv1.StatefulSet, *appsv1.DaemonSet:
		return true
	}
	return false
}

// containerPorts are the TCP ports a pod's containers declare.
func containerPorts(p *podOf) []int32 {
	var out []int32
	for _, c := range render.PodSpec(p.obj).Containers {
		for _, cp := range c.Ports {
			if cp.Protocol == corev1.ProtocolTCP {
				out = append(out, cp.ContainerPort)
			}
		}
	}
	return out
}
