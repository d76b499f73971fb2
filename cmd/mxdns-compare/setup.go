package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/mxdns/mxdns/server"
	"github.com/mxdns/mxdns/zone"
)

// compareConfig runs the whole comparison for one mxdns config.
func compareConfig(ctx context.Context, config string, refs []string, opt options) (tally, error) {
	dir, err := os.MkdirTemp("", "mxdns-compare-")
	if err != nil {
		return tally{}, err
	}
	if opt.keep {
		fmt.Fprintf(opt.out, "%s: scratch directory %s\n", config, dir)
	} else {
		defer os.RemoveAll(dir)
	}

	local := filepath.Join(dir, "mxdns.yaml")
	if err := rewriteConfig(config, local); err != nil {
		return tally{}, err
	}
	srv, err := server.New(server.Options{ConfigPath: local})
	if err != nil {
		return tally{}, fmt.Errorf("start mxdns: %w", err)
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	mx := srv.Addrs()[0].UDP.String()

	// Export what mxdns serves, so that "serial: auto" is the same value.
	snap := srv.Snapshot()
	zones, err := exportZones(snap, filepath.Join(dir, "zones"))
	if err != nil {
		return tally{}, err
	}
	if len(zones) == 0 {
		return tally{}, errors.New("no zones to compare")
	}

	var servers []*refServer
	defer func() {
		for _, r := range servers {
			r.stop()
		}
	}()
	for _, kind := range refs {
		r, err := startRef(ctx, strings.TrimSpace(kind), dir, zones)
		if err != nil {
			return tally{}, err
		}
		servers = append(servers, r)
	}

	var origins []string
	for _, zi := range snap.Zones() {
		origins = append(origins, zi.Origin)
	}
	queries := generateQueries(snap)
	var t tally
	for _, q := range queries {
		if ctx.Err() != nil {
			return t, ctx.Err()
		}
		t.add(compareQuery(config, q, mx, origins, servers, opt))
	}
	return t, nil
}

// exportZones writes every zone of snap as an RFC 1035 file under dir.
func exportZones(snap *zone.Snapshot, dir string) ([]zoneFile, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var out []zoneFile
	for _, zi := range snap.Zones() {
		name := strings.TrimSuffix(zi.Origin, ".")
		if name == "" {
			name = "root"
		}
		zf := zoneFile{origin: zi.Origin, file: name + ".zone"}
		f, err := os.Create(filepath.Join(dir, zf.file))
		if err != nil {
			return nil, err
		}
		err = snap.Export(f, zi.Origin)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, fmt.Errorf("export %s: %w", zi.Origin, err)
		}
		out = append(out, zf)
	}
	return out, nil
}

// rewriteConfig copies the config at src to dst with mxdns listening on a
// kernel-chosen loopback port and zone_files globs made absolute, so that
// it serves the same zones from the scratch directory. Link-mapped answers
// depend on health checks that a reference server cannot share, so
// configurations with links are refused.
func rewriteConfig(src, dst string) error {
	text, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(text, &doc); err != nil {
		return fmt.Errorf("read config: %w", err)
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return errors.New("config is not a mapping")
	}
	root := doc.Content[0]
	base, err := filepath.Abs(filepath.Dir(src))
	if err != nil {
		return err
	}
	kept := root.Content[:0]
	listen := false
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		switch k.Value {
		case "links":
			return errors.New("links: answers that follow link health cannot be compared with a reference server")
		case "admin":
			continue
		case "listen":
			listen = true
			v = &yaml.Node{Kind: yaml.SequenceNode, Content: []*yaml.Node{{Kind: yaml.ScalarNode, Value: "127.0.0.1:0"}}}
		case "zone_files":
			globs := []*yaml.Node{v}
			if v.Kind == yaml.SequenceNode {
				globs = v.Content
			}
			for _, g := range globs {
				if !filepath.IsAbs(g.Value) {
					g.Value = filepath.Join(base, g.Value)
				}
			}
		}
		kept = append(kept, k, v)
	}
	if !listen {
		kept = append(kept, &yaml.Node{Kind: yaml.ScalarNode, Value: "listen"},
			&yaml.Node{Kind: yaml.SequenceNode, Content: []*yaml.Node{{Kind: yaml.ScalarNode, Value: "127.0.0.1:0"}}})
	}
	root.Content = kept
	out, err := yaml.Marshal(&doc)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, out, 0o644)
}
