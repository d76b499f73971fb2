package harness

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// ChildAttr makes a child process die with its parent, even a test
// process killed by a timeout.
func ChildAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// limitAddressSpace is best effort: the limit is only a backstop.
func limitAddressSpace(pid int, bytes uint64) {
	lim := unix.Rlimit{Cur: bytes, Max: bytes}
	_ = unix.Prlimit(pid, unix.RLIMIT_AS, &lim, nil)
}
