package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"sync"
)

// catalogFile holds the labels of the catalog's members (RFC 9432): a
// zone's label must not change while it stays in the catalog, or every
// secondary following the catalog drops the zone and sets it up anew.
const catalogFile = "catalog.json"

// catalogStore is what Dir remembers of the labels.
type catalogStore struct {
	mu     sync.Mutex
	loaded bool
	ids    map[string]string // as last saved, or handed to a save that failed
	dirty  bool              // a save failed: the next one writes whatever it is given
}

// catalogLabels is catalogFile's content.
type catalogLabels struct {
	Version int               `json:"version"`
	Members map[string]string `json:"members"` // origin → label
}

// CatalogIDs returns the labels of the catalog's members, by origin, as
// last saved: nil when none were. A file that cannot be read is an error
// once; the labels then start afresh, and the next save replaces it.
func (d *Dir) CatalogIDs() (map[string]string, error) {
	c := &d.catalog
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.loaded {
		return maps.Clone(c.ids), nil
	}
	c.loaded = true
	path := filepath.Join(d.path, catalogFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("catalog labels: %w", err)
	}
	var f catalogLabels
	if err := json.Unmarshal(b, &f); err != nil || f.Version != 1 {
		if err == nil {
			err = fmt.Errorf("version %d, want 1", f.Version)
		}
		return nil, fmt.Errorf("catalog labels: %s: %w", path, err)
	}
	c.ids = f.Members
	return maps.Clone(c.ids), nil
}

// SaveCatalogIDs keeps ids as the labels of the catalog's members,
// atomically, before they are served; labels equal to those saved are not
// written again. After a failed save, CatalogIDs gives ids all the same:
// they are the ones served.
func (d *Dir) SaveCatalogIDs(ids map[string]string) error {
	c := &d.catalog
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.loaded && !c.dirty && maps.Equal(c.ids, ids) {
		return nil
	}
	c.ids, c.loaded, c.dirty = maps.Clone(ids), true, true
	b, err := json.MarshalIndent(catalogLabels{Version: 1, Members: ids}, "", "  ")
	if err != nil {
		return fmt.Errorf("catalog labels: %w", err)
	}
	if err := writeAll([]pending{{path: filepath.Join(d.path, catalogFile), text: append(b, '\n')}}); err != nil {
		return fmt.Errorf("catalog labels: %w", err)
	}
	c.dirty = false
	return nil
}
