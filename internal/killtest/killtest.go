// Package killtest runs a command's work in a subprocess, kills it with
// SIGKILL at a random moment, and lets the caller check what it left on
// disk: the tests that the example commands write their files so that a
// crash leaves each complete and never mixes two runs. The subprocess is
// the test binary itself (os.Args[0]), which Helper turns into the command
// when an environment variable says so.
package killtest

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The environment variables that carry the variant and the output
// directory to the helper process.
const (
	envVariant = "CURVKIT_KILLTEST_VARIANT"
	envDir     = "CURVKIT_KILLTEST_DIR"
)

// Helper makes this test binary the command when Loop started it: it calls
// run with the output directory and the variant and exits, 0 on success
// and 1 with the error on stderr. Call it first thing in TestMain; in an
// ordinary test run it returns at once.
func Helper(run func(dir, variant string) error) {
	v, ok := os.LookupEnv(envVariant)
	if !ok {
		return
	}
	if err := run(os.Getenv(envDir), v); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(0)
}

// Loop describes a kill loop.
type Loop struct {
	// Dir is the output directory every run shares.
	Dir string
	// Variants are the arguments of the runs, each drawn at random; runs
	// of different variants must write different files, so that Check can
	// tell them apart.
	Variants []string
	// Runs is the number of runs.
	Runs int
	// Seed draws the variants and the delays.
	Seed uint64
	// Check reports what is wrong with the directory a run left.
	Check func(dir string) error
	// Outputs are the names (or filepath.Match patterns) of the files the
	// command writes: after a run that completed, no temporary file of
	// theirs may be left.
	Outputs []string
}

