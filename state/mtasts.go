package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// stsFile holds the MTA-STS policies mxdns check -resolve last saw. A
// policy's id must change whenever the policy does (RFC 8461 §3.1):
// senders keep a cached policy, without fetching it again, for as long as
// the id they find in DNS is the one they have. Only a copy of what was
// seen before tells that the policy changed under the same id.
const stsFile = "mta-sts.json"

// STSPolicy is what was seen of one domain's policy.
type STSPolicy struct {
	ID     string    `json:"id"`     // the id of _mta-sts.<domain> then
	Digest string    `json:"digest"` // SHA-256 of the policy as fetched, hex
	Seen   time.Time `json:"seen"`   // when the policy first had this digest
}

// STSPolicies is the policies seen, kept in a file of a state directory.
// It does not open the directory's serial journal, so that a check may
// use the directory of a running server. It is safe for concurrent use.
type STSPolicies struct {
	path string

	mu       sync.Mutex
	loaded   bool
	policies map[string]STSPolicy
}

// stsPolicies is stsFile's content.
type stsPolicies struct {
	Version  int                  `json:"version"`
	Policies map[string]STSPolicy `json:"policies"` // by domain, lower case, no final dot
}

// OpenSTSPolicies returns the policies kept in the state directory dir,
// made (mode 0700) at the first save when it does not exist.
func OpenSTSPolicies(dir string) *STSPolicies {
	return &STSPolicies{path: filepath.Join(dir, stsFile)}
}

// Seen returns what was last seen of domain's policy. A file that cannot
// be read is an error; one that is not there is an empty cache.
func (p *STSPolicies) Seen(domain string) (STSPolicy, bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.load(); err != nil {
		return STSPolicy{}, false, err
	}
	pol, ok := p.policies[domain]
	return pol, ok, nil
}

// Remember keeps pol as domain's policy, writing the file atomically.
func (p *STSPolicies) Remember(domain string, pol STSPolicy) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.load(); err != nil {
		return err
	}
	p.policies[domain] = pol
	b, err := json.MarshalIndent(stsPolicies{Version: 1, Policies: p.policies}, "", "  ")
	if err != nil {
		return fmt.Errorf("mta-sts policies: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(p.path), 0o700); err != nil {
		return fmt.Errorf("mta-sts policies: %w", err)
	}
	if err := writeAll([]pending{{path: p.path, text: append(b, '\n')}}); err != nil {
		return fmt.Errorf("mta-sts policies: %w", err)
	}
	return nil
}

func (p *STSPolicies) load() error {
	if p.loaded {
		return nil
	}
	b, err := os.ReadFile(p.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		p.policies, p.loaded = map[string]STSPolicy{}, true
		return nil
	case err != nil:
		return fmt.Errorf("mta-sts policies: %w", err)
	}
	var f stsPolicies
	if err := json.Unmarshal(b, &f); err != nil || f.Version != 1 {
		if err == nil {
			err = fmt.Errorf("version %d, want 1", f.Version)
		}
		return fmt.Errorf("mta-sts policies: %s: %w", p.path, err)
	}
	if f.Policies == nil {
		f.Policies = map[string]STSPolicy{}
	}
	p.policies, p.loaded = f.Policies, true
	return nil
}
