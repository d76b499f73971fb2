//go:build !linux

package harness

import "syscall"

// ChildAttr: elsewhere a child outlives a parent killed by a timeout;
// the harness's own Stop still ends it.
func ChildAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{} }

// limitAddressSpace: no prlimit outside Linux; the RSS watch remains.
func limitAddressSpace(int, uint64) {}
