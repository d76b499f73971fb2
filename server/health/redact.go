package health

import (
	"net/url"
	"strings"
)

// RedactURL hides the secrets a health-check URL may carry wherever it
// is shown (status, logs): the password of its user info, or a user
// name alone, which is often a token, and the values of query keys that
// name a secret. A string that does not parse as a URL is shown as "".
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	if u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		} else {
			u.User = url.User("xxxxx")
		}
	}
	if u.RawQuery != "" {
		parts := strings.Split(u.RawQuery, "&")
		for i, p := range parts {
			k, _, hasValue := strings.Cut(p, "=")
			if name, err := url.QueryUnescape(k); err == nil && hasValue && secretKey(name) {
				parts[i] = k + "=xxxxx"
			}
		}
		u.RawQuery = strings.Join(parts, "&")
	}
	return u.String()
}

// secretKey reports whether a query key names a secret: token, key,
// password, secret and their usual spellings (api_key, access_token,
// passwd, sig, auth).
func secretKey(name string) bool {
	name = strings.ToLower(name)
	for _, s := range []string{"token", "key", "pass", "secret", "sig", "auth", "credential"} {
		if strings.Contains(name, s) {
			return true
		}
	}
	return false
}
