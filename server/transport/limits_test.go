package transport

import (
	"net"
	"testing"
)

func TestSourceOfGroupsPrefixes(t *testing.T) {
	for addr, want := range map[string]string{
		"192.0.2.77:53":          "192.0.2.0/24",
		"[::ffff:192.0.2.77]:53": "192.0.2.0/24",
		"[2001:db8:1:2ff::1]:53": "2001:db8:1:200::/56",
	} {
		a, _ := net.ResolveTCPAddr("tcp", addr)
		if got := sourceOf(a).String(); got != want {
			t.Errorf("%s: %s, want %s", addr, got, want)
		}
	}
}
