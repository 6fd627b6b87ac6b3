package monitoring

import (
	"regexp"
	"strings"
)

// The log shipper is syslog-ng (the syslog-ng project's image of the
// version Debian bookworm ships, 3.38), run on every node by a
// DaemonSet: it tails the kubelet's pod log files, joins an OpenStack
// traceback into the record it belongs to, parses oslo.log's fields and
// sends the records to OpenSearch's _bulk API, buffered on the node's
// disk so that an OpenSearch outage or a restart loses nothing.

// Log kinds: each goes to an index of its own, LogIndexPrefix-<kind>-<date>.
const (
	// LogKindSystem is every record but the audit ones.
	LogKindSystem = "system"
	// LogKindAudit is the records of an audit logger (a logger name with
	// an "audit" part, as keystonemiddleware's audit middleware and
	// oslo.messaging's log notifier of audit events use).
	LogKindAudit = "audit"
	// LogIndexPrefix starts every index name: osk-logs-system-2026.12.04.
	LogIndexPrefix = "osk-logs"
)

// Record fields: every record sent carries these keys (request_id is "-"
// when the line names no request, as oslo.log writes it).
const (
	FieldService   = "service"
	FieldComponent = "component"
	FieldLevel     = "level"
	FieldLogger    = "logger"
	FieldRequestID = "request_id"
	FieldMessage   = "message"
	FieldKind      = "kind"
)

// Environment variables of the shipper's container.
const (
	// EnvNodeName is the node's name (downward API).
	EnvNodeName = "NODE_NAME"
	// EnvUsername and EnvPassword hold OpenSearch's credentials, from
	// the Secret features.stacklight.logs.credentialsSecret names.
	EnvUsername = "OPENSEARCH_USERNAME"
	EnvPassword = "OPENSEARCH_PASSWORD"
)

// LogShipper is what the shipper's configuration is made of. Only the
// paths and OpenSearch's address differ between a node and a test bed.
type LogShipper struct {
	// PodLogs is the kubelet's pod log directory, /var/log/pods.
	PodLogs string
	// Namespace is the deployment's: only its pods' logs are shipped,
	// and those of Agents.
	Namespace string
	// Agents is the node agents' namespace when it is not Namespace
	// (features.nodeAgents.namespace).
	Agents string
	// URL is OpenSearch's address, http(s)://host:port.
	URL string
	// Credentials sends EnvUsername and EnvPassword as basic
	// authentication.
	Credentials bool
	// StateDir holds the disk buffer; it outlives the pod (a hostPath).
	StateDir string
	// Self starts the names of the shipper's own pods, whose logs it
	// leaves out (its errors while OpenSearch is down would otherwise
	// come back to it as records).
	Self string
}

// osloLine is the start of an oslo.log line: date, time, pid, level,
// logger (PCRE, as syslog-ng reads it).
const osloLine = `\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ \d+ [A-Z]+ \S+ `

// ShipperConfig returns syslog-ng's configuration file.
//
// Records: a CRI log line ("<time> <stream> <F|P> <text>") starts a
// record unless its text is an oslo.log exception line: oslo.log writes
// each line of a traceback with its exception prefix (date, time, pid,
// ERROR, logger) and no context in brackets, so those lines are joined,
// without their CRI prefix, to the record before them. A record whose
// text is an oslo.log line is parsed into pid, level, logger, request id
// (req-...), global request id, user and project; service is the pod
// name's first word (osk names every workload <project>-<component>),
// component the container's name.
func ShipperConfig(s LogShipper) string {
	auth := ""
	if s.Credentials {
		auth = "    user(\"`" + EnvUsername + "`\")\n    password(\"`" + EnvPassword + "`\")\n"
	}
	return strings.NewReplacer(
		"@POD_LOGS@", s.PodLogs, "@NAMESPACES@", s.namespaces(), "@NAMESPACE@", s.Namespace, "@URL@", s.URL, "@AUTH@", auth,
		"@STATE_DIR@", s.StateDir, "@OSLO_LINE@", osloLine, "@SYSTEM@", LogKindSystem, "@AUDIT@", LogKindAudit,
		"@INDEX@", LogIndexPrefix, "@SELF@", s.Self, "@NODE@", "`"+EnvNodeName+"`",
	).Replace(shipperConfig)
}

// namespaces is a PCRE matching the namespaces whose logs are shipped.
func (s LogShipper) namespaces() string {
	if s.Agents == "" || s.Agents == s.Namespace {
		return regexp.QuoteMeta(s.Namespace)
	}
	return "(?:" + regexp.QuoteMeta(s.Namespace) + "|" + regexp.QuoteMeta(s.Agents) + ")"
}

// ShipperArgs is the shipper's command line: in the foreground, without
// managing capabilities (the container has none to manage), its
// configuration, its file positions (persist file) in StateDir, its pid
// file and control socket in run.
func ShipperArgs(config, stateDir, run string) []string {
	return []string{"syslog-ng", "--foreground", "--no-caps", "--stderr", "--cfgfile=" + config,
		"--persist-file=" + stateDir + "/syslog-ng.persist", "--pidfile=" + run + "/syslog-ng.pid", "--control=" + run + "/syslog-ng.ctl"}
}

