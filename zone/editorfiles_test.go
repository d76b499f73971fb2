package zone

import "testing"

func TestIsEditorFile(t *testing.T) {
	for _, tc := range []struct {
		name string
		want bool
	}{
		{"example.com.yaml", false},
		{"zones/example.com.yaml", false},
		{"/etc/mxdns/zones/example.com.yaml", false},
		{"4913.yaml", false},
		{"a4913", false},
		{"swp.yaml", false},
		{"tmp", false},
		{"example.com.yaml.bak", false},
		{"4913", true},
		{"/etc/mxdns/zones/4913", true},
		{".example.com.yaml.swp", true},
		{".example.com.yaml.swx", true},
		{".hidden.yaml", true},
		{".#example.com.yaml", true},
		{"#example.com.yaml#", true},
		{"example.com.yaml~", true},
		{"zones/example.com.yaml~", true},
		{"example.com.yaml.swp", true},
		{"example.com.yaml.swx", true},
		{"example.com.yaml.tmp", true},
		{"/etc/mxdns/zones/.example.com.yaml.swp", true},
	} {
		if got := isEditorFile(tc.name); got != tc.want {
			t.Errorf("isEditorFile(%q) = %v, want %v", tc.name, got, tc.want)
		}
	}
}
