package harness

import (
	"fmt"
	"net"
)

// FreePort returns a port that was free on 127.0.0.1 for both UDP and TCP
// a moment ago. Another process may take it before the server binds it,
// so callers retry a start that fails to bind.
func FreePort() (int, error) {
	var last error
	for range 20 {
		u, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			last = err
			continue
		}
		port := u.LocalAddr().(*net.UDPAddr).Port
		t, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		u.Close()
		if err != nil {
			last = err
			continue
		}
		t.Close()
		return port, nil
	}
	return 0, fmt.Errorf("free port: %w", last)
}
