package validation

import (
	"net/url"

	"k8s.io/apimachinery/pkg/util/validation/field"

	v1 "github.com/oskproject/osk/api/v1alpha1"
)

// validateLogs checks where StackLight's logs go, when they are
// collected: OpenSearch's URL is http or https with a host and no path,
// and the credentials Secret, if named, is a valid Secret name.
func validateLogs(l v1.StackLightLogs, p *field.Path) field.ErrorList {
	if !l.Enabled {
		return nil
	}
	var errs field.ErrorList
	if l.URL != "" {
		u, err := url.Parse(l.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.User != nil || u.RawQuery != "" {
			errs = append(errs, field.Invalid(p.Child("url"), l.URL, "must be http:// or https:// with a host and optional port, no path, query or credentials (those go in credentialsSecret)"))
		}
	}
	if l.CredentialsSecret != "" {
		errs = append(errs, dnsName(p.Child("credentialsSecret"), l.CredentialsSecret)...)
	}
	return errs
}
