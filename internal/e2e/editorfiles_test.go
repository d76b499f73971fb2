package e2e

import "testing"

// Issue #13, failure 8: zone_files: ["zones/*"] picked up editor files
// (.x.yaml.swp, x.yaml~) and failed the reload. Names starting with . or
// #, ending in ~, .swp, .swx or .tmp, and vim's 4913 probe are ignored.
func TestEditorFilesIgnored(t *testing.T) {
	s := newSite(t, map[string]string{"zones/x.yaml": zoneYAML("x.test", "192.0.2.1")})
	s.glob = "zones/*"
	s.start()
	s.expectA("www.x.test", "192.0.2.1", "start")

	junk := "\x00\x01b0VIM 9.0\x00 not yaml: [\n"
	backup := zoneYAML("x.test", "192.0.2.99") // an old copy: the same zone again
	for name, text := range map[string]string{
		"zones/.x.yaml.swp": junk,
		"zones/.x.yaml.swx": junk,
		"zones/x.yaml~":     backup,
		"zones/#x.yaml#":    backup,
		"zones/x.yaml.tmp":  junk,
		"zones/4913":        "",
	} {
		s.writeInPlace(name, text)
	}
	s.save("zones/x.yaml", zoneYAML("x.test", "192.0.2.2"))
	s.waitA("www.x.test", "192.0.2.2", "failure 8 (editor files beside zones/x.yaml fail the reload)")
	if st := s.status(); len(st.FilesInError) > 0 {
		t.Fatalf("failure 8: editor files reported in error: %+v", st.FilesInError)
	}
	s.restart(false, "failure 8 (a restart with editor files in zones/)")
	s.expectA("www.x.test", "192.0.2.2", "failure 8 (after a restart with editor files in zones/)")
}
