package xfr

import (
	"fmt"
	"sync"
)

// MemStore keeps journal files in memory: for a server without a state
// directory, whose journals then last as long as the process.
type MemStore struct {
	mu      sync.Mutex
	files   map[string][]byte
	pending map[string][]byte // replacements, made at SyncJournals
}

// NewMemStore returns an empty MemStore.
func NewMemStore() *MemStore {
	return &MemStore{files: make(map[string][]byte), pending: make(map[string][]byte)}
}

func (m *MemStore) ReadJournal(origin string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.files[origin], nil
}

func (m *MemStore) ReadJournalAt(origin string, off int64, n int) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f := m.files[origin]
	if off < 0 || off+int64(n) > int64(len(f)) {
		return nil, fmt.Errorf("journal of %s: %d octets at %d past its end, %d", origin, n, off, len(f))
	}
	return f[off : off+int64(n) : off+int64(n)], nil
}

// AppendJournal never writes where a reader may read: a file is copied
// when it is cut.
func (m *MemStore) AppendJournal(origin string, at int64, data []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	f := m.files[origin]
	if at > int64(len(f)) {
		return fmt.Errorf("journal of %s: append at %d past its end, %d", origin, at, len(f))
	}
	if at < int64(len(f)) {
		f = append([]byte(nil), f[:at]...)
	}
	m.files[origin] = append(f, data...)
	return nil
}

func (m *MemStore) ReplaceJournal(origin string, data []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pending[origin] = data
	return nil
}

func (m *MemStore) SyncJournals() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for origin, data := range m.pending {
		m.files[origin] = data
	}
	clear(m.pending)
	return nil
}
