package install_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/admission"
	"github.com/oskproject/osk/internal/apply"
	"github.com/oskproject/osk/internal/cli"
	"github.com/oskproject/osk/internal/operator"
	"github.com/oskproject/osk/internal/poll"
	"github.com/oskproject/osk/internal/sandbox"
	"github.com/oskproject/osk/internal/sandbox/sandboxtest"
	"github.com/oskproject/osk/internal/testing/cephtest"
	"github.com/oskproject/osk/internal/testing/operatortest"
	"github.com/oskproject/osk/internal/testing/proctest"
)

// fieldManager is the field manager of the install's server-side applies.
const fieldManager = "osk-install-test"

// leaderElectionID is the lease osk's operator elects its leader with
// (internal/operator).
const leaderElectionID = "osk-operator.osk.dev"

// TestKustomizeInstall builds config/default as `kubectl apply -k` would,
// applies every object to the sandbox with server-side apply (the CRDs
// first, once established the rest), and checks that the install is
// coherent and sufficient: the operator's Deployment rolls out in its
// namespace under the restricted pod security level, runs as the install's
// service account, with a command and ports osk's own CLI accepts; the
// generated ClusterRole is installed as config/rbac/role.yaml says and
// bound to that account; and the operator, talking to the API server as
// that account, deploys examples/minimal.yaml until APPLIED and deletes it
// again without a single request refused. Everything it created is removed
// at the end, cluster-scoped objects included.
func TestKustomizeInstall(t *testing.T) {
	env := sandboxtest.Get(t)
	c := env.Client()
	root := repoRoot(t)
	objs := kustomizeBuild(t, filepath.Join(root, "config", "default"))

	// What an install must hold: osk's CRDs, one namespace, one operator
	// Deployment, its service account, and the ClusterRole binding.
	crdNames := namesOf(ofKind(objs, "CustomResourceDefinition"))
	wantCRDs, err := sandbox.ReadCRDs(filepath.Join(root, sandbox.CRDDir))
	if err != nil {
		t.Fatal(err)
	}
	var wantCRDNames []string
	for _, crd := range wantCRDs {
		wantCRDNames = append(wantCRDNames, crd.Name)
	}
	slices.Sort(wantCRDNames)
	if !slices.Equal(crdNames, wantCRDNames) {
		t.Errorf("the install's CRDs are %v, %s holds %v", crdNames, sandbox.CRDDir, wantCRDNames)
	}
	var namespace corev1.Namespace
	var deployment appsv1.Deployment
	var account corev1.ServiceAccount
	fromUnstructured(t, only(t, objs, "Namespace"), &namespace)
	fromUnstructured(t, only(t, objs, "Deployment"), &deployment)
	fromUnstructured(t, only(t, objs, "ServiceAccount"), &account)
	services := ofKind(objs, "Service")
	if len(services) != 2 {
		t.Errorf("the install has Services %v, want the metrics and the webhook Service", namesOf(services))
	}
	// The API server (on this machine) calls the webhook the operator
	// serves in this test on loopback, not through the Service.
	webhookPort := proctest.FreePort(t)
	for _, kind := range []string{"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"} {
		loopbackWebhooks(t, only(t, objs, kind), webhookPort)
	}
	ns := namespace.Name
	if deployment.Spec.Template.Spec.ServiceAccountName != account.Name || account.Namespace != ns {
		t.Errorf("the Deployment runs as service account %q; the install's is %s/%s",
			deployment.Spec.Template.Spec.ServiceAccountName, account.Namespace, account.Name)
	}
	role := readClusterRole(t, filepath.Join(root, "config", "rbac", "role.yaml"))

	install(t, c, objs)
	for _, o := range objs {
		namespaced, err := c.IsObjectNamespaced(o)
		if err != nil {
			t.Fatalf("%s %s: %v", o.GetKind(), o.GetName(), err)
		}
		if namespaced && o.GetNamespace() != ns {
			t.Errorf("%s %s is in namespace %q, not the install's %s", o.GetKind(), o.GetName(), o.GetNamespace(), ns)
		}
	}

	t.Run("the operator Deployment rolls out as the service account", func(t *testing.T) {
		if err := c.Get(t.Context(), client.ObjectKeyFromObject(&account), &corev1.ServiceAccount{}); err != nil {
			t.Errorf("service account %s/%s: %v", ns, account.Name, err)
		}
		// The namespace enforces the restricted pod security level: a pod
		// that breaks it is refused, and the Deployment never becomes
		// available.
		live := &appsv1.Deployment{}
		sandboxtest.Eventually(t, 2*time.Minute, "Deployment "+ns+"/"+deployment.Name+" to be available", func(ctx context.Context) error {
			if err := c.Get(ctx, client.ObjectKeyFromObject(&deployment), live); err != nil {
				return err
			}
			s := live.Status
			want := ptrValue(live.Spec.Replicas, 1)
			if s.ObservedGeneration != live.Generation || s.UpdatedReplicas != want || s.AvailableReplicas != want {
				return fmt.Errorf("replicas %d: observed generation %d of %d, %d updated, %d available; conditions %+v; replica sets: %s",
					want, s.ObservedGeneration, live.Generation, s.UpdatedReplicas, s.AvailableReplicas, s.Conditions, replicaSetTroubles(ctx, c, ns))
			}
			return nil
		})
		// The namespace's level is enforced here: a root pod is refused.
		if level := namespace.Labels["pod-security.kubernetes.io/enforce"]; level != "restricted" {
			t.Errorf("namespace %s enforces pod security level %q, want restricted", ns, level)
		}
		rootPod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "root"},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "root", Image: "busybox"}}},
		}
		if err := c.Create(t.Context(), rootPod, client.DryRunAll); !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "PodSecurity") {
			t.Errorf("namespace %s does not enforce a pod security level (a root pod got %v): the rollout above proves nothing of it", ns, err)
		}
		if got := live.Spec.Template.Spec.ServiceAccountName; got != account.Name {
			t.Errorf("the live Deployment runs as %q, want %q", got, account.Name)
		}
		for _, u := range services {
			var service corev1.Service
			fromUnstructured(t, u, &service)
			checkCommand(t, &deployment, &service)
		}
	})

	t.Run("the generated ClusterRole is bound to the service account", func(t *testing.T) {
		live := &rbacv1.ClusterRole{}
		if err := c.Get(t.Context(), client.ObjectKey{Name: role.Name}, live); err != nil {
			t.Fatalf("ClusterRole %s of config/rbac/role.yaml: %v", role.Name, err)
		}
		if !equality.Semantic.DeepEqual(live.Rules, role.Rules) {
			t.Errorf("live ClusterRole %s rules differ from config/rbac/role.yaml:\nlive %+v\nfile %+v", role.Name, live.Rules, role.Rules)
		}
		bound := false
		for _, u := range ofKind(objs, "ClusterRoleBinding") {
			b := &rbacv1.ClusterRoleBinding{}
			if err := c.Get(t.Context(), client.ObjectKey{Name: u.GetName()}, b); err != nil {
				t.Fatalf("ClusterRoleBinding %s: %v", u.GetName(), err)
			}
			if b.RoleRef.Kind != "ClusterRole" || b.RoleRef.Name != role.Name {
				continue
			}
			for _, s := range b.Subjects {
				if s.Kind == rbacv1.ServiceAccountKind && s.Name == account.Name && s.Namespace == ns {
					bound = true
				}
			}
		}
		if !bound {
			t.Errorf("no ClusterRoleBinding of the install binds ClusterRole %s to service account %s/%s", role.Name, ns, account.Name)
		}
	})

	t.Run("the service account's permissions run the operator", func(t *testing.T) {
		user := "system:serviceaccount:" + ns + ":" + account.Name
		config := env.Config()
		config.Impersonate = rest.ImpersonationConfig{UserName: user}
		checkImpersonation(t, config, user, ns)

		// The operator runs as in its Deployment, leader election in its
		// namespace included, and every request the API server refuses it
		// is recorded.
		refused := &refusals{}
		config.Wrap(refused.wrap)
		stop := operatortest.Start(t, config, operator.Options{
			MetricsAddr: "0", ProbeAddr: "0", Workers: 4, Resync: time.Hour,
			LeaderElection: true, LeaderElectionNamespace: ns,
			Webhook: operator.WebhookOptions{Host: "127.0.0.1", Port: webhookPort, CertMode: operator.CertSelf,
				Namespace: ns, Hosts: []string{"127.0.0.1"}},
		})
		sandboxtest.Eventually(t, time.Minute, "the operator's CA in the webhook configurations", func(ctx context.Context) error {
			return admission.CABundlesInstalled(ctx, c)
		})
		sandboxtest.Eventually(t, time.Minute, "the operator to hold lease "+ns+"/"+leaderElectionID, func(ctx context.Context) error {
			lease := &coordinationv1.Lease{}
			if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: leaderElectionID}, lease); err != nil {
				return err
			}
			if lease.Spec.HolderIdentity == nil || *lease.Spec.HolderIdentity == "" {
				return errors.New("no holder")
			}
			return nil
		})

		d := loadExample(t, "minimal", env.Namespace(t))
		cephtest.Create(t, c, d.Namespace)
		if err := c.Create(t.Context(), d); err != nil {
			t.Fatalf("creating the minimal deployment: %v", err)
		}
		waitApplied(t, t.Context(), c, d)

		// Deleting the deployment makes the operator delete everything it
		// created, cluster-scoped objects included.
		if err := c.Delete(t.Context(), d); err != nil {
			t.Fatal(err)
		}
		sandboxtest.Eventually(t, 2*time.Minute, "the minimal deployment and its cluster-scoped objects to be gone", func(ctx context.Context) error {
			if err := c.Get(ctx, client.ObjectKeyFromObject(d), &v1.OpenStackDeployment{}); !apierrors.IsNotFound(err) {
				return fmt.Errorf("the deployment is still there (%v)", err)
			}
			return clusterScopedLeft(ctx, c, string(d.UID))
		})
		stop()
		if r := refused.list(); len(r) > 0 {
			t.Errorf("the API server refused %d requests of the operator running as %s (the RBAC markers of internal/controllers miss them):\n%s",
				len(r), user, strings.Join(r, "\n"))
		}
	})
}

