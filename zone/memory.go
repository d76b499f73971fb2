package zone

// Memory is what a loader may know beyond what it is serving: the last
// good copy of each file and the last serial of each zone, as kept across
// restarts (the server keeps them in its state directory). With it, a
// file that is broken or unreadable at start is served as it last was,
// and "serial: auto" never goes back below a serial once served.
type Memory interface {
	// LastGood returns the last copy of file (an absolute path) that
	// was served.
	LastGood(file string) (FileCopy, bool)
	// KnownFiles lists the zone files with a last good copy: those a
	// zone directory held when it cannot be listed at start.
	KnownFiles() []string
	// LastSerial returns the serial a zone was last served with, and
	// the content it had then.
	LastSerial(origin string) (SerialRecord, bool)
}

// FileCopy is a file's text as it was read.
type FileCopy struct {
	File  string // absolute
	Text  []byte
	Mtime int64 // unix seconds
	// Cert says the file is one a zone file's TLSA records are made from
	// (tlsa: {cert: ...}), not a zone file; Text then holds what of it
	// is used, its certificates or public key, and never a private key.
	Cert bool
}

// SerialRecord is a zone's serial and a digest of the content it named.
type SerialRecord struct {
	Serial uint32
	Hash   [32]byte
}
