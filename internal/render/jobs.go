package render

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/oskproject/osk/internal/catalog"
)

// JobBackoffLimit is how often a failed Job's pod is retried before the
// Job fails and osk reports it; osk does not retry it blindly after that.
const JobBackoffLimit = 2

// serviceJobs returns a service's jobs: the generated db-init,
// rabbit-init and keystone-register, then the catalog's own.
func (m *model) serviceJobs(s *catalog.Service) []catalog.Job {
	var jobs []catalog.Job
	if len(s.Databases) > 0 {
		jobs = append(jobs, m.dbInitJob(s))
	}
	if s.Messaging {
		jobs = append(jobs, m.rabbitInitJob(s))
	}
	// Keystone's own endpoints come from its bootstrap; every other
	// service registers through its service user.
	if k := s.Keystone; k != nil && (k.User || len(k.Roles) > 0 || k.Domain != nil) {
		jobs = append(jobs, m.keystoneRegisterJob(s))
	}
	for _, j := range s.Jobs {
		if j.When == nil || j.When(m.ctx) {
			jobs = append(jobs, j)
		}
	}
	return append(jobs, m.monitoringJobs(s)...)
}

func (m *model) dbInitJob(s *catalog.Service) catalog.Job {
	cmd := []string{"osk", "job", "db-init", "--host", m.ctx.Host("mariadb", "server"),
		"--port", fmt.Sprint(catalog.DatabasePort), "--user", s.Project}
	for _, db := range s.Databases {
		cmd = append(cmd, "--database", db)
	}
	return catalog.Job{Name: "db-init", Image: "osk", Command: cmd, Env: []catalog.Env{
		{Name: "DB_ROOT_PASSWORD", Secret: catalog.DatabaseRootSecret, Key: catalog.KeyPassword},
		{Name: "DB_PASSWORD", Secret: catalog.CredentialSecret(s.Project), Key: catalog.KeyDatabasePassword},
	}, Connects: []catalog.Connect{catalog.ConnectDatabase}}
}

func (m *model) rabbitInitJob(s *catalog.Service) catalog.Job {
	bus := m.Bus(s)
	cmd := []string{"osk", "job", "rabbit-init", "--user", s.Project, "--vhost", s.Project,
		"--url", fmt.Sprintf("http://%s:15672", m.busHost(bus))}
	env := []catalog.Env{
		{Name: "RABBITMQ_PASSWORD", Secret: catalog.CredentialSecret(s.Project), Key: catalog.KeyMessagingPassword},
		{Name: "RABBITMQ_ADMIN_PASSWORD", Secret: catalog.BusSecret(bus), Key: catalog.KeyPassword},
	}
	if m.NotificationsOn() {
		cmd = append(cmd, "--notifications-url", fmt.Sprintf("http://%s:15672", m.busHost(NotificationsBus)))
		env = append(env, catalog.Env{Name: "RABBITMQ_NOTIFICATIONS_ADMIN_PASSWORD", Secret: catalog.BusSecret(NotificationsBus), Key: catalog.KeyPassword})
	}
	return catalog.Job{Name: "rabbit-init", Image: "osk", Command: cmd, Env: env,
		Connects: []catalog.Connect{{Service: "messaging", Port: "management"}}}
}