// loopbackWebhooks points every webhook of a webhook configuration at
// https://127.0.0.1:port, keeping its path.
func loopbackWebhooks(t *testing.T, u *unstructured.Unstructured, port int) {
	t.Helper()
	hooks, _, err := unstructured.NestedSlice(u.Object, "webhooks")
	if err != nil {
		t.Fatal(err)
	}
	for i, h := range hooks {
		hook := h.(map[string]any)
		path, _, _ := unstructured.NestedString(hook, "clientConfig", "service", "path")
		hook["clientConfig"] = map[string]any{"url": fmt.Sprintf("https://127.0.0.1:%d%s", port, path)}
		hooks[i] = hook
	}
	if err := unstructured.SetNestedSlice(u.Object, hooks, "webhooks"); err != nil {
		t.Fatal(err)
	}
}

// kustomizeBuild builds the kustomization of dir as `kubectl apply -k`
// does, and returns its objects in kustomize's order.
func kustomizeBuild(t *testing.T, dir string) []*unstructured.Unstructured {
	t.Helper()
	resources, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	data, err := resources.AsYaml()
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	objs, err := decodeAll(data)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	if len(objs) == 0 {
		t.Fatalf("kustomize build %s: no objects", dir)
	}
	return objs
}

// decodeAll decodes a stream of YAML documents, skipping empty ones.
func decodeAll(data []byte) ([]*unstructured.Unstructured, error) {
	dec := yaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var out []*unstructured.Unstructured
	for {
		u := &unstructured.Unstructured{}
		err := dec.Decode(&u.Object)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("decoding: %w", err)
		}
		if len(u.Object) > 0 {
			out = append(out, u)
		}
	}
}

