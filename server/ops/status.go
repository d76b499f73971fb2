package ops

import "time"

// Status is what GET /status returns, and what `mxdns status` decodes.
type Status struct {
	Links  []LinkStatus `json:"links"`
	Zones  []ZoneStatus `json:"zones"`
	Reload ReloadInfo   `json:"reload"`
	// Warnings are those of the configuration in service, each logged
	// once when it appeared.
	Warnings []WarningStatus `json:"warnings"`
	// FilesInError lists the files in error and what is served of each.
	FilesInError []FileStatus `json:"files_in_error"`
}

// FileStatus is a file in error.
type FileStatus struct {
	File  string    `json:"file"`
	Error string    `json:"error"`
	Since time.Time `json:"since"` // when it was first seen in error
	// Serving is "last good copy", or "nothing" when no good copy of it
	// is known and none of its zones are served.
	Serving string `json:"serving"`
}

// LinkStatus is one link as the answers see it.
type LinkStatus struct {
	Name   string    `json:"name"`
	State  string    `json:"state"`  // up or down: what the answers use
	Manual string    `json:"manual"` // the configured state: auto, up or down
	Why    string    `json:"why"`
	Since  time.Time `json:"since"`
	// Check and LastCheck are the link's first check, as before a link
	// could have several; Checks lists every one.
	Check     string       `json:"check,omitempty"` // "tcp 127.0.0.1:2525", the http URL, ...
	LastCheck *CheckStatus `json:"last_check,omitempty"`
	Require   string       `json:"require,omitempty"` // all or any: how the checks make the link's verdict
	Checks    []CheckInfo  `json:"checks,omitempty"`
}

// CheckInfo is one health check of a link.
type CheckInfo struct {
	Check     string       `json:"check"`
	Up        bool         `json:"up"` // the check's own verdict, after rise and fall
	LastCheck *CheckStatus `json:"last_check,omitempty"`
}

// CheckStatus is the latest probe of a link's health check.
type CheckStatus struct {
	Time      time.Time `json:"time"`
	OK        bool      `json:"ok"`
	Result    string    `json:"result"`
	LatencyMS float64   `json:"latency_ms"`
	// CertExpiry is when the certificate an SMTP check with STARTTLS was
	// shown expires.
	CertExpiry *time.Time `json:"cert_expiry,omitempty"`
}

// ZoneStatus is one zone served.
type ZoneStatus struct {
	Origin string      `json:"origin"`
	Serial uint32      `json:"serial"`
	File   string      `json:"file"`
	DNSSEC *ZoneDNSSEC `json:"dnssec,omitempty"` // nil for a zone not signed
}

// ReloadInfo is the outcome of the latest reload.
type ReloadInfo struct {
	OK          bool      `json:"ok"` // the latest attempt put its configuration into service
	Count       uint64    `json:"count"`
	Failures    uint64    `json:"failures"`
	LastTime    time.Time `json:"last_time"`
	LastSuccess time.Time `json:"last_success"`
	LastError   string    `json:"last_error,omitempty"` // of the latest failed attempt, kept after later successes
}

// WarningStatus is one current warning in /status.
type WarningStatus struct {
	At      string `json:"at"` // file:line:col
	Warning string `json:"warning"`
}
