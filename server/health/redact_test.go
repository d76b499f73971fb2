package health

import "testing"

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://health.example/ok":                           "https://health.example/ok",
		"https://user:hunter2@health.example/ok":              "https://user:xxxxx@health.example/ok",
		"https://abcdef0123@health.example/ok":                "https://xxxxx@health.example/ok",
		"https://h.example/ok?token=s3cr3t&x=1":               "https://h.example/ok?token=xxxxx&x=1",
		"https://h.example/ok?api_key=1&Password=2&secret=3":  "https://h.example/ok?api_key=xxxxx&Password=xxxxx&secret=xxxxx",
		"https://h.example/ok?access_token=a&sig=b&plain=yes": "https://h.example/ok?access_token=xxxxx&sig=xxxxx&plain=yes",
	} {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}