// keystoneRegisterJob registers the service user, roles, domain, services
// and endpoints.
func (m *model) keystoneRegisterJob(s *catalog.Service) catalog.Job {
	k := s.Keystone
	cmd := []string{"osk", "job", "keystone-register", "--auth-url", m.ctx.KeystoneURL() + "/v3", "--region", m.d.Spec.Region}
	env := []catalog.Env{{Name: "OS_PASSWORD", Secret: catalog.AdminSecret, Key: catalog.KeyPassword}}
	if k.User {
		cmd = append(cmd, "--service-user", s.Project)
		env = append(env, catalog.Env{Name: "SERVICE_PASSWORD", Secret: catalog.CredentialSecret(s.Project), Key: catalog.KeyKeystonePassword})
		for _, r := range k.UserRoles {
			cmd = append(cmd, "--service-user-role", r)
		}
	}
	for _, r := range k.Roles {
		cmd = append(cmd, "--role", r)
	}
	if d := k.Domain; d != nil {
		cmd = append(cmd, "--domain", d.Name+":"+d.AdminUser)
		env = append(env, catalog.Env{Name: "DOMAIN_PASSWORD", Secret: catalog.CredentialSecret(s.Project), Key: catalog.KeyDomainPassword})
	}
	for _, e := range k.Endpoints {
		cmd = append(cmd, "--endpoint", m.endpointSpec(s, e))
	}
	if m.internalTLS() {
		cmd = append(cmd, "--ca-file", catalog.InternalCAFile)
	}
	return catalog.Job{Name: "keystone-register", Image: "osk", Command: cmd, Env: env,
		Connects: []catalog.Connect{catalog.ConnectKeystone}}
}

// endpointSpec is "type|name|internal-url|public-url" for keystone-register.
func (m *model) endpointSpec(s *catalog.Service, e catalog.Endpoint) string {
	var internal string
	switch {
	case e.InternalURL != nil:
		internal = strings.TrimSuffix(e.InternalURL(m.ctx), "/") + e.Path
	case e.Component != "":
		c, _ := s.Component(e.Component)
		internal = m.ctx.InternalURL(s.Project, c.Name, c.Ports[0].Port, e.Path)
	}
	return strings.Join([]string{e.Type, e.Name, internal, m.ctx.PublicURL(or(e.Host, e.Name), e.Path)}, "|")
}

// renderUpgradeJobs renders the jobs of a service's release upgrade, each
// after the one before it; the last ones run after the workloads.
func (m *model) renderUpgradeJobs(s *catalog.Service, base map[string][]byte) {
	before, after := s.UpgradeSteps()
	prev := ""
	for i, j := range slices.Concat(before, after) {
		if j.When != nil && !j.When(m.ctx) {
			continue
		}
		step := j.Name
		j.Name, j.After, j.AfterWorkloads = "upgrade-"+step, nil, i >= len(before)
		if prev != "" {
			j.After = []string{prev}
		}
		prev = j.Name
		ann := m.renderJob(s, j, base).Annotations
		ann[AnnotationUpgradeStep] = step
		if s.Upgrade != nil && s.Upgrade.RestartAfter {
			ann[AnnotationRestartAfterUpgrade] = "true"
		}
	}
}

// renderJob renders a one-off Job of a service, reading the service's
// base configuration.
func (m *model) renderJob(s *catalog.Service, j catalog.Job, base map[string][]byte) *batchv1.Job {
	name := s.Project + "-" + j.Name
	l := m.labels(s, j.Name)
	files := pick(base, j.Reads)
	pod := m.jobPod(s, name, j.Name, j.Image, m.command(m.ctx, j.Command, j.Args), j.Env, j.Volumes, files)
	m.addOskBinary(&workload{s: s, c: &catalog.Component{Name: j.Name, OskBinary: j.OskBinary}, ctx: m.ctx, name: name}, &pod)
	podJSON, _ := json.Marshal(pod)
	job := &batchv1.Job{
		TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"},
		ObjectMeta: m.meta(name, l),
		Spec: batchv1.JobSpec{
			BackoffLimit: ptr[int32](JobBackoffLimit),
			Template:     corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: l}, Spec: pod},
		},
	}
	job.Annotations = map[string]string{AnnotationInputsHash: hash(podJSON, hashFilesBytes(files), m.credentialInputs(j.Env))}
	if j.AfterWorkloads {
		job.Annotations[AnnotationAfterWorkloads] = "true"
	}
	if len(j.After) > 0 {
		var after []string
		for _, a := range j.After {
			after = append(after, s.Project+"-"+a)
		}
		job.Annotations[AnnotationAfter] = strings.Join(after, ",")
	}
	m.add(job)
	m.add(m.standaloneClaims(name, l, active(m.ctx, j.Volumes))...)
	m.noteJob(s, l, j.Reads, j.Connects)
	return job
}

