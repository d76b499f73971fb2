package state

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/zone"
)

// updatesDir holds the records added by RFC 2136 updates, a file per
// zone, each written whole and atomically before the update is answered.
// A zone whose records were all deleted keeps its file, empty: the zone
// is then served with its serial kept moving, never going back to the
// one its files give.
const updatesDir = "updates"

// updatesFile is one zone's file.
type updatesFile struct {
	Version int             `json:"version"`
	Zone    string          `json:"zone"`
	Records []updatedRecord `json:"records"`
}

type updatedRecord struct {
	RR    string    `json:"rr"` // in master file form
	Added time.Time `json:"added"`
}

// SaveUpdates keeps recs as the updated records of the zone origin,
// atomically and synced: once it returns nil they survive a crash.
func (d *Dir) SaveUpdates(origin string, recs []zone.UpdatedRecord) error {
	f := updatesFile{Version: 1, Zone: origin, Records: make([]updatedRecord, 0, len(recs))}
	for _, r := range recs {
		f.Records = append(f.Records, updatedRecord{RR: r.RR.String(), Added: r.Added.UTC()})
	}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return fmt.Errorf("updates of %s: %w", origin, err)
	}
	dir := filepath.Join(d.path, updatesDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("updates of %s: %w", origin, err)
	}
	d.updMu.Lock()
	defer d.updMu.Unlock()
	if err := writeAll([]pending{{path: filepath.Join(dir, updatesName(origin)), text: append(b, '\n')}}); err != nil {
		return fmt.Errorf("updates of %s: %w", origin, err)
	}
	return nil
}

// Updates reads every zone's updated records. A file or record that
// cannot be read is left out, its file kept as it is, and reported in
// errs: the rest is served.
func (d *Dir) Updates() (map[string][]zone.UpdatedRecord, []error) {
	dir := filepath.Join(d.path, updatesDir)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, []error{fmt.Errorf("updates: %w", err)}
	}
	out := make(map[string][]zone.UpdatedRecord)
	var errs []error
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") || strings.HasPrefix(e.Name(), ".") {
			continue // temporary files of a write cut short, among others
		}
		path := filepath.Join(dir, e.Name())
		b, err := os.ReadFile(path)
		if err != nil {
			errs = append(errs, fmt.Errorf("updates: %w", err))
			continue
		}
		var f updatesFile
		if err := json.Unmarshal(b, &f); err != nil || f.Version != 1 || !dns.IsFqdn(f.Zone) {
			if err == nil {
				err = fmt.Errorf("version %d, zone %q: want version 1 and a zone", f.Version, f.Zone)
			}
			errs = append(errs, fmt.Errorf("updates: %s: %w", path, err))
			continue
		}
		origin := dns.CanonicalName(f.Zone)
		recs := make([]zone.UpdatedRecord, 0, len(f.Records))
		for _, r := range f.Records {
			rr, err := dns.NewRR(r.RR)
			if err != nil || rr == nil {
				errs = append(errs, fmt.Errorf("updates: %s: record %q: %v", path, r.RR, err))
				continue
			}
			recs = append(recs, zone.UpdatedRecord{RR: rr, Added: r.Added})
		}
		out[origin] = recs
	}
	return out, errs
}

// updatesName is the file of a zone's records: readable, and one per
// origin whatever octets its labels hold.
func updatesName(origin string) string {
	sum := sha256.Sum256([]byte(origin))
	safe := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			return r
		}
		return '_'
	}, strings.TrimSuffix(origin, "."))
	if safe == "" {
		safe = "root"
	}
	if len(safe) > 100 {
		safe = safe[:100]
	}
	return hex.EncodeToString(sum[:4]) + "-" + safe + ".json"
}
