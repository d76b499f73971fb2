package harness

import (
	"fmt"
	"os"
	"strings"
	"syscall"
)

// AliasBomb is a 20 KB zone file that YAML aliases expand to 30 million TXT
// records: a 1,000-string list used by 300 names, whose records are shared
// by 100 zones named bomb0.TLD to bomb99.TLD. Its NS is ns1.a.TLD.
func AliasBomb(tld string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "zones:\n  bomb0.%s:\n    ns: [ns1.a.%s.]\n    records: &R\n      n0: {txt: &L [", tld, tld)
	for i := range 1000 {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "s%d", i)
	}
	b.WriteString("]}\n")
	for i := 1; i < 300; i++ {
		fmt.Fprintf(&b, "      n%d: {txt: *L}\n", i)
	}
	for i := 1; i < 100; i++ {
		fmt.Fprintf(&b, "  bomb%d.%s: {ns: [ns1.a.%s.], records: *R}\n", i, tld, tld)
	}
	return b.String()
}

// UnblockFIFO opens a FIFO for writing and closes it, so that a server
// blocked opening it for reading gets end of file and can go on.
func UnblockFIFO(path string) {
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		return
	}
	if fd, err := syscall.Open(path, syscall.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
		syscall.Close(fd)
	}
}
