package zone

import (
	"os"
	"path/filepath"

	"gopkg.in/yaml.v3"
)

// ConfigStateDir reads the state_dir key of the configuration at path,
// leniently: the server needs it before it can load the configuration, to
// find the last good copy of a configuration that does not load. A
// relative state_dir is taken from the configuration's directory. It is ""
// when the file cannot be read or sets none.
func ConfigStateDir(path string) string {
	text, err := readBounded(path, DefaultMaxFileSize)
	if err != nil {
		return ""
	}
	var top struct {
		StateDir string `yaml:"state_dir"`
	}
	if yaml.Unmarshal(text, &top) != nil || top.StateDir == "" {
		return ""
	}
	if filepath.IsAbs(top.StateDir) {
		return filepath.Clean(top.StateDir)
	}
	return filepath.Join(filepath.Dir(AbsPath(path)), top.StateDir)
}

// DefaultStateDir is where state lives when neither the flag nor the
// configuration says: systemd's StateDirectory, else the XDG state home,
// else ~/.local/state/mxdns.
func DefaultStateDir() string {
	if d := os.Getenv("STATE_DIRECTORY"); d != "" {
		// systemd sets a colon-separated list when a unit names several.
		for i := range len(d) {
			if d[i] == ':' {
				return d[:i]
			}
		}
		return d
	}
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "mxdns")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "state", "mxdns")
	}
	return ""
}
