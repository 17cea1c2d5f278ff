package record

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/drainwatch/kubectl-drainwatch/pkg/timeline"
)

func sample(t testing.TB) []byte {
	var buf bytes.Buffer
	t0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	w, err := NewWriter(&buf, Header{Start: t0, Target: "deploy/web", Partial: []string{"events"}})
	if err != nil {
		t.Fatal(err)
	}
	for i, typ := range []timeline.DeltaType{timeline.Added, timeline.Modified, timeline.Deleted} {
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web-1", Namespace: "shop", UID: "u1"}}
		if err := w.Write(timeline.Delta{Time: t0.Add(time.Duration(i) * time.Second), Type: typ, Pod: pod}); err != nil {
			t.Fatal(err)
		}
	}
	ev := &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "web-1.1"}, Reason: "Killing"}
	if err := w.Write(timeline.Delta{Time: t0, Type: timeline.Added, Event: ev}); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func readAll(r io.Reader) (Header, []timeline.Delta, *Reader, error) {
	rd, h, err := NewReader(r)
	if err != nil {
		return h, nil, nil, err
	}
	var out []timeline.Delta
	for {
		d, err := rd.Next()
		if err == io.EOF {
			return h, out, rd, nil
		}
		if err != nil {
			return h, out, rd, err
		}
		out = append(out, d)
	}
}

func TestRoundTrip(t *testing.T) {
	h, deltas, rd, err := readAll(bytes.NewReader(sample(t)))
	if err != nil {
		t.Fatal(err)
	}
	if h.Target != "deploy/web" || h.FormatVersion != FormatVersion || len(h.Partial) != 1 {
		t.Errorf("header %+v", h)
	}
	if len(deltas) != 4 || deltas[2].Type != timeline.Deleted || deltas[2].Pod.Name != "web-1" || deltas[3].Event.Reason != "Killing" {
		t.Errorf("deltas %+v", deltas)
	}
	if rd.Truncated {
		t.Error("complete file reported as truncated")
	}
}

func TestCorruptLineIsNamed(t *testing.T) {
	lines := strings.SplitAfter(string(sample(t)), "\n")
	bad := lines[0] + lines[1] + "not json\n" + lines[2]
	_, _, _, err := readAll(strings.NewReader(bad))
	var ce *CorruptError
	if !errors.As(err, &ce) || ce.Line != 3 {
		t.Fatalf("err %v; want a CorruptError on line 3", err)
	}
}

func TestTruncatedLastLine(t *testing.T) {
	data := sample(t)
	cut := data[:len(data)-15]
	_, deltas, rd, err := readAll(bytes.NewReader(cut))
	if err != nil || !rd.Truncated || len(deltas) != 3 {
		t.Fatalf("err %v truncated %v deltas %d; want 3 deltas and a truncation warning", err, rd != nil && rd.Truncated, len(deltas))
	}
}

func TestFutureFormatRefused(t *testing.T) {
	_, _, _, err := readAll(strings.NewReader(`{"apiVersion":"drainwatch/v1","kind":"Recording","formatVersion":9}` + "\n"))
	if err == nil || !strings.Contains(err.Error(), "format version 9") {
		t.Fatalf("err %v", err)
	}
}

// FuzzReader: any input gives deltas, io.EOF or a CorruptError naming a line: never a panic.
func FuzzReader(f *testing.F) {
	f.Add(sample(f))
	f.Add([]byte(`{"apiVersion":"drainwatch/v1","kind":"Recording","formatVersion":1}` + "\n" + `{"t":"2026-01-01T00:00:00Z","type":"ADDED","kind":"Pod","object":null}`))
	f.Add([]byte("\n\n\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, deltas, _, err := readAll(bytes.NewReader(data))
		var ce *CorruptError
		if err != nil && !errors.As(err, &ce) {
			t.Fatalf("error %v is not a CorruptError", err)
		}
		if ce != nil && ce.Line < 1 {
			t.Fatalf("line %d", ce.Line)
		}
		for _, d := range deltas {
			if d.Kind() == "" || d.Time.IsZero() {
				t.Fatalf("incomplete delta accepted: %+v", d)
			}
		}
	})
}

// A file without newlines (/dev/zero) or with a huge line is refused at the limit, naming the
// line, instead of being read into memory.
func TestLineLimit(t *testing.T) {
	var b bytes.Buffer
	w, err := NewWriter(&b, Header{})
	if err != nil {
		t.Fatal(err)
	}
	_ = w.Flush()
	b.Write(bytes.Repeat([]byte{'x'}, MaxLineBytes+10))
	rd, _, err := NewReader(&b)
	if err != nil {
		t.Fatal(err)
	}
	_, err = rd.Next()
	var ce *CorruptError
	if !errors.As(err, &ce) || ce.Line != 2 || !strings.Contains(err.Error(), "longer than") {
		t.Fatalf("err %v; want a CorruptError on line 2 about the length", err)
	}
	_, _, err = NewReader(io.LimitReader(zeros{}, 2*MaxLineBytes))
	if !errors.As(err, &ce) || ce.Line != 1 {
		t.Fatalf("zeros: err %v; want a CorruptError on line 1", err)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }
