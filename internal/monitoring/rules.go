package monitoring

import (
	"fmt"

	v1 "github.com/oskproject/osk/api/v1alpha1"
)

func galeraAlerts(s selectors, members int) []Alert {
	return []Alert{{
		Name: "GaleraMemberNotReady", For: "1m", Severity: Warning,
		Expr:    fmt.Sprintf("%s == 0 or %s == 0 or %s == 0", s.target("up", TargetGalera), s.of("mysql_up"), s.of("mysql_global_status_wsrep_ready")),
		Summary: "Galera member {{ $labels.pod }} is down or does not accept queries",
		Runbook: "Check the member's pod and its log (kubectl logs -c mariadb); osk galera start rejoins it by IST or SST on restart; the other members keep serving while a majority is up",
	}, {
		Name: "GaleraMemberOutOfSync", For: "5m", Severity: Warning,
		Expr:    fmt.Sprintf("%s != 4", s.of("mysql_global_status_wsrep_local_state")),
		Summary: "Galera member {{ $labels.pod }} has not been Synced for 5 minutes (state {{ $value }})",
		Runbook: "A long state transfer or a stuck donor: check the member's log for SST/IST progress and disk space; restart the member if it makes no progress",
	}, {
		Name: "GaleraClusterSizeBelowMembers", For: "1m", Severity: Warning,
		Expr:    fmt.Sprintf("max by (namespace) (%s) < %d", s.of("mysql_global_status_wsrep_cluster_size"), members),
		Summary: fmt.Sprintf("The Galera cluster has {{ $value }} of its %d members", members),
		Runbook: "Find the member that left (GaleraMemberNotReady names it) and bring it back before another fails: losing the majority stops the database",
	}, {
		Name: "GaleraClusterDown", For: "1m", Severity: Critical,
		Expr:    fmt.Sprintf("absent(%s == 1)", s.of("mysql_global_status_wsrep_ready")),
		Summary: "No Galera member accepts queries: every OpenStack service has lost its database",
		Runbook: "Check the members' pods and the mariadb-galera ConfigMap; osk galera start bootstraps from the most advanced member once all are up; see the README's database section for a restore",
	}}
}

func rabbitAlerts(s selectors, t v1.StackLightThresholds) []Alert {
	return []Alert{{
		Name: "RabbitMQDown", For: "1m", Severity: Critical,
		Expr:    fmt.Sprintf("%s == 0", s.target("up", TargetRabbitMQ)),
		Summary: "RabbitMQ {{ $labels.pod }} does not answer: its services' RPC stops",
		Runbook: "Check the bus's pod and log; its services reconnect by themselves once it is back",
	}, {
		Name: "RabbitMQMemoryAlarm", For: "1m", Severity: Critical,
		Expr:    fmt.Sprintf("%s == 1", s.of("rabbitmq_alarms_memory_used_watermark")),
		Summary: "RabbitMQ {{ $labels.pod }} blocks publishers: memory above its watermark",
		Runbook: "Find the queue that grows (rabbitmqctl list_queues name messages consumers) and the consumer it lacks; raise the pod's memory limit if the load is real",
	}, {
		Name: "RabbitMQDiskAlarm", For: "1m", Severity: Critical,
		Expr:    fmt.Sprintf("%s == 1", s.of("rabbitmq_alarms_free_disk_space_watermark")),
		Summary: "RabbitMQ {{ $labels.pod }} blocks publishers: free disk below its limit",
		Runbook: "Free or grow the bus's volume; find the queue that grows and the consumer it lacks",
	}, {
		Name: "RabbitMQNotificationsNotConsumed", For: "10m", Severity: Warning,
		Expr: fmt.Sprintf("(%s > %d) and on (namespace, pod, vhost, queue) (%s == 0)",
			s.of("rabbitmq_detailed_queue_messages_ready", `queue=~"notifications\\..*"`), t.NotificationsBacklog, s.of("rabbitmq_detailed_queue_consumers")),
		Summary: "Notification queue {{ $labels.queue }} holds {{ $value }} messages and nothing consumes them",
		Runbook: "Start the notifications consumer (StackLight's or telemetry's), or turn off the notifications nobody reads (features.messaging.notifications)",
	}}
}

