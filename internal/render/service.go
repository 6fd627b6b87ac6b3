package render

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/oskproject/osk/internal/catalog"
)

// renderService renders everything of one service: its account, its
// configuration, its components and its jobs.
func (m *model) renderService(s *catalog.Service) error {
	m.add(&corev1.ServiceAccount{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"},
		ObjectMeta: m.meta(s.Project, m.labels(s, "")),
	})
	base := m.baseFiles(s, m.ctx)
	baseFiles := m.content(s, m.ctx, base, allFiles(s))
	if len(baseFiles) > 0 {
		m.add(m.configSecret(s.Project+"-etc", m.labels(s, ""), baseFiles))
	}
	if s.Name == "messaging" {
		m.renderBuses(s, base, baseFiles)
		return nil
	}
	for i := range s.Components {
		c := &s.Components[i]
		if (c.When != nil && !c.When(m.ctx)) || !catalog.Available(c.Releases, m.ctx.Release) {
			continue
		}
		m.renderComponent(s, c, base, baseFiles)
		m.notePublic(s, c)
		m.noteImages(s, c)
	}
	for _, j := range m.serviceJobs(s) {
		m.renderJob(s, j, baseFiles)
		m.noteImage(catalog.RoleControlPlane, m.image(s, j.Image))
	}
	if m.upgradeSteps {
		m.renderUpgradeJobs(s, baseFiles)
	}
	for _, j := range s.CronJobs {
		if j.When == nil || j.When(m.ctx) {
			m.renderCronJob(s, j, baseFiles)
		}
	}
	m.sharedClaims(s)
	return nil
}

// noteImages records the images a component's nodes run, for
// pre-caching.
func (m *model) noteImages(s *catalog.Service, c *catalog.Component) {
	m.noteImage(c.Role, m.image(s, c.Image))
	for _, sc := range c.Sidecars {
		if sc.When == nil || sc.When(m.ctx) {
			m.noteImage(c.Role, m.image(s, or(sc.Image, c.Image)))
		}
	}
	if len(c.NodeAddresses) > 0 || c.OskBinary {
		m.noteImage(c.Role, m.images["osk"])
	}
}

func (m *model) noteImage(role, image string) {
	if m.byRole[role] == nil {
		m.byRole[role] = map[string]bool{}
	}
	m.byRole[role][image] = true
}
