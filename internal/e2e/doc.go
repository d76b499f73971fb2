// Package e2e holds tests that run the real mxdns binary the way users
// do, for the failures of issue #13 (change safety) that only show in a
// process, its files or a restart. It has no code of its own.
package e2e