func memcachedAlerts(s selectors) []Alert {
	return []Alert{{
		Name: "MemcachedDown", For: "2m", Severity: Warning,
		Expr:    s.down(TargetMemcached, "memcached_up"),
		Summary: "Memcached {{ $labels.pod }} does not answer: tokens are validated without cache, APIs slow down",
		Runbook: "Check the memcached pod and its memory limit; nothing is lost, caches refill",
	}}
}

func apiAlerts(s selectors, t v1.StackLightThresholds) []Alert {
	return []Alert{{
		Name: "OpenStackAPIDown", For: "2m", Severity: Critical,
		Expr:    fmt.Sprintf("%s == 0", s.target("osk_openstack_api_up", TargetExporter, `interface="internal"`)),
		Summary: "The {{ $labels.service }} API does not answer on its internal endpoint",
		Runbook: "Check the API's pods (kubectl get pods -l osk.dev/service=...) and their logs; osk status names the worst pod",
	}, {
		Name: "OpenStackPublicAPIDown", For: "2m", Severity: Critical,
		Expr:    fmt.Sprintf("%s == 0", s.target("osk_openstack_api_up", TargetExporter, `interface="public"`)),
		Summary: "The {{ $labels.service }} API does not answer on its public endpoint {{ $labels.url }}",
		Runbook: "The API works inside: check the ingress controller, its certificate and DNS for the public name",
	}, {
		Name: "OpenStackAPIErrors", For: "10m", Severity: Warning,
		Expr: fmt.Sprintf("sum by (namespace, ingress) (rate(%s[5m])) / sum by (namespace, ingress) (rate(%s[5m])) * 100 > %d",
			s.of("nginx_ingress_controller_requests", `status=~"5.."`), s.of("nginx_ingress_controller_requests"), t.API5xxPercent),
		Summary: "{{ $value | printf \"%.1f\" }}% of the requests to {{ $labels.ingress }} end in a server error",
		Runbook: "Read the API's log for tracebacks; a database or bus alert may be the cause",
	}, {
		Name: "OpenStackAPISlow", For: "10m", Severity: Warning,
		Expr:    fmt.Sprintf("%s > %g", s.target("osk_openstack_api_latency_seconds", TargetExporter), float64(t.APILatencyMilliseconds)/1000),
		Summary: "The {{ $labels.service }} API ({{ $labels.interface }}) takes {{ $value }}s to answer",
		Runbook: "Check the API pods' CPU and the database's load; scale the API (spec.services.<svc>.components.api.replicas)",
	}}
}

func serviceAlerts(s selectors) []Alert {
	agent := func(service, binary string) string {
		return fmt.Sprintf("(%s == 0) and on (namespace, service, binary, host) (%s == 1)",
			s.target("osk_openstack_agent_up", TargetExporter, fmt.Sprintf("service=%q", service), binary),
			s.target("osk_openstack_agent_enabled", TargetExporter))
	}
	return []Alert{{
		Name: "NovaComputeDown", For: "5m", Severity: Warning,
		Expr:    agent("compute", `binary="nova-compute"`),
		Summary: "nova-compute on {{ $labels.host }} is down: its instances run but cannot be managed",
		Runbook: "Check the nova-compute and libvirt pods on the node; evacuate the node if it is lost",
	}, {
		Name: "NovaControlServiceDown", For: "5m", Severity: Critical,
		Expr:    agent("compute", `binary=~"nova-conductor|nova-scheduler"`),
		Summary: "{{ $labels.binary }} on {{ $labels.host }} is down",
		Runbook: "Check the pod and its log; a bus alert may be the cause",
	}, {
		Name: "NeutronAgentDown", For: "5m", Severity: Warning,
		Expr:    agent("network", `binary=~".+"`),
		Summary: "{{ $labels.binary }} on {{ $labels.host }} is down: its ports are not wired",
		Runbook: "Check the agent's pod on the node and Open vSwitch; a bus alert may be the cause",
	}}
}