// install applies objs with server-side apply: the CRDs first, until
// established, then the rest in order. It removes them all when t ends.
func install(t *testing.T, c client.Client, objs []*unstructured.Unstructured) {
	t.Helper()
	t.Cleanup(func() { uninstall(t, c, objs) })
	crds := ofKind(objs, "CustomResourceDefinition")
	for _, u := range crds {
		if err := serverSideApply(t.Context(), c, u); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range crds {
		sandboxtest.Eventually(t, time.Minute, "CRD "+u.GetName()+" to be established", func(ctx context.Context) error {
			crd := &apiextensionsv1.CustomResourceDefinition{}
			if err := c.Get(ctx, client.ObjectKey{Name: u.GetName()}, crd); err != nil {
				return err
			}
			for _, cond := range crd.Status.Conditions {
				if cond.Type == apiextensionsv1.Established && cond.Status == apiextensionsv1.ConditionTrue {
					return nil
				}
			}
			return fmt.Errorf("conditions %+v", crd.Status.Conditions)
		})
	}
	// Namespaces before what they hold; kustomize's order already does so,
	// but the install must not rely on it.
	others := slices.DeleteFunc(slices.Clone(objs), func(u *unstructured.Unstructured) bool {
		return u.GetKind() == "CustomResourceDefinition"
	})
	slices.SortStableFunc(others, func(a, b *unstructured.Unstructured) int {
		return boolOrder(a.GetKind() != "Namespace", b.GetKind() != "Namespace")
	})
	for _, u := range others {
		if err := serverSideApply(t.Context(), c, u); err != nil {
			t.Fatal(err)
		}
	}
}

func boolOrder(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	default:
		return 1
	}
}