// Run puts a stale temporary file for every output in l.Dir, times a
// complete run of the first variant (which must remove them), then makes
// l.Runs runs
// (3 at most under the race detector), killing each after a delay drawn uniformly from [0.3, 1.2] times
// that duration (so most die late, while they write, and some complete),
// and calls l.Check after each. It returns the number of runs that
// completed before their kill.
func (l Loop) Run(t *testing.T) (completed int) {
	t.Helper()
	if testing.Short() {
		t.Skip("kill loop in -short mode")
	}
	// Temporary files as a killed run leaves them: the first complete run
	// must remove them.
	if err := os.MkdirAll(l.Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range l.Outputs {
		if strings.ContainsAny(name, "*?[\\") {
			continue // a pattern
		}
		if err := os.WriteFile(filepath.Join(l.Dir, "."+name+".tmp4242"), []byte("stale"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var full time.Duration
	for range 2 { // the second run, with the caches warm
		start := time.Now()
		if cmd := l.start(l.Variants[0]); cmd.Run() != nil {
			t.Fatalf("complete run of %q failed: %s", l.Variants[0], cmd.Stderr)
		}
		full = time.Since(start)
		if err := l.Check(l.Dir); err != nil {
			t.Fatalf("after a complete run: %v", err)
		}
		if temps := Temps(t, l.Dir, l.Outputs...); len(temps) > 0 {
			t.Fatalf("a complete run left temporary files %v", temps)
		}
	}
	runs := l.Runs
	if raceEnabled {
		runs = min(runs, 3) // the kill loop looks for torn files, not races
	}
	rng := rand.New(rand.NewPCG(l.Seed, 0x6b111))
	for i := range runs {
		v := l.Variants[rng.IntN(len(l.Variants))]
		delay := time.Duration((0.3 + 0.9*rng.Float64()) * float64(full))
		cmd := l.start(v)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		var err error
		select {
		case err = <-done:
			if err != nil {
				t.Fatalf("run %d (%q) failed: %v: %s", i, v, err, cmd.Stderr)
			}
			completed++
		case <-time.After(delay):
			cmd.Process.Kill()
			err = <-done
		}
		if err := l.Check(l.Dir); err != nil {
			t.Fatalf("run %d (%q) %s after %v: %v", i, v, outcome(err == nil), delay, err)
		}
		if err == nil {
			if temps := Temps(t, l.Dir, l.Outputs...); len(temps) > 0 {
				t.Fatalf("run %d (%q) completed and left temporary files %v", i, v, temps)
			}
		}
	}
	return completed
}

func outcome(completed bool) string {
	if completed {
		return "completed"
	}
	return "killed"
}

// start returns the helper process of a variant.
func (l Loop) start(variant string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envVariant+"="+variant, envDir+"="+l.Dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	return cmd
}

// Files returns the regular files in dir that are not temporary files of
// the atomic writers ("."+name+".tmp…"), by name, with their contents.
func Files(dir string) (map[string][]byte, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if os.IsNotExist(err) {
			return map[string][]byte{}, nil
		}
		return nil, err
	}
	files := map[string][]byte{}
	for _, e := range entries {
		if isTemp(e.Name()) {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		files[e.Name()] = b
	}
	return files, nil
}

// Temps returns the temporary files in dir of the given outputs.
func Temps(t *testing.T, dir string, outputs ...string) []string {
	t.Helper()
	var temps []string
	for _, name := range outputs {
		m, err := filepath.Glob(filepath.Join(dir, "."+name+".tmp*"))
		if err != nil {
			t.Fatal(err)
		}
		temps = append(temps, m...)
	}
	return temps
}

func isTemp(name string) bool {
	return strings.HasPrefix(name, ".") && strings.Contains(name, ".tmp")
}

// Match reports whether the files, all present ones, are files of one run
// of one variant: for some variant v, every file equals one of its
// allowed contents in want[v] (a file may have several, as a table a run
// rewrites as it goes), and each name is one want[v] knows. consistent,
// if not nil, then checks the combination (say, that a table is complete
// when a file written after it is present). It returns an error saying
// why no variant fits.
func Match(files map[string][]byte, want []map[string][][]byte, consistent func(v int, files map[string][]byte) error) error {
	var why []string
variants:
	for v, w := range want {
		for name, b := range files {
			allowed, ok := w[name]
			if !ok {
				why = append(why, fmt.Sprintf("variant %d writes no %s", v, name))
				continue variants
			}
			if !oneOf(b, allowed) {
				why = append(why, fmt.Sprintf("%s (%d bytes) is no state of variant %d's", name, len(b), v))
				continue variants
			}
		}
		if consistent != nil {
			if err := consistent(v, files); err != nil {
				why = append(why, fmt.Sprintf("variant %d: %v", v, err))
				continue
			}
		}
		return nil
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	return fmt.Errorf("files %v fit no single run: %s", names, strings.Join(why, "; "))
}

func oneOf(b []byte, allowed [][]byte) bool {
	for _, a := range allowed {
		if bytes.Equal(a, b) {
			return true
		}
	}
	return false
}

// References runs the command to completion for every variant, in this
// process, each into a directory of its own, and returns the files each
// wrote: what a kill loop compares with.
func References(t *testing.T, variants []string, run func(dir, variant string) error) []map[string][]byte {
	t.Helper()
	refs := make([]map[string][]byte, len(variants))
	for i, v := range variants {
		dir := t.TempDir()
		if err := run(dir, v); err != nil {
			t.Fatalf("variant %q: %v", v, err)
		}
		files, err := Files(dir)
		if err != nil {
			t.Fatal(err)
		}
		refs[i] = files
	}
	return refs
}

// Exact returns the contents Match allows when only complete files are:
// each file's reference bytes.
func Exact(ref map[string][]byte) map[string][][]byte {
	want := make(map[string][][]byte, len(ref))
	for name, b := range ref {
		want[name] = [][]byte{b}
	}
	return want
}

// CheckFiles returns a Loop.Check that reads the directory (Files) and
// matches it with want and consistent (Match).
func CheckFiles(want []map[string][][]byte, consistent func(v int, files map[string][]byte) error) func(dir string) error {
	return func(dir string) error {
		files, err := Files(dir)
		if err != nil {
			return err
		}
		return Match(files, want, consistent)
	}
}

// Snapshot returns every entry of dir, temporary files included, by name,
// with its contents as a string (comparisons of two snapshots print
// readably).
func Snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = string(b)
	}
	return files
}
