package render_test

import (
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/oskproject/osk/internal/catalog"
	"github.com/oskproject/osk/internal/render"
)

// TestGaleraMembers checks the pods osk galera start runs in: three
// members started in parallel, osk copied in by an init container, the
// Galera probes, the record's RBAC and the Services and budget around
// them.
func TestGaleraMembers(t *testing.T) {
	objs := renderExample(t, "compute", fixed{}).Objects
	sts := find(objs, "StatefulSet/mariadb-server").(*appsv1.StatefulSet)
	if *sts.Spec.Replicas != 3 || sts.Spec.PodManagementPolicy != appsv1.ParallelPodManagement || sts.Spec.ServiceName != "mariadb-server-peers" {
		t.Errorf("StatefulSet: %d replicas, %s, service %s; want 3, Parallel, mariadb-server-peers",
			*sts.Spec.Replicas, sts.Spec.PodManagementPolicy, sts.Spec.ServiceName)
	}
	pod := sts.Spec.Template.Spec
	checkOskBinary(t, pod)
	main := pod.Containers[0]
	if !slices.Equal(main.Command[:3], []string{"/osk/osk", "galera", "start"}) || !slices.Contains(main.Command, "--record-name="+catalog.GaleraRecord) {
		t.Errorf("command = %v, want /osk/osk galera start --record-name=%s ...", main.Command, catalog.GaleraRecord)
	}
	checkProbe(t, "readiness", main.ReadinessProbe, "ready")
	checkProbe(t, "liveness", main.LivenessProbe, "live")
	if main.StartupProbe != nil {
		t.Error("a startup probe: liveness already waits for mariadbd's first answer")
	}
	for _, env := range []string{"POD_NAME", "POD_NAMESPACE", "MEMBERS", "PEERS", "MARIADB_ROOT_PASSWORD", "MARIADB_SST_PASSWORD"} {
		if !slices.ContainsFunc(main.Env, func(e corev1.EnvVar) bool { return e.Name == env }) {
			t.Errorf("the member's environment lacks %s", env)
		}
	}
	if !strings.Contains(string(find(objs, "Secret/mariadb-etc").(*corev1.Secret).Data["galera.cnf"]), "wsrep_sst_auth = sst:same-mariadb-root-credentials-sst-password") {
		t.Error("galera.cnf does not give wsrep_sst_auth the SST user and its generated password")
	}
	checkGaleraServices(t, objs, sts)
	checkGaleraRBAC(t, objs)
}

// checkOskBinary checks that an init container of the osk image installs
// osk where every container finds it.
func checkOskBinary(t *testing.T, pod corev1.PodSpec) {
	t.Helper()
	if len(pod.InitContainers) != 1 || pod.InitContainers[0].Name != "install-osk" ||
		!slices.Equal(pod.InitContainers[0].Command, []string{"osk", "install", "/osk/osk"}) ||
		!strings.Contains(pod.InitContainers[0].Image, "/osk:") {
		t.Fatalf("init containers = %+v, want install-osk of the osk image", pod.InitContainers)
	}
	if !slices.ContainsFunc(pod.Volumes, func(v corev1.Volume) bool { return v.Name == "osk-bin" && v.EmptyDir != nil }) {
		t.Error("no emptyDir osk-bin")
	}
	for _, c := range append(pod.InitContainers, pod.Containers...) {
		if !slices.ContainsFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool { return m.Name == "osk-bin" && m.MountPath == catalog.OskDir }) {
			t.Errorf("container %s does not mount osk-bin at %s", c.Name, catalog.OskDir)
		}
	}
}

func checkProbe(t *testing.T, kind string, p *corev1.Probe, which string) {
	t.Helper()
	if p == nil || p.Exec == nil || !slices.Equal(p.Exec.Command[:4], []string{"/osk/osk", "galera", "probe", which}) {
		t.Errorf("%s probe = %+v, want exec /osk/osk galera probe %s", kind, p, which)
	}
}

