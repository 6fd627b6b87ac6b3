package render_test

import (
	"time"

	"github.com/oskproject/osk/internal/catalog"
	"github.com/oskproject/osk/internal/pki"
)

// testCA stands for the deployment's internal CA in renders with test
// credentials.
var testCA = func() pki.CA {
	ca, err := pki.NewCA("test-internal-ca", time.Now(), time.Hour)
	if err != nil {
		panic(err)
	}
	return ca
}()

// internalCA returns the test CA's bundle for the internal CA's key, which
// the renderer reads as a CA.
func internalCA(secret, key string) (string, bool) {
	if secret == catalog.InternalTLSSecret && key == catalog.KeyInternalCA {
		return string(testCA.Bundle()), true
	}
	return "", false
}