// serverSideApply applies u for real under the install's field manager.
func serverSideApply(ctx context.Context, c client.Client, u *unstructured.Unstructured) error {
	err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u.DeepCopy()), client.FieldOwner(fieldManager), client.ForceOwnership)
	if err != nil {
		return fmt.Errorf("applying %s %s: %w", u.GetKind(), key(u), err)
	}
	return nil
}

// uninstall deletes objs, latest first, and waits until they are gone.
// OpenStackDeployments left behind by a failed test lose their finalizer
// first: with the operator stopped, nothing else would release them, and
// the CRD's deletion would wait for them forever.
func uninstall(t *testing.T, c client.Client, objs []*unstructured.Unstructured) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	left := &v1.OpenStackDeploymentList{}
	if err := c.List(ctx, left); err == nil {
		for _, d := range left.Items {
			if len(d.Finalizers) == 0 {
				continue
			}
			patch := client.RawPatch("application/merge-patch+json", []byte(`{"metadata":{"finalizers":null}}`))
			if err := c.Patch(ctx, &d, patch); err != nil && !apierrors.IsNotFound(err) {
				t.Errorf("releasing OpenStackDeployment %s/%s: %v", d.Namespace, d.Name, err)
			}
		}
	}
	for _, u := range slices.Backward(objs) {
		err := c.Delete(ctx, u.DeepCopy(), client.PropagationPolicy(metav1.DeletePropagationBackground))
		if err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("deleting %s %s: %v", u.GetKind(), key(u), err)
		}
	}
	for _, u := range objs {
		err := poll.Until(ctx, 200*time.Millisecond, u.GetKind()+" "+key(u)+" to be gone", func(ctx context.Context) error {
			live := &unstructured.Unstructured{}
			live.SetGroupVersionKind(u.GroupVersionKind())
			err := c.Get(ctx, client.ObjectKeyFromObject(u), live)
			if apierrors.IsNotFound(err) {
				return nil
			}
			if err != nil {
				return err
			}
			return fmt.Errorf("still there, deletion requested at %v, finalizers %v", live.GetDeletionTimestamp(), live.GetFinalizers())
		})
		if err != nil {
			t.Errorf("uninstalling: %v", err)
		}
	}
}

