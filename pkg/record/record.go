// Package record writes and reads recordings: a header line, then one stamped delta per line
// (NDJSON). Live watching, --record and --replay all pass the same deltas.
package record

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/drainwatch/kubectl-drainwatch/pkg/timeline"
)

// FormatVersion is the version of the recording format this package writes and reads.
const FormatVersion = 1

// Header is the first line of a recording.
type Header struct {
	APIVersion    string    `json:"apiVersion"`
	Kind          string    `json:"kind"`
	FormatVersion int       `json:"formatVersion"`
	Start         time.Time `json:"start"`
	ServerVersion string    `json:"serverVersion,omitempty"`
	Context       string    `json:"context,omitempty"`
	Namespace     string    `json:"namespace,omitempty"`
	Target        string    `json:"target,omitempty"`
	// Partial names resources that could not be watched while recording.
	Partial []string `json:"partial,omitempty"`
	// TrafficPaths is what routed to each Service (namespace/name) when recording began, and
	// TrafficPathGaps what could not be looked at.
	TrafficPaths    map[string][]timeline.PathEntry `json:"trafficPaths,omitempty"`
	TrafficPathGaps []string                        `json:"trafficPathGaps,omitempty"`
}

// Writer writes a recording.
type Writer struct {
	w *bufio.Writer
}

// NewWriter writes the header and returns a Writer for the deltas.
func NewWriter(w io.Writer, h Header) (*Writer, error) {
	h.APIVersion, h.Kind, h.FormatVersion = timeline.APIVersion, "Recording", FormatVersion
	rw := &Writer{w: bufio.NewWriter(w)}
	if err := rw.line(h); err != nil {
		return nil, err
	}
	return rw, rw.w.Flush()
}

func (w *Writer) line(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	_, err = w.w.Write(b)
	return err
}

// Write appends one delta.
func (w *Writer) Write(d timeline.Delta) error { return w.line(d) }

// Flush writes buffered deltas out.
func (w *Writer) Flush() error { return w.w.Flush() }

// CorruptError says which line of a recording could not be read.
type CorruptError struct {
	Line int
	Err  error
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("recording line %d: %v", e.Line, e.Err)
}

func (e *CorruptError) Unwrap() error { return e.Err }

// MaxLineBytes bounds one line of a recording: a longer line (or a file with no newline, such as
// /dev/zero) is a CorruptError, so reading never holds more than this in memory.
const MaxLineBytes = 16 << 20

// Reader reads a recording.
type Reader struct {
	r    *bufio.Reader
	line int
	// Truncated is set when the last line was cut off (a recording interrupted mid-write);
	// it was skipped and Next returned io.EOF.
	Truncated bool
}

// NewReader reads and checks the header.
func NewReader(r io.Reader) (*Reader, Header, error) {
	rd := &Reader{r: bufio.NewReaderSize(r, 1<<16)}
	var h Header
	b, _, err := rd.next()
	if err == io.EOF {
		return nil, h, &CorruptError{Line: 1, Err: errors.New("empty file: not a drainwatch recording")}
	}
	if err != nil {
		return nil, h, err
	}
	if err := json.Unmarshal(b, &h); err != nil || h.Kind != "Recording" || h.APIVersion != timeline.APIVersion {
		return nil, h, &CorruptError{Line: 1, Err: errors.New("not a drainwatch recording (the first line must be its header)")}
	}
	if h.FormatVersion != FormatVersion {
		return nil, h, &CorruptError{Line: 1, Err: fmt.Errorf("format version %d is not supported (this build reads %d)", h.FormatVersion, FormatVersion)}
	}
	return rd, h, nil
}

// next returns the next non-empty line and whether it ended with a newline.
func (r *Reader) next() ([]byte, bool, error) {
	for {
		b, err := r.readLine()
		if len(b) == 0 && err != nil {
			return nil, false, err
		}
		if err != nil && err != io.EOF {
			return nil, false, err
		}
		r.line++
		complete := err == nil
		b = bytes.TrimSpace(b)
		if len(b) > 0 {
			return b, complete, nil
		}
		if !complete {
			return nil, false, io.EOF
		}
	}
}

// readLine is bufio's ReadBytes('\n') with MaxLineBytes as the limit.
func (r *Reader) readLine() ([]byte, error) {
	var line []byte
	for {
		chunk, err := r.r.ReadSlice('\n')
		if len(line)+len(chunk) > MaxLineBytes {
			return nil, &CorruptError{Line: r.line + 1, Err: fmt.Errorf("line longer than %d MiB: not a drainwatch recording", MaxLineBytes>>20)}
		}
		line = append(line, chunk...)
		if err != bufio.ErrBufferFull {
			return line, err
		}
	}
}

// Next returns the next delta, io.EOF at the end, or a *CorruptError naming the line.
func (r *Reader) Next() (timeline.Delta, error) {
	var d timeline.Delta
	b, complete, err := r.next()
	if err != nil {
		return d, err
	}
	if err := json.Unmarshal(b, &d); err != nil {
		if !complete {
			if _, err := r.r.Peek(1); err == io.EOF {
				r.Truncated = true
				return d, io.EOF
			}
		}
		return d, &CorruptError{Line: r.line, Err: err}
	}
	return d, nil
}

// Line is the number of the line read last.
func (r *Reader) Line() int { return r.line }

// ReadFile reads a whole recording: its header and every delta. A truncated last line is
// skipped, as Next does.
func ReadFile(path string) (Header, []timeline.Delta, error) {
	f, err := os.Open(path)
	if err != nil {
		return Header{}, nil, err
	}
	defer f.Close()
	rd, h, err := NewReader(f)
	if err != nil {
		return h, nil, err
	}
	var deltas []timeline.Delta
	for {
		d, err := rd.Next()
		if err == io.EOF {
			return h, deltas, nil
		}
		if err != nil {
			return h, deltas, err
		}
		deltas = append(deltas, d)
	}
}
