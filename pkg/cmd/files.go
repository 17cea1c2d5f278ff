package cmd

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// namedFile is a file a flag names.
type namedFile struct {
	flag, path string
	// written says drainwatch writes it (--record, --report, --log-file).
	written bool
}

// checkFiles refuses, before anything is read or written, any two flags naming the same file
// (by inode where it exists, else by cleaned absolute path), an existing --record without
// --overwrite, and a --report or --record whose directory cannot be written.
func (o *Options) checkFiles() error {
	var files []namedFile
	add := func(flag, path string, written bool) {
		if path != "" && path != "-" {
			files = append(files, namedFile{flag, path, written})
		}
	}
	add("--replay", o.Replay, false)
	add("--record", o.Record, true)
	add("--report", o.Report, true)
	add("--log-file", o.LogFile, true)
	if o.Replay == "" {
		for _, kc := range o.ConfigFlags.ToRawKubeConfigLoader().ConfigAccess().GetLoadingPrecedence() {
			add("the kubeconfig", kc, false)
		}
	}
	for i, a := range files {
		for _, b := range files[i+1:] {
			if (a.written || b.written) && sameFile(a.path, b.path) {
				return usageErr("%s and %s name the same file (%s): drainwatch would overwrite it; give each its own file", a.flag, b.flag, a.path)
			}
		}
	}
	for _, f := range files {
		if !f.written {
			continue
		}
		if f.flag == "--record" && !o.Overwrite {
			if _, err := os.Stat(f.path); err == nil {
				return usageErr("--record %s exists: pass --overwrite to replace it, or name a new file", f.path)
			}
		}
		if err := writableDir(f.path); err != nil {
			return usageErr("%s %s: %v", f.flag, f.path, err)
		}
	}
	return nil
}

// sameFile says whether two paths name one file: the same inode when both exist, the same
// cleaned absolute path (symlinks resolved as far as they exist) otherwise.
func sameFile(a, b string) bool {
	if sa, err := os.Stat(a); err == nil {
		if sb, err := os.Stat(b); err == nil {
			return os.SameFile(sa, sb)
		}
	}
	return resolved(a) == resolved(b)
}

func resolved(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		return filepath.Clean(p)
	}
	dir, base := filepath.Split(abs)
	if d, err := filepath.EvalSymlinks(dir); err == nil {
		return filepath.Join(d, base)
	}
	return abs
}

// writableDir checks, by creating and removing a temporary file, that the file's directory
// exists and can be written: a report is found unwritable at the start, not after the watch.
func writableDir(path string) error {
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("directory %s does not exist: create it first", dir)
	}
	if !st.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return fmt.Errorf("is a directory: name a file")
	}
	f, err := os.CreateTemp(dir, ".drainwatch-*")
	if err != nil {
		return fmt.Errorf("cannot write in %s: %s", dir, strings.TrimPrefix(oneLine(err), "open "+dir+"/"))
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}