// checkCommand checks the operator container's command against osk's own
// CLI: the binary is osk, the subcommand and flags exist and parse, the
// container ports named metrics and probes are those the flags bind, the
// probes ask the probe port's paths, the metrics Service targets the
// metrics port, and a leader-electing operator holds its lease in its own
// namespace.
func checkCommand(t *testing.T, d *appsv1.Deployment, svc *corev1.Service) {
	t.Helper()
	if len(d.Spec.Template.Spec.Containers) != 1 {
		t.Fatalf("the operator Deployment has %d containers, want 1", len(d.Spec.Template.Spec.Containers))
	}
	ctr := d.Spec.Template.Spec.Containers[0]
	args := append(slices.Clone(ctr.Command), ctr.Args...)
	if len(args) < 2 || args[0] != "osk" {
		t.Fatalf("the operator container runs %q, want osk operator ...", args)
	}
	cmd, remaining, err := cli.NewRootCommand().Find(args[1:])
	if err != nil || cmd.Name() != "operator" {
		t.Fatalf("osk %q is not the operator command (found %q: %v)", args[1:], cmd.Name(), err)
	}
	if err := cmd.ParseFlags(remaining); err != nil {
		t.Fatalf("osk %q: %v", args[1:], err)
	}
	if extra := cmd.Flags().Args(); len(extra) > 0 {
		t.Errorf("osk operator takes no arguments, the container passes %q", extra)
	}
	flag := func(name string) string { return cmd.Flags().Lookup(name).Value.String() }
	ports := map[string]int32{}
	for _, p := range ctr.Ports {
		ports[p.Name] = p.ContainerPort
	}
	for name, f := range map[string]string{"metrics": "metrics-bind-address", "probes": "health-probe-bind-address"} {
		_, port, err := net.SplitHostPort(flag(f))
		if err != nil {
			t.Errorf("--%s=%s: %v", f, flag(f), err)
			continue
		}
		if strconv.Itoa(int(ports[name])) != port {
			t.Errorf("container port %q is %d, but osk operator binds --%s=%s", name, ports[name], f, flag(f))
		}
	}
	for what, probe := range map[string]*corev1.Probe{"liveness": ctr.LivenessProbe, "readiness": ctr.ReadinessProbe} {
		if probe == nil || probe.HTTPGet == nil {
			t.Errorf("the operator container has no HTTP %s probe", what)
			continue
		}
		wantPath := map[string]string{"liveness": "/healthz", "readiness": "/readyz"}[what]
		if probe.HTTPGet.Path != wantPath || probe.HTTPGet.Port != intstr.FromString("probes") {
			t.Errorf("%s probe asks %s on port %s, want %s on port probes", what, probe.HTTPGet.Path, probe.HTTPGet.Port.String(), wantPath)
		}
	}
	for _, p := range svc.Spec.Ports {
		if p.TargetPort.Type == intstr.String && ports[p.TargetPort.StrVal] == 0 {
			t.Errorf("Service %s targets port %q, which the operator container does not name", svc.Name, p.TargetPort.StrVal)
		}
	}
	if flag("leader-elect") == "true" && flag("leader-election-namespace") != d.Namespace {
		t.Errorf("the operator elects its leader in namespace %q, not its own %s: its Role would not reach it", flag("leader-election-namespace"), d.Namespace)
	}
}

// checkImpersonation checks that config speaks as the service account user
// with its groups, and that impersonation takes rights away: the account
// may not delete nodes, which osk's ClusterRole does not grant.
func checkImpersonation(t *testing.T, config *rest.Config, user, ns string) {
	t.Helper()
	cs, err := kubernetes.NewForConfig(config)
	if err != nil {
		t.Fatal(err)
	}
	review, err := cs.AuthenticationV1().SelfSubjectReviews().Create(t.Context(), &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("who am I: %v", err)
	}
	if got := review.Status.UserInfo; got.Username != user || !slices.Contains(got.Groups, "system:serviceaccounts:"+ns) {
		t.Fatalf("impersonating %s, the API server sees user %q, groups %v", user, got.Username, got.Groups)
	}
	access, err := cs.AuthorizationV1().SelfSubjectAccessReviews().Create(t.Context(), &authorizationv1.SelfSubjectAccessReview{
		Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: "delete", Resource: "nodes"}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if access.Status.Allowed {
		t.Fatalf("%s may delete nodes: impersonation does not restrict the operator, the test would prove nothing", user)
	}
}

// clusterScopedLeft reports the cluster-scoped objects of the kinds osk
// renders that still carry the owner label of the deployment with uid.
func clusterScopedLeft(ctx context.Context, c client.Client, uid string) error {
	var left []string
	for kind, list := range apply.Kinds() {
		if strings.HasPrefix(kind, "Cluster") || kind == "IngressClass" {
			if err := c.List(ctx, list, client.MatchingLabels{apply.LabelOwner: uid}); err != nil {
				return err
			}
			_ = apimeta.EachListItem(list, func(o runtime.Object) error {
				left = append(left, kind+" "+o.(client.Object).GetName())
				return nil
			})
		}
	}
	if len(left) > 0 {
		slices.Sort(left)
		return fmt.Errorf("left: %s", strings.Join(left, ", "))
	}
	return nil
}

// replicaSetTroubles describes the failure conditions of the ReplicaSets
// of ns, e.g. pods the pod security admission refused.
func replicaSetTroubles(ctx context.Context, c client.Client, ns string) string {
	l := &appsv1.ReplicaSetList{}
	if err := c.List(ctx, l, client.InNamespace(ns)); err != nil {
		return err.Error()
	}
	var out []string
	for _, rs := range l.Items {
		for _, cond := range rs.Status.Conditions {
			out = append(out, fmt.Sprintf("%s: %s %s", rs.Name, cond.Type, cond.Message))
		}
	}
	if len(out) == 0 {
		return "none failing"
	}
	return strings.Join(out, "; ")
}

// refusals records the requests the API server answered 403 Forbidden.
type refusals struct {
	mu       sync.Mutex
	requests []string
}

func (r *refusals) wrap(next http.RoundTripper) http.RoundTripper {
	return roundTripperFunc(func(req *http.Request) (*http.Response, error) {
		resp, err := next.RoundTrip(req)
		if err == nil && resp.StatusCode == http.StatusForbidden {
			r.mu.Lock()
			r.requests = append(r.requests, req.Method+" "+req.URL.RequestURI())
			r.mu.Unlock()
		}
		return resp, err
	})
}

func (r *refusals) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.requests)
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// readClusterRole reads the ClusterRole of a file holding exactly one.
func readClusterRole(t *testing.T, path string) *rbacv1.ClusterRole {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := decodeAll(data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	role := &rbacv1.ClusterRole{}
	fromUnstructured(t, only(t, objs, "ClusterRole"), role)
	return role
}

// ofKind returns the objects of a kind.
func ofKind(objs []*unstructured.Unstructured, kind string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, u := range objs {
		if u.GetKind() == kind {
			out = append(out, u)
		}
	}
	return out
}

// only returns the one object of a kind, failing t when there are more or
// none.
func only(t *testing.T, objs []*unstructured.Unstructured, kind string) *unstructured.Unstructured {
	t.Helper()
	found := ofKind(objs, kind)
	if len(found) != 1 {
		t.Fatalf("want one %s, found %d: %v", kind, len(found), namesOf(found))
	}
	return found[0]
}

// namesOf returns the sorted names of objs.
func namesOf(objs []*unstructured.Unstructured) []string {
	var out []string
	for _, u := range objs {
		out = append(out, u.GetName())
	}
	slices.Sort(out)
	return out
}

func fromUnstructured(t *testing.T, u *unstructured.Unstructured, into any) {
	t.Helper()
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, into); err != nil {
		t.Fatalf("%s %s: %v", u.GetKind(), key(u), err)
	}
}

