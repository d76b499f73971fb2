package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/mxdns/mxdns/internal/harness"
)

// scenario is one kind of bad change, made under load. run returns the
// problems it saw beyond the checker's counts; skip, when set, says why
// the scenario cannot run here.
type scenario struct {
	name string
	run  func(d *driver) []string
	skip func(d *driver) string
}

var scenarios = []scenario{
	{name: "empty save", run: func(d *driver) []string {
		d.writeInPlace(targetFile, "")
		d.hold()
		return nil
	}},
	{name: "truncate, pause 15 ms, write (x200)", run: func(d *driver) []string {
		for range 200 {
			d.gen++
			f, err := os.OpenFile(d.path(targetFile), os.O_WRONLY|os.O_TRUNC, 0)
			if err != nil {
				return []string{err.Error()}
			}
			time.Sleep(15 * time.Millisecond) // the editor's pause between truncate and write
			_, err = f.WriteString(targetText(d.gen))
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return []string{err.Error()}
			}
			time.Sleep(10 * time.Millisecond) // between saves
		}
		return nil
	}},
	{name: "200 rename saves, 50 broken", run: func(d *driver) []string {
		broken := map[int]bool{}
		for _, i := range rand.New(rand.NewPCG(13, 13)).Perm(199)[:50] { // never the last save
			broken[i] = true
		}
		for i := range 200 {
			d.gen++
			if broken[i] {
				d.save(targetFile, brokenTarget(i, d.gen))
			} else {
				d.save(targetFile, targetText(d.gen))
			}
			time.Sleep(20 * time.Millisecond) // between saves
		}
		return nil
	}},
	{name: "broken save, kill -9, restart", run: func(d *driver) []string {
		before, _ := d.srv.Status()
		d.save(targetFile, brokenTarget(0, d.gen+1))
		d.waitProcessed(before, "t.yaml")
		d.chk.setDown(true)
		start := time.Now()
		d.srv.Kill()
		err := d.srv.Restart()
		d.chk.setDown(false)
		if err != nil {
			return []string{"restart with a broken zones/t.yaml failed: " + firstLines(err.Error(), 3)}
		}
		d.downFor = time.Since(start)
		d.hold()
		return nil
	}},
	{name: "chmod 000 on zones/", skip: func(d *driver) string { return d.noChmod }, run: func(d *driver) []string {
		if err := os.Chmod(d.path("zones"), 0); err != nil {
			return []string{err.Error()}
		}
		_ = d.srv.Signal(syscall.SIGHUP) // a reload even if chmod made no event
		d.hold()
		return nil
	}},
	{name: "/dev/zero link as a zone file", run: func(d *driver) []string {
		return d.saveServedBeside("a /dev/zero link", "zones/zero.yaml", func(p string) error { return os.Symlink("/dev/zero", p) })
	}},
	{name: "FIFO as a zone file", run: func(d *driver) []string {
		return d.saveServedBeside("a FIFO", "zones/fifo.yaml", func(p string) error { return syscall.Mkfifo(p, 0o644) })
	}},
	{name: "alias bomb", run: func(d *driver) []string {
		return d.saveServedBeside("an alias bomb", "zones/bomb.yaml", func(p string) error {
			return os.WriteFile(p, []byte(harness.AliasBomb("chaos")), 0o644)
		})
	}},
}

// extraFiles are the files scenarios add; restore removes them.
var extraFiles = []string{"zones/zero.yaml", "zones/fifo.yaml", "zones/bomb.yaml"}

// saveServedBeside makes the bad file rel with create, waits until the
// server has acted on it, and checks that a good save of the target file
// is still served beside it and /status still answers.
func (d *driver) saveServedBeside(what, rel string, create func(path string) error) []string {
	before, _ := d.srv.Status()
	if err := create(d.path(rel)); err != nil {
		return []string{err.Error()}
	}
	var problems []string
	if !d.waitProcessed(before, filepath.Base(rel)) {
		problems = append(problems, fmt.Sprintf("%s in zones/ was neither reloaded nor reported in error within 5s", what))
	}
	d.gen++
	d.save(targetFile, targetText(d.gen))
	if !d.waitGen(10 * time.Second) {
		problems = append(problems, fmt.Sprintf("a good save of %s made beside %s was not served within 10s", targetFile, what))
	}
	if _, err := d.srv.Status(); err != nil {
		problems = append(problems, fmt.Sprintf("with %s present: %v", what, err))
	}
	d.hold()
	return problems
}

// restore puts the good files back, starting the server again if it
// died, and waits until the target file's new generation is served.
func (d *driver) restore() (problems []string, fatal error) {
	_ = os.Chmod(d.path("zones"), 0o755)
	for _, f := range extraFiles {
		harness.UnblockFIFO(d.path(f))
		_ = os.Remove(d.path(f))
	}
	d.gen++
	d.save(targetFile, targetText(d.gen))
	// A server still growing or blocked may die while it is waited for:
	// it gets a second chance, started again.
	for try := 0; try < 2; try++ {
		if !d.srv.Running() {
			why := fmt.Sprint(d.srv.ExitErr())
			if d.srv.MemKills() > d.memKillsSeen {
				d.memKillsSeen = d.srv.MemKills()
				why = "killed by this driver at RSS over " + mib(memKill)
			}
			problems = append(problems, "the server died ("+why+"); started again")
			if err := d.srv.Restart(); err != nil {
				return problems, fmt.Errorf("restart with the good files: %w", err)
			}
		}
		if d.waitGen(20 * time.Second) {
			return problems, nil
		}
		problems = append(problems, "the restored good files were not served within 20s")
		if d.srv.Running() {
			return problems, fmt.Errorf("the server does not serve the restored good files")
		}
	}
	return problems, nil
}

func (d *driver) path(rel string) string { return filepath.Join(d.dir, rel) }
