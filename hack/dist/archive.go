package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"sort"
	"time"
)

// entry is one file placed at the root of a release archive.
type entry struct {
	// Name is the path inside the archive.
	Name string
	// Data is the file content.
	Data []byte
	// Mode holds the permission bits; owners are always root.
	Mode os.FileMode
}

// dosEpoch is the earliest time a zip header can hold; archives never carry an
// earlier modification time so that tar and zip agree.
func dosEpoch() time.Time { return time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC) }

// archiveTime clamps t into what both archive formats can represent, in UTC
// and whole seconds, so that the bytes do not depend on the local time zone.
func archiveTime(t time.Time) time.Time {
	t = t.UTC().Truncate(time.Second)
	if t.Before(dosEpoch()) {
		return dosEpoch()
	}
	return t
}

// sortedEntries returns the entries in name order, the one order both writers
// use, so that the archive does not depend on how the caller listed them.
func sortedEntries(entries []entry) []entry {
	out := append([]entry(nil), entries...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// writeTarGz writes a gzip-compressed tar holding only regular files (krew's
// extractor accepts nothing else) with fixed owners and times. gzip's header
// carries no name and no time, so equal input gives equal bytes.
func writeTarGz(w io.Writer, entries []entry, mtime time.Time) error {
	gz, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	if err := writeTar(gz, entries, mtime); err != nil {
		return err
	}
	return gz.Close()
}

// writeTar writes an uncompressed tar of regular files owned by root, sorted, with fixed times.
func writeTar(w io.Writer, entries []entry, mtime time.Time) error {
	tw := tar.NewWriter(w)
	for _, e := range sortedEntries(entries) {
		hdr := &tar.Header{
			Typeflag: tar.TypeReg,
			Name:     e.Name,
			Size:     int64(len(e.Data)),
			Mode:     int64(e.Mode.Perm()),
			ModTime:  archiveTime(mtime),
			Uid:      0,
			Gid:      0,
			Uname:    "root",
			Gname:    "root",
			Format:   tar.FormatUSTAR,
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("tar header for %s: %w", e.Name, err)
		}
		if _, err := tw.Write(e.Data); err != nil {
			return fmt.Errorf("tar data for %s: %w", e.Name, err)
		}
	}
	return tw.Close()
}

// writeZip writes a deflated zip with Unix permissions and fixed times.
func writeZip(w io.Writer, entries []entry, mtime time.Time) error {
	zw := zip.NewWriter(w)
	zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(out, flate.BestCompression)
	})
	for _, e := range sortedEntries(entries) {
		hdr := &zip.FileHeader{
			Name:     e.Name,
			Method:   zip.Deflate,
			Modified: archiveTime(mtime),
		}
		hdr.SetMode(e.Mode.Perm())
		f, err := zw.CreateHeader(hdr)
		if err != nil {
			return fmt.Errorf("zip header for %s: %w", e.Name, err)
		}
		if _, err := io.Copy(f, bytes.NewReader(e.Data)); err != nil {
			return fmt.Errorf("zip data for %s: %w", e.Name, err)
		}
	}
	return zw.Close()
}
