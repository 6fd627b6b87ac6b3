package controllers

import (
	"crypto/sha256"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/oskproject/osk/internal/render"
)

// renderCache keeps the last renderings of each deployment, so that a
// pass whose inputs did not change does not render again: while a
// deployment upgrades, every pass renders two releases, and rendering is
// most of a pass's own work. An entry is found by everything a rendering
// depends on: the deployment's generation (its spec), the release, the
// options (the Ceph keys' content included), the resource versions of
// its credential Secrets, and the day: a rendering renews the internal
// TLS certificates that near their end, which the day's first pass
// notices.
//
// Renderings are shared between passes, which only read them; Apply's
// stamp (owner, applied hash) is the same on every pass. Only renderings
// that generated no credential are kept: those are written to Secrets
// first, which changes the key.
type renderCache struct {
	mu      sync.Mutex
	entries map[types.UID]map[string]cachedRender // by role: the target release, or the running one
}

type cachedRender struct {
	key    string
	result *render.Result
}

// renderKey is what a rendering of release depends on.
func renderKey(generation int64, release string, opts render.Options, secrets []corev1.Secret) string {
	versions := make([]string, 0, len(secrets))
	for _, s := range secrets {
		versions = append(versions, s.Name+"@"+s.ResourceVersion)
	}
	slices.Sort(versions)
	// The Ceph keys are data from a Secret of the user's or of the Ceph
	// controller's, not a credential of osk's: their content is hashed.
	ceph := sha256.New()
	for _, k := range slices.Sorted(maps.Keys(opts.Ceph)) {
		fmt.Fprintf(ceph, "%s=%x;", k, opts.Ceph[k])
	}
	return fmt.Sprintf("%d/%s/%t/%s/%x/%s/%s", generation, release, opts.UpgradeSteps, opts.OskImage, ceph.Sum(nil)[:8],
		strings.Join(versions, ","), time.Now().UTC().Format(time.DateOnly))
}

// get returns the rendering of a deployment's role kept under key.
func (c *renderCache) get(uid types.UID, role, key string) *render.Result {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[uid][role]; ok && e.key == key {
		return e.result
	}
	return nil
}

// put keeps a rendering of a deployment's role, replacing the last one.
func (c *renderCache) put(uid types.UID, role, key string, res *render.Result) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[types.UID]map[string]cachedRender{}
	}
	if c.entries[uid] == nil {
		c.entries[uid] = map[string]cachedRender{}
	}
	c.entries[uid][role] = cachedRender{key: key, result: res}
}

// forget drops a deployment's renderings.
func (c *renderCache) forget(uid types.UID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, uid)
}
