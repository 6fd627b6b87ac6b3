package render

import (
	"maps"

	"github.com/oskproject/osk/internal/catalog"
	"github.com/oskproject/osk/internal/monitoring"
)

// monitoringService is the step the monitoring objects are applied with:
// the database, the first step of every deployment.
var monitoringService = catalog.ConnectDatabase.Service

// renderMonitoring renders StackLight's objects when it is on: the alert
// rules and their inhibitions, labelled for the stack's selectors.
func (m *model) renderMonitoring() {
	l := m.d.Spec.Features.StackLight
	if !l.Enabled {
		return
	}
	labels := m.labels(m.service(monitoringService), "stacklight")
	labels[LabelName] = "stacklight"
	maps.Copy(labels, l.Labels)
	p := m.monitoringParams()
	m.add(monitoring.PrometheusRule(p, m.meta("", labels)), monitoring.AlertmanagerConfig(p, m.meta("", labels)))
}

func (m *model) monitoringParams() monitoring.Params {
	db := m.service(monitoringService)
	server, _ := db.Component(catalog.ConnectDatabase.Component)
	return monitoring.Params{
		Namespace: m.d.Namespace, Deployment: m.d.Name, GaleraMembers: int(m.replicas(db, server)),
		Backup: m.d.Spec.Features.Database.Backup.Enabled, StackLight: m.d.Spec.Features.StackLight,
	}
}
