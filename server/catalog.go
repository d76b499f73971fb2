package server

import "github.com/mxdns/mxdns/zone"

// CatalogKeeper keeps the labels of the catalog's members across
// restarts (state/catalog.go): a zone's label must stay while the zone
// stays in the catalog, or every secondary following the catalog drops
// the zone and sets it up anew (RFC 9432 §5.4).
type CatalogKeeper interface {
	CatalogIDs() (map[string]string, error)
	SaveCatalogIDs(map[string]string) error
}

// catalogIDs are the labels kept, for a load (zone.Options.CatalogIDs);
// nil without a state directory, when the snapshot served is all a load
// takes them from.
func (s *Server) catalogIDs() map[string]string {
	ck, ok := s.keeper.(CatalogKeeper)
	if !ok {
		return nil
	}
	ids, err := ck.CatalogIDs()
	if err != nil {
		s.log.Error("state: catalog labels unreadable: every zone in the catalog gets a new label, and the secondaries following it set each up anew", "err", err)
	}
	return ids
}

// saveCatalog keeps the labels of snap's catalog before it is served, and
// logs what the catalog holds when that changed. prev is nil at start.
func (s *Server) saveCatalog(prev, snap *zone.Snapshot) {
	origin, members := snap.Catalog()
	if origin == "" || snap.SameCatalog(prev) {
		return
	}
	serial, _ := snap.Serial(origin)
	s.log.Info("catalog", "zone", origin, "members", len(members), "serial", serial)
	ck, ok := s.keeper.(CatalogKeeper)
	if !ok {
		return
	}
	// Failing to, it still serves: the labels are lost only if the
	// process restarts before a later save, and then the zones added
	// meanwhile are merely set up anew.
	if err := ck.SaveCatalogIDs(snap.CatalogIDs()); err != nil {
		s.log.Error("state: catalog labels not kept; after a restart the zones added since get new labels, and secondaries set them up anew", "err", err)
	}
}