// credentialInputs are the values of the generated credentials a Job reads
// from its environment, so that a new password in a Secret runs the Job
// again (db-init then sets it in MariaDB). Only their hash is written.
func (m *model) credentialInputs(env []catalog.Env) []byte {
	var b []byte
	for _, e := range env {
		if e.Secret != "" && catalog.GeneratedSecret(e.Secret) {
			b = append(append(b, m.creds.Value(e.Secret, e.Key)...), 0)
		}
	}
	return b
}

// renderCronJob renders a periodic job of a service.
func (m *model) renderCronJob(s *catalog.Service, j catalog.CronJob, base map[string][]byte) {
	name := s.Project + "-" + j.Name
	l := m.labels(s, j.Name)
	files := pick(base, j.Reads)
	pod := m.jobPod(s, name, j.Name, j.Image, m.command(m.ctx, j.Command, j.Args), j.Env, j.Volumes, files)
	schedule := j.Schedule
	if j.ScheduleFrom != nil {
		schedule = j.ScheduleFrom(m.ctx)
	}
	m.add(&batchv1.CronJob{
		TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "CronJob"},
		ObjectMeta: m.meta(name, l),
		Spec: batchv1.CronJobSpec{
			Schedule:                   schedule,
			ConcurrencyPolicy:          batchv1.ForbidConcurrent,
			SuccessfulJobsHistoryLimit: ptr[int32](1),
			FailedJobsHistoryLimit:     ptr[int32](3),
			JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{
				BackoffLimit: ptr[int32](JobBackoffLimit),
				Template:     corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: l}, Spec: pod},
			}},
		},
	})
	m.add(m.standaloneClaims(name, l, active(m.ctx, j.Volumes))...)
	m.noteJob(s, l, j.Reads, j.Connects)
	if len(j.UpdatesSecrets) > 0 {
		role, binding := m.role(name, l, s.Project, []rbacv1.PolicyRule{{
			APIGroups: []string{""}, Resources: []string{"secrets"}, ResourceNames: j.UpdatesSecrets, Verbs: []string{"get", "update"},
		}})
		m.add(role, binding)
	}
}

// jobPod is the pod of a Job or CronJob: control plane, never restarted
// in place (the Job's backoff retries it).
func (m *model) jobPod(s *catalog.Service, owner, name, image string, cmd []string, env []catalog.Env, vols []catalog.Volume, files map[string][]byte) corev1.PodSpec {
	w := &workload{s: s, c: &catalog.Component{Name: name}, ctx: m.ctx, name: owner}
	ctr := corev1.Container{
		Name:         name,
		Image:        m.image(s, image),
		Command:      cmd,
		Env:          m.env(env, false, w),
		VolumeMounts: m.mounts(s, m.ctx, files, vols),
	}
	rt := runtime(or(image, s.Image))
	m.secure(&ctr, rt, nil, catalog.ProfileJob)
	spec := corev1.PodSpec{
		ServiceAccountName: s.Project,
		RestartPolicy:      corev1.RestartPolicyNever,
		NodeSelector:       map[string]string{catalog.RoleControlPlane: catalog.RoleValue},
		Containers:         []corev1.Container{ctr},
		Volumes:            m.volumes(owner, m.ctx, s.Project+"-etc", files, vols, catalog.Deployment),
	}
	m.addInternalCA(&spec)
	securePod(&spec, rt, nil)
	return spec
}

// pick returns the named files.
func pick(files map[string][]byte, names []string) map[string][]byte {
	out := map[string][]byte{}
	for _, n := range names {
		if b, ok := files[n]; ok {
			out[n] = b
		}
	}
	return out
}

func hashFilesBytes(files map[string][]byte) []byte { return []byte(hashFiles(files)) }