func libvirtAlerts(s selectors) []Alert {
	return []Alert{{
		Name: "LibvirtDown", For: "2m", Severity: Critical,
		Expr:    s.down(TargetLibvirt, "libvirt_up"),
		Summary: "libvirt on {{ $labels.pod }} does not answer: the node's instances cannot be managed",
		Runbook: "Check the libvirt pod on the node and its log; running instances keep running",
	}}
}

func certificateAlerts(s selectors, t v1.StackLightThresholds) []Alert {
	expiring := func(days int32) string {
		return fmt.Sprintf("%s - time() < %d", s.target("osk_certificate_expiry_timestamp_seconds", TargetExporter), days*86400)
	}
	return []Alert{{
		Name: "CertificateExpiringSoon", For: "10m", Severity: Warning,
		Expr:    expiring(t.CertificateWarningDays),
		Summary: fmt.Sprintf("The public certificate of {{ $labels.host }} expires within %d days", t.CertificateWarningDays),
		Runbook: "Renew the certificate in the Secrets of features.ssl.publicEndpoints; osk rolls the ingress",
	}, {
		Name: "CertificateExpiringCritical", For: "10m", Severity: Critical,
		Expr:    expiring(t.CertificateCriticalDays),
		Summary: fmt.Sprintf("The public certificate of {{ $labels.host }} expires within %d days", t.CertificateCriticalDays),
		Runbook: "Renew the certificate now in the Secrets of features.ssl.publicEndpoints; clients will refuse the endpoints once it expires",
	}}
}

func backupAlerts(s selectors, t v1.StackLightThresholds) []Alert {
	return []Alert{{
		Name: "GaleraBackupFailed", For: "0m", Severity: Warning,
		Expr:    fmt.Sprintf("%s > 0", s.of("kube_job_status_failed", `job_name=~"mariadb-backup-.*"`)),
		Summary: "Database backup {{ $labels.job_name }} failed",
		Runbook: "kubectl logs job/<job_name>; check the backup claim's free space and the members' backup-agent sidecars",
	}, {
		Name: "GaleraBackupTooOld", For: "0m", Severity: Warning,
		Expr: fmt.Sprintf("time() - max by (namespace) (%s) > %d",
			s.of("kube_cronjob_status_last_successful_time", `cronjob=~"mariadb-backup-.*"`), t.BackupMaxAgeHours*3600),
		Summary: fmt.Sprintf("No database backup succeeded in the last %d hours", t.BackupMaxAgeHours),
		Runbook: "Check the mariadb-backup CronJobs (suspended? failing?) and their last Jobs' logs",
	}}
}

func oskAlerts(s selectors, t v1.StackLightThresholds) []Alert {
	return []Alert{{
		Name: "OskDeploymentFailed", For: "5m", Severity: Critical,
		// osk exporter and the operator both publish it: one alert.
		Expr:    fmt.Sprintf("max by (namespace, deployment, state) (%s) == 1", s.operator("osk_deployment_state", `state="FAILED"`)),
		Summary: "OpenStackDeployment {{ $labels.deployment }} is FAILED",
		Runbook: "kubectl describe osdpl: the SpecValid or Ready condition names the field or the step and its worst pod",
	}, {
		Name: "OskUpgradeStuck", For: "0m", Severity: Warning,
		Expr:    fmt.Sprintf("time() - %s > %d", s.operator("osk_deployment_upgrade_step_started_timestamp_seconds"), t.UpgradeStepTimeoutMinutes*60),
		Summary: fmt.Sprintf("The upgrade of {{ $labels.service }} has been at step {{ $labels.step }} for more than %d minutes", t.UpgradeStepTimeoutMinutes),
		Runbook: "kubectl get osdpl -o yaml: status.upgrade names the step; check its Job's log or the service's pods",
	}, {
		Name: "OskJobFailing", For: "0m", Severity: Warning,
		Expr:    fmt.Sprintf("%s > 0", s.of("kube_job_status_failed")),
		Summary: "Job {{ $labels.job_name }} failed",
		Runbook: "kubectl logs job/<job_name>; osk does not re-run a failed Job until its inputs change: fix the cause, then delete the Job",
	}}
}