func key(u *unstructured.Unstructured) string {
	if u.GetNamespace() == "" {
		return u.GetName()
	}
	return u.GetNamespace() + "/" + u.GetName()
}

func ptrValue[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

// TestKustomizeSetImage sets the operator's image as the README says,
// `kustomize edit set image osk=<registry>/osk:<tag>` in config/default (on
// a copy of config/), and checks that the operator then runs its own jobs
// and init containers with that image too: $OSK_IMAGE follows the
// container's image.
func TestKustomizeSetImage(t *testing.T) {
	config := filepath.Join(t.TempDir(), "config")
	if err := os.CopyFS(config, os.DirFS(filepath.Join(repoRoot(t), "config"))); err != nil {
		t.Fatal(err)
	}
	kustomization := filepath.Join(config, "default", "kustomization.yaml")
	f, err := os.OpenFile(kustomization, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	// What `kustomize edit set image osk=registry.example.com/osk:v1.2.3`
	// writes.
	_, err = f.WriteString("images:\n- name: osk\n  newName: registry.example.com/osk\n  newTag: v1.2.3\n")
	if err := errors.Join(err, f.Close()); err != nil {
		t.Fatal(err)
	}
	const want = "registry.example.com/osk:v1.2.3"
	var d appsv1.Deployment
	fromUnstructured(t, only(t, kustomizeBuild(t, filepath.Join(config, "default")), "Deployment"), &d)
	set := false
	for _, ctr := range d.Spec.Template.Spec.Containers {
		if ctr.Image != want {
			t.Errorf("container %s runs %s, want %s", ctr.Name, ctr.Image, want)
		}
		for _, e := range ctr.Env {
			if e.Name != "OSK_IMAGE" {
				continue
			}
			set = true
			if e.Value != want {
				t.Errorf("container %s: OSK_IMAGE=%s, want %s: osk's jobs and init containers would run another image than the operator", ctr.Name, e.Value, want)
			}
		}
	}
	if !set {
		t.Errorf("the operator Deployment does not set OSK_IMAGE: osk's jobs and init containers would run the catalog's image, not the operator's")
	}
}
