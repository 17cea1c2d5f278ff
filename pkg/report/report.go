// Package report renders a drainwatch snapshot as one self-contained HTML file: summary, ready
// endpoints per Service, a Gantt chart with one row per pod, and every mark and finding in
// detail. The file loads nothing from the network, works without script, prints, and follows
// the reader's dark-mode preference.
package report

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"io"
	"time"

	"github.com/drainwatch/kubectl-drainwatch/pkg/timeline"
)

//go:embed report.css report.js
var assets embed.FS

// Meta describes where and how the data in a report was collected.
type Meta struct {
	// Context is the kubeconfig context.
	Context string
	// Cluster is the cluster name from the kubeconfig (or its server URL).
	Cluster string
	// ServerVersion is the API server's version, e.g. v1.37.2.
	ServerVersion string
	// Target is what was watched as the user wrote it (deploy/web, node/worker-1); empty means
	// every pod in the namespace scope.
	Target string
	// Namespace is the namespace watched; empty means all namespaces.
	Namespace string
	// Selector is the label selector, if any.
	Selector string
	// Recording names the recording a replayed report was made from; empty for a live watch.
	Recording string
	// Version is the drainwatch version that wrote the report.
	Version string
	// Generated is when the report was written. It is only displayed.
	Generated time.Time
	// DrainBudget is the time given to load balancers to stop sending traffic after an endpoint
	// turns not ready; zero means timeline.DefaultDrainBudget.
	DrainBudget time.Duration
	// Location is the time zone for absolute times; nil means UTC.
	Location *time.Location
}

// Write renders snap as a self-contained HTML report to w. It does not modify snap. All text
// from the cluster is escaped, and a Content-Security-Policy lets only the report's own style
// and script run. Reports of more than 300 pods leave out what only repeats the pod details
// (tooltips, per-pod table headers, fixes under each finding), so they need about 1.4 KB per
// pod.
func Write(w io.Writer, meta Meta, snap timeline.Snapshot) error {
	r, err := newRenderer()
	if err != nil {
		return err
	}
	return r.write(w, meta, snap)
}

// renderer holds the inline assets with their CSP hashes. Hashing takes microseconds, so
// Write builds one per call rather than keeping package-level state.
type renderer struct {
	css, js   string
	cspPolicy string
}

func newRenderer() (*renderer, error) {
	css, err := assets.ReadFile("report.css")
	if err != nil {
		return nil, fmt.Errorf("reading embedded stylesheet: %w", err)
	}
	js, err := assets.ReadFile("report.js")
	if err != nil {
		return nil, fmt.Errorf("reading embedded script: %w", err)
	}
	// The policy allows exactly the inline style and script below: even if cluster text were
	// ever rendered unescaped, the browser would refuse to run it.
	policy := fmt.Sprintf("default-src 'none'; style-src '%s'; script-src '%s'; img-src data:; base-uri 'none'; form-action 'none'",
		cspHash(css), cspHash(js))
	return &renderer{css: string(css), js: string(js), cspPolicy: policy}, nil
}

func cspHash(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

func (r *renderer) write(w io.Writer, meta Meta, snap timeline.Snapshot) error {
	p := buildPage(meta, snap)
	// Render to memory first so an error never leaves half a file behind.
	var buf bytes.Buffer
	buf.Grow(4096 + 1500*len(snap.Pods))
	if err := r.document(p).Render(&buf); err != nil {
		return fmt.Errorf("rendering report: %w", err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("writing report: %w", err)
	}
	return nil
}