// shipperConfig is the configuration with @PLACEHOLDERS@ (ShipperConfig).
const shipperConfig = `@version: 3.38
@include "scl.conf"
# osk's log shipper: the logs of every pod of namespace @NAMESPACE@, parsed,
# to OpenSearch. Rendered by osk; do not edit.

options {
  use-dns(no);
  keep-hostname(no);
  log-msg-size(1048576);
  stats-freq(0);
  time-reopen(5);
};

source s_pods {
  wildcard-file(
    base-dir("@POD_LOGS@")
    filename-pattern("*.log")
    recursive(yes)
    monitor-method(poll)
    follow-freq(1)
    max-files(10000)
    log-iw-size(1000000)
    flags(no-parse)
    multi-line-mode(regexp)
    multi-line-prefix('^\S+ (?:stdout|stderr) [FP] (?!@OSLO_LINE@(?!\[(?!instance: )))')
    multi-line-timeout(2)
  );
};

# Only the deployment's pods: /var/log/pods/<namespace>_<pod>_<uid>/<container>/<n>.log.
filter f_namespace {
  match('^\Q@POD_LOGS@\E/@NAMESPACES@_' value("FILE_NAME"))
  and not match('^\Q@POD_LOGS@\E/@NAMESPACES@_@SELF@-' value("FILE_NAME"));
};

parser p_path {
  regexp-parser(
    template("${FILE_NAME}")
    prefix(".osk.")
    patterns('/(?<namespace>[^/_]+)_(?<pod>(?<service>[^/_-]+)[^/_]*)_(?<pod_uid>[^/_]+)/(?<component>[^/]+)/[^/]+$')
  );
};

# The first line's CRI header, then every CRI prefix out of the record.
parser p_cri {
  regexp-parser(
    prefix(".cri.")
    patterns('^(?<time>\S+) (?<stream>stdout|stderr) [FP] ')
  );
};
rewrite r_cri {
  subst('^\S+ (?:stdout|stderr) [FP] ', "", value("MESSAGE"));
  subst('\n\S+ (?:stdout|stderr) [FP] ', "\n", value("MESSAGE") flags(global));
};

# oslo.log: "<date> <time> <pid> <LEVEL> <logger> [<context>] <message>",
# the context "<global request id> <request id> <user> <project> ..." or "-".
filter f_oslo { match('^@OSLO_LINE@\[' value("MESSAGE")); };
parser p_oslo {
  regexp-parser(
    prefix(".osk.")
    patterns('^(?<time>\S+ \S+) (?<pid>\d+) (?<level>[A-Z]+) (?<logger>\S+) \[(?:(?<global_request_id>\S+) (?<request_id>req-[0-9a-f-]+)(?: (?<user_id>\S+) (?<project_id>\S+))?[^\]]*|[^\]]*)\] ')
  );
};

filter f_audit { match('(?:^|\.)audit(?:\.|$)' value(".osk.logger")); };

destination d_opensearch {
  elasticsearch-http(
    url("@URL@/_bulk")
    index("@INDEX@-${.osk.kind}-${R_YEAR}.${R_MONTH}.${R_DAY}")
    type("")
@AUTH@    workers(2)
    batch-lines(500)
    batch-timeout(1000)
    timeout(30)
    retries(1000000)
    template("$(format-json --omit-empty-values @timestamp=${.cri.time} message=${MESSAGE} node=@NODE@ namespace=${.osk.namespace} pod=${.osk.pod} service=${.osk.service} component=${.osk.component} stream=${.cri.stream} kind=${.osk.kind} pid=${.osk.pid} level=${.osk.level} logger=${.osk.logger} request_id=${.osk.request_id} global_request_id=${.osk.global_request_id} user_id=${.osk.user_id} project_id=${.osk.project_id} file=${FILE_NAME})")
    disk-buffer(
      reliable(yes)
      dir("@STATE_DIR@")
      disk-buf-size(1073741824)
      mem-buf-size(16777216)
    )
  );
};

log {
  source(s_pods);
  filter(f_namespace);
  parser(p_path);
  parser(p_cri);
  rewrite(r_cri);
  rewrite { set("@SYSTEM@" value(".osk.kind")); set("-" value(".osk.request_id")); set("-" value(".osk.level")); set("-" value(".osk.logger")); };
  if {
    filter(f_oslo);
    parser(p_oslo);
    rewrite { set("-" value(".osk.request_id") condition("${.osk.request_id}" eq "")); };
    if {
      filter(f_audit);
      rewrite { set("@AUDIT@" value(".osk.kind")); };
    };
  };
  destination(d_opensearch);
  # A full disk buffer stops the reading, not the records: the files
  # stay on the node.
  flags(flow-control);
};
`