// checkGaleraServices checks that clients reach only ready members, that
// members find each other before any is ready, and that a drain leaves
// a majority.
func checkGaleraServices(t *testing.T, objs []client.Object, sts *appsv1.StatefulSet) {
	t.Helper()
	client := find(objs, "Service/mariadb-server").(*corev1.Service)
	if client.Spec.ClusterIP == corev1.ClusterIPNone || client.Spec.PublishNotReadyAddresses ||
		!equality.Semantic.DeepEqual(client.Spec.Selector, sts.Spec.Selector.MatchLabels) {
		t.Errorf("client Service %+v: want a ClusterIP Service of the members' ready addresses only", client.Spec)
	}
	peers := find(objs, "Service/mariadb-server-peers").(*corev1.Service)
	if peers.Spec.ClusterIP != corev1.ClusterIPNone || !peers.Spec.PublishNotReadyAddresses {
		t.Errorf("peers Service %+v: want headless, publishing not-ready addresses", peers.Spec)
	}
	pdb := find(objs, "PodDisruptionBudget/mariadb-server").(*policyv1.PodDisruptionBudget)
	if pdb.Spec.MaxUnavailable == nil || *pdb.Spec.MaxUnavailable != intstr.FromInt32(1) {
		t.Errorf("budget %+v: want maxUnavailable 1 of 3 (a majority of 2 stays)", pdb.Spec)
	}
}

// checkGaleraRBAC checks that the members may create the record and read
// and update only it.
func checkGaleraRBAC(t *testing.T, objs []client.Object) {
	t.Helper()
	role := find(objs, "Role/mariadb-server").(*rbacv1.Role)
	want := []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"create"}},
		{APIGroups: []string{""}, Resources: []string{"configmaps"}, ResourceNames: []string{catalog.GaleraRecord}, Verbs: []string{"get", "update"}},
	}
	if !equality.Semantic.DeepEqual(role.Rules, want) {
		t.Errorf("Role rules = %+v, want %+v", role.Rules, want)
	}
	binding := find(objs, "RoleBinding/mariadb-server").(*rbacv1.RoleBinding)
	if binding.RoleRef.Name != role.Name || len(binding.Subjects) != 1 || binding.Subjects[0].Name != "mariadb" {
		t.Errorf("RoleBinding %+v does not bind the Role to the mariadb ServiceAccount", binding)
	}
}

// TestDatabaseBackups checks the backups of features.database.backup:
// an agent beside each member, full and incremental CronJobs on their
// schedules sharing one backup claim, and nothing when disabled.
func TestDatabaseBackups(t *testing.T) {
	d := load(t, "compute")
	d.Spec.Features.Database.Backup.Enabled = true
	d.Spec.Features.Database.Backup.Keep = 5
	d.Spec.Features.Database.Backup.Size = "7Gi"
	d.Spec.Features.Database.Backup.IncrementalSchedule = "30 2 * * *"
	res, err := render.Render(d, render.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sts := find(res.Objects, "StatefulSet/mariadb-server").(*appsv1.StatefulSet)
	if !slices.ContainsFunc(sts.Spec.Template.Spec.Containers, func(c corev1.Container) bool { return c.Name == "backup-agent" }) {
		t.Error("no backup-agent beside the members")
	}
	for name, schedule := range map[string]string{"mariadb-backup-full": "0 1 * * 0", "mariadb-backup-incremental": "30 2 * * *"} {
		cj := find(res.Objects, "CronJob/"+name).(*batchv1.CronJob)
		cmd := strings.Join(cj.Spec.JobTemplate.Spec.Template.Spec.Containers[0].Command, " ")
		if cj.Spec.Schedule != schedule || !strings.Contains(cmd, "--keep=5") || strings.Count(cmd, ":4445") != 3 {
			t.Errorf("%s: schedule %q, command %s; want %q, --keep=5 and 3 agents", name, cj.Spec.Schedule, cmd, schedule)
		}
		vols := cj.Spec.JobTemplate.Spec.Template.Spec.Volumes
		if !slices.ContainsFunc(vols, func(v corev1.Volume) bool {
			return v.Name == "backup" && v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ClaimName == catalog.BackupClaim
		}) {
			t.Errorf("%s volumes = %+v, want the claim %s as backup", name, vols, catalog.BackupClaim)
		}
	}
	claim := find(res.Objects, "PersistentVolumeClaim/"+catalog.BackupClaim).(*corev1.PersistentVolumeClaim)
	if got := claim.Spec.Resources.Requests[corev1.ResourceStorage]; got.Cmp(resource.MustParse("7Gi")) != 0 {
		t.Errorf("backup claim of %s, want 7Gi", got.String())
	}
	d.Spec.Features.Database.Backup.Enabled = false
	if res, err = render.Render(d, render.Options{}); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"CronJob/mariadb-backup-full", "CronJob/mariadb-backup-incremental", "PersistentVolumeClaim/" + catalog.BackupClaim} {
		if has(res.Objects, k) {
			t.Errorf("%s rendered with backups disabled", k)
		}
	}
}
