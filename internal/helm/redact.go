package helm

import (
	"slices"
	"strings"
)

// minSecretLength is the shortest string redacted: shorter ones would
// blank out ordinary words of an error.
const minSecretLength = 4

// Redacted replaces each secret in an error's message.
const Redacted = "[redacted]"

// redact returns err with every secret of d replaced in its message; it
// still unwraps to err, so errors.Is and errors.As see through it.
func (d Desired) redact(err error) error {
	if err == nil {
		return nil
	}
	msg := redactString(err.Error(), d.Secrets)
	if msg == err.Error() {
		return err
	}
	return &redactedError{msg: msg, err: err}
}

// redactString replaces every secret in s, longest first, so a secret
// that contains another is replaced whole.
func redactString(s string, secrets []string) string {
	sorted := slices.Clone(secrets)
	slices.SortFunc(sorted, func(a, b string) int { return len(b) - len(a) })
	for _, sec := range sorted {
		if len(sec) >= minSecretLength {
			s = strings.ReplaceAll(s, sec, Redacted)
		}
	}
	return s
}

// redactedError is an error whose message has its secrets replaced.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
