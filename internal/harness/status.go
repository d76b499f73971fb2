package harness

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Status is the part of GET /status the tests read.
type Status struct {
	Zones []struct {
		Origin string `json:"origin"`
		Serial uint32 `json:"serial"`
		File   string `json:"file"`
	} `json:"zones"`
	Reload struct {
		OK        bool   `json:"ok"`
		Count     uint64 `json:"count"`
		Failures  uint64 `json:"failures"`
		LastError string `json:"last_error"`
	} `json:"reload"`
	FilesInError []FileError `json:"files_in_error"`
	Links        []Link      `json:"links"`
}

// Link is one link of /status.
type Link struct {
	Name   string    `json:"name"`
	State  string    `json:"state"` // up or down
	Why    string    `json:"why"`
	Since  time.Time `json:"since"` // when it went up or down, by the server's clock
	Checks []Check   `json:"checks"`
}

// Check is one health check of a link.
type Check struct {
	Check     string `json:"check"`
	Up        bool   `json:"up"`
	LastCheck *struct {
		Time       time.Time  `json:"time"`
		OK         bool       `json:"ok"`
		Result     string     `json:"result"`
		CertExpiry *time.Time `json:"cert_expiry"`
	} `json:"last_check"`
}

// Link returns the link named name.
func (st Status) Link(name string) (Link, bool) {
	for _, l := range st.Links {
		if l.Name == name {
			return l, true
		}
	}
	return Link{}, false
}

// FileError is one entry of files_in_error (issue #13).
type FileError struct {
	File    string `json:"file"`
	Error   string `json:"error"`
	Since   string `json:"since"`
	Serving string `json:"serving"` // "last good copy" or "nothing"
}

// InError returns the files_in_error entry whose path ends in suffix.
func (st Status) InError(suffix string) (FileError, bool) {
	for _, f := range st.FilesInError {
		if strings.HasSuffix(f.File, suffix) {
			return f, true
		}
	}
	return FileError{}, false
}

var adminClient = &http.Client{Timeout: 5 * time.Second}

// Status fetches /status; a server whose /status does not answer within
// 5 s gives an error.
func (s *Server) Status() (Status, error) {
	var st Status
	resp, err := adminClient.Get(fmt.Sprintf("http://127.0.0.1:%d/status", s.AdminPort))
	if err != nil {
		return st, fmt.Errorf("GET /status: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("GET /status: %s", resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return st, fmt.Errorf("GET /status: %w", err)
	}
	return st, nil
}

// Metric returns the value of an unlabelled metric from /metrics, and
// whether the server exports it.
func (s *Server) Metric(name string) (float64, bool, error) {
	resp, err := adminClient.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", s.AdminPort))
	if err != nil {
		return 0, false, fmt.Errorf("GET /metrics: %w", err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 2 && f[0] == name {
			v, err := strconv.ParseFloat(f[1], 64)
			return v, err == nil, err
		}
	}
	return 0, false, sc.Err()
}
