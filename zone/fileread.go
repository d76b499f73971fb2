package zone

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// errNotRegular is a path that names something other than a regular file:
// a FIFO would block the read forever, a device never end.
var errNotRegular = errors.New("not a regular file")

// readBounded reads a regular file (a symbolic link to one is fine) of at
// most max bytes. The file is opened without blocking and checked on the
// open descriptor, so a FIFO swapped in after a stat cannot hang the read.
func readBounded(path string, max int64) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%w (%s)", errNotRegular, fileKind(fi.Mode()))
	}
	if fi.Size() > max {
		return nil, fmt.Errorf("file is %s, more than max_file_size (%s)", sizeText(fi.Size()), sizeText(max))
	}
	buf := bytes.NewBuffer(make([]byte, 0, fi.Size()+bytes.MinRead)) // room to see EOF without growing
	if _, err := buf.ReadFrom(io.LimitReader(f, max+1)); err != nil {
		return nil, err
	}
	text := buf.Bytes()
	if int64(len(text)) > max {
		return nil, fmt.Errorf("file grew past max_file_size (%s) while read", sizeText(max))
	}
	after, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if int64(len(text)) != after.Size() || after.Size() != fi.Size() || !after.ModTime().Equal(fi.ModTime()) {
		return nil, errChanging
	}
	return text, nil
}

// errChanging is a file written while it was read: what was read may be
// half of a save written in place.
var errChanging = errors.New("file changed while it was read")

func fileKind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	}
	return "mode " + m.String()
}

func sizeText(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// gone reports whether err says the file is really not there, the one
// read error that removes a file's zones. Anything else (permissions, an
// I/O error, a file that is not regular) keeps what it served.
func gone(err error) bool {
	return errors.Is(err, fs.ErrNotExist)
}
