// Package defaulting fills in the values a spec leaves out. The admission
// webhook and the renderer share it, so what is stored is what is rendered.
package defaulting

import (
	v1 "github.com/oskproject/osk/api/v1alpha1"
)

// Default values.
const (
	Region                 = "RegionOne"
	InternalDomainName     = "cluster.local"
	LocalStorageClass      = "local-volume"
	TunnelInterface        = "eth0"
	KeyRotationSchedule    = "0 */12 * * *"
	MaxActiveKeys          = 7
	TokenExpiration        = 3600
	BackupFullSchedule     = "0 1 * * 0"
	BackupIncrementalSched = "0 1 * * 1-6"
	BackupKeep             = 10
	BackupSize             = "20Gi"
	CephKeysSecret         = "openstack-ceph-keys"
	GlanceFileSize         = "50Gi"
	TelemetryInterval      = 300
	StackLightNamespace    = "stacklight"
	StackLightLabel        = "release"
	StackLightLabelValue   = "stacklight"
	APILatencyMilliseconds = 2000
	API5xxPercent          = 5
	NotificationsBacklog   = 10000
	BackupMaxAgeHours      = 48
	UpgradeStepTimeout     = 60
	CertificateWarningDays = 30
	CertificateCritical    = 7
)

// Default fills every unset field of the spec with its default, in place.
// It never changes a field the user set.
func Default(s *v1.OpenStackDeploymentSpec) {
	str(&s.Region, Region)
	str(&s.InternalDomainName, InternalDomainName)
	str(&s.StorageClasses.Local, LocalStorageClass)
	defaultNeutron(s.Preset, &s.Features.Neutron)
	defaultNova(&s.Features.Nova)
	defaultDatabase(&s.Features.Database)
	defaultKeystone(&s.Features.Keystone)
	str((*string)(&s.Features.Glance.Backend), string(v1.StoreCeph))
	str(&s.Features.Glance.Size, GlanceFileSize)
	str((*string)(&s.Features.Cinder.Backend), string(v1.StoreCeph))
	str(&s.Features.Ceph.KeysSecret, CephKeysSecret)
	num(&s.Features.Telemetry.Interval, TelemetryInterval)
	defaultStackLight(&s.Features.StackLight)
}

// defaultStackLight fills StackLight's settings only when it is on, so a
// deployment without it stores none of them.
func defaultStackLight(l *v1.StackLightFeatures) {
	if !l.Enabled {
		return
	}
	str(&l.Namespace, StackLightNamespace)
	if len(l.Labels) == 0 {
		l.Labels = map[string]string{StackLightLabel: StackLightLabelValue}
	}
	t := &l.Thresholds
	num(&t.APILatencyMilliseconds, APILatencyMilliseconds)
	num(&t.API5xxPercent, API5xxPercent)
	num(&t.NotificationsBacklog, NotificationsBacklog)
	num(&t.BackupMaxAgeHours, BackupMaxAgeHours)
	num(&t.UpgradeStepTimeoutMinutes, UpgradeStepTimeout)
	num(&t.CertificateWarningDays, CertificateWarningDays)
	num(&t.CertificateCriticalDays, CertificateCritical)
}

func defaultNeutron(p v1.Preset, n *v1.NeutronFeatures) {
	b := v1.NeutronML2OVS
	if p == v1.PresetComputeTF {
		b = v1.NeutronTungstenFabric
	}
	str((*string)(&n.Backend), string(b))
	str(&n.TunnelInterface, TunnelInterface)
	str((*string)(&n.OVSDatapath), string(v1.OVSDatapathSystem))
}

func defaultNova(n *v1.NovaFeatures) {
	str(&n.AllocationRatios.CPU, "8.0")
	str(&n.AllocationRatios.RAM, "1.0")
	str(&n.AllocationRatios.Disk, "1.0")
	str((*string)(&n.ImagesBackend), string(v1.ImagesLocal))
	str((*string)(&n.Console), string(v1.ConsoleNoVNC))
	str((*string)(&n.VirtType), string(v1.VirtKVM))
}

func defaultDatabase(d *v1.DatabaseFeatures) {
	str((*string)(&d.VolumeClaimPolicy), string(v1.VolumeClaimsRetain))
	str(&d.Backup.FullSchedule, BackupFullSchedule)
	str(&d.Backup.IncrementalSchedule, BackupIncrementalSched)
	num(&d.Backup.Keep, BackupKeep)
	str(&d.Backup.Size, BackupSize)
}

func defaultKeystone(k *v1.KeystoneFeatures) {
	for _, r := range []*v1.KeyRotation{&k.FernetRotation, &k.CredentialRotation} {
		str(&r.Schedule, KeyRotationSchedule)
		num(&r.MaxActiveKeys, MaxActiveKeys)
	}
	num(&k.TokenExpiration, TokenExpiration)
}

func str(field *string, value string) {
	if *field == "" {
		*field = value
	}
}

func num(field *int32, value int32) {
	if *field == 0 {
		*field = value
	}
}
