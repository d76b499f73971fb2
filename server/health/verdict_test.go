package health

import (
	"testing"

	"github.com/mxdns/mxdns/zone"
)

func TestUpLinks(t *testing.T) {
	check := []zone.Check{{TCP: "192.0.2.1:25"}}
	links := []zone.Link{
		{Name: "auto"},
		{Name: "up", State: zone.LinkUp, Checks: check},
		{Name: "down", State: zone.LinkDown},
		{Name: "checked", Checks: check},
		{Name: "failing", Checks: check},
		{Name: "forced", State: zone.LinkUp, Checks: check},
	}
	health := map[string]bool{"checked": true, "failing": false, "forced": false}
	got := upLinks(links, health)
	want := zone.LinkSet(0).With(0).With(1).With(3).With(5)
	if got != want {
		t.Errorf("up %b, want %b", got, want)
	}
	if got := upLinks(links, nil); got != zone.AllLinks.Without(2)&(1<<len(links)-1) {
		t.Errorf("without verdicts: up %b", got)
	}
}
