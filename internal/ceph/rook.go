package ceph

// osk's own typed view of the part of Rook's API (ceph.rook.io/v1) it
// renders. Rook's Go module is not a dependency of osk's: it pins the
// whole of Rook's dependency tree, with replace and exclude lines, for
// the few fields below. The sandbox's tests check every object rendered
// from these types against Rook's CRDs as generated from Rook's own types
// (hack/rookcrds, test/testdata/rook-crds), so a field spelt wrong or out
// of Rook's schema fails there.

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// RookAPIVersion is the API version of Rook's Ceph kinds.
const RookAPIVersion = "ceph.rook.io/v1"

// Rook's kinds osk renders.
const (
	KindCluster     = "CephCluster"
	KindBlockPool   = "CephBlockPool"
	KindClient      = "CephClient"
	KindObjectStore = "CephObjectStore"
)

// rookCluster is a CephCluster.
type rookCluster struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              rookClusterSpec `json:"spec"`
}

type rookClusterSpec struct {
	CephVersion     rookCephVersion          `json:"cephVersion"`
	DataDirHostPath string                   `json:"dataDirHostPath"`
	Mon             rookDaemonCount          `json:"mon"`
	Mgr             rookDaemonCount          `json:"mgr"`
	Network         *rookNetwork             `json:"network,omitempty"`
	Placement       map[string]rookPlacement `json:"placement,omitempty"`
	Storage         rookStorage              `json:"storage"`
}

type rookCephVersion struct {
	Image string `json:"image"`
}

type rookDaemonCount struct {
	Count                int  `json:"count"`
	AllowMultiplePerNode bool `json:"allowMultiplePerNode"`
}

type rookNetwork struct {
	AddressRanges rookAddressRanges `json:"addressRanges"`
}

type rookAddressRanges struct {
	Public  []string `json:"public,omitempty"`
	Cluster []string `json:"cluster,omitempty"`
}

type rookPlacement struct {
	NodeAffinity *corev1.NodeAffinity `json:"nodeAffinity,omitempty"`
}

type rookStorage struct {
	UseAllNodes   bool            `json:"useAllNodes"`
	UseAllDevices bool            `json:"useAllDevices"`
	Nodes         []rookNodeDisks `json:"nodes,omitempty"`
}

type rookNodeDisks struct {
	Name          string            `json:"name"`
	UseAllDevices *bool             `json:"useAllDevices,omitempty"`
	Devices       []rookDevice      `json:"devices,omitempty"`
	Config        map[string]string `json:"config,omitempty"`
}

type rookDevice struct {
	Name     string            `json:"name,omitempty"`
	FullPath string            `json:"fullpath,omitempty"`
	Config   map[string]string `json:"config,omitempty"`
}

// rookPool is a CephBlockPool.
type rookPool struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              rookPoolSpec `json:"spec"`
}

type rookPoolSpec struct {
	FailureDomain string            `json:"failureDomain,omitempty"`
	DeviceClass   string            `json:"deviceClass,omitempty"`
	Replicated    *rookReplicated   `json:"replicated,omitempty"`
	ErasureCoded  *rookErasureCoded `json:"erasureCoded,omitempty"`
	Application   string            `json:"application,omitempty"`
	Parameters    map[string]string `json:"parameters,omitempty"`
}

type rookReplicated struct {
	Size int32 `json:"size"`
}

type rookErasureCoded struct {
	DataChunks   int32 `json:"dataChunks"`
	CodingChunks int32 `json:"codingChunks"`
}

// rookClient is a CephClient.
type rookClient struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              rookClientSpec `json:"spec"`
}

type rookClientSpec struct {
	Caps map[string]string `json:"caps"`
}

// rookObjectStore is a CephObjectStore.
type rookObjectStore struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              rookObjectStoreSpec `json:"spec"`
}

type rookObjectStoreSpec struct {
	MetadataPool          rookPoolSpec  `json:"metadataPool"`
	DataPool              rookPoolSpec  `json:"dataPool"`
	PreservePoolsOnDelete bool          `json:"preservePoolsOnDelete"`
	Gateway               rookGateway   `json:"gateway"`
	Auth                  rookAuth      `json:"auth"`
	Protocols             rookProtocols `json:"protocols"`
}

type rookGateway struct {
	Port      int32          `json:"port"`
	Instances int32          `json:"instances"`
	Placement *rookPlacement `json:"placement,omitempty"`
	// RgwConfig holds gateway options Rook has no field for.
	RgwConfig map[string]string `json:"rgwConfig,omitempty"`
}

type rookAuth struct {
	Keystone rookKeystone `json:"keystone"`
}

type rookKeystone struct {
	URL                   string   `json:"url"`
	ServiceUserSecretName string   `json:"serviceUserSecretName"`
	AcceptedRoles         []string `json:"acceptedRoles"`
	ImplicitTenants       string   `json:"implicitTenants,omitempty"`
}

type rookProtocols struct {
	EnableAPIs []string   `json:"enableAPIs,omitempty"`
	S3         *rookS3    `json:"s3,omitempty"`
	Swift      *rookSwift `json:"swift,omitempty"`
}

type rookS3 struct {
	Enabled         bool `json:"enabled"`
	AuthUseKeystone bool `json:"authUseKeystone"`
}

type rookSwift struct {
	AccountInURL      bool   `json:"accountInUrl"`
	URLPrefix         string `json:"urlPrefix"`
	VersioningEnabled bool   `json:"versioningEnabled"`
}
