package apply

import (
	"context"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Unlogged returns a context for the requests that carry a Secret's data:
// client-go logs request and response bodies, at high verbosity, with the
// context's logger, and a Secret's values must reach no log at any
// verbosity. Errors are returned, not logged, so nothing else is lost.
func Unlogged(ctx context.Context) context.Context {
	return logr.NewContext(ctx, logr.Discard())
}

// quietFor is Unlogged for Secrets and ctx itself for the rest.
func quietFor(ctx context.Context, o client.Object) context.Context {
	if _, ok := o.(*corev1.Secret); ok {
		return Unlogged(ctx)
	}
	return ctx
}
