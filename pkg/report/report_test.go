package report_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/drainwatch/kubectl-drainwatch/pkg/record"

	"golang.org/x/net/html"

	"github.com/drainwatch/kubectl-drainwatch/pkg/report"
	"github.com/drainwatch/kubectl-drainwatch/pkg/report/reporttest"
	"github.com/drainwatch/kubectl-drainwatch/pkg/timeline"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func render(t testing.TB, meta report.Meta, snap timeline.Snapshot) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := report.Write(&b, meta, snap); err != nil {
		t.Fatalf("Write: %v", err)
	}
	return b.Bytes()
}

// liveDrain is the rollout fixture as a live display sees it: no summary yet, in another time
// zone, with every pod on one node.
func liveDrain() (report.Meta, timeline.Snapshot) {
	snap := reporttest.Rollout()
	snap.Summary = timeline.Summary{}
	for i := range snap.Pods {
		snap.Pods[i].Node = "worker-1"
	}
	meta := reporttest.Meta()
	meta.Target = "node/worker-1"
	meta.Namespace = ""
	meta.Recording = "drain.ndjson"
	meta.Location = time.FixedZone("CET", 3600)
	return meta, snap
}

func goldenCases() []struct {
	name string
	meta report.Meta
	snap timeline.Snapshot
} {
	liveMeta, liveSnap := liveDrain()
	emptyMeta := reporttest.Meta()
	emptyMeta.Target, emptyMeta.Namespace = "", ""
	return []struct {
		name string
		meta report.Meta
		snap timeline.Snapshot
	}{
		{"rollout", reporttest.Meta(), reporttest.Rollout()},
		{"live-drain", liveMeta, liveSnap},
		{"empty", emptyMeta, reporttest.Empty()},
		{"synthetic-12", reporttest.Meta(), reporttest.Synthetic(12, 7)},
	}
}

// Inline assets change for reasons of their own; the golden files show the document around
// them. TestContentSecurityPolicy checks that the policy matches the real assets.
var (
	styleRe  = regexp.MustCompile(`(?s)<style>.*?</style>`)
	scriptRe = regexp.MustCompile(`(?s)<script>.*?</script>`)
	hashRe   = regexp.MustCompile(`sha256-[A-Za-z0-9+/=]+`)
)

func normalize(b []byte) []byte {
	b = styleRe.ReplaceAll(b, []byte("<style>/* report.css */</style>"))
	b = scriptRe.ReplaceAll(b, []byte("<script>/* report.js */</script>"))
	return hashRe.ReplaceAll(b, []byte("sha256-…"))
}

func TestGolden(t *testing.T) {
	for _, tc := range goldenCases() {
		t.Run(tc.name, func(t *testing.T) {
			got := normalize(render(t, tc.meta, tc.snap))
			checkGolden(t, filepath.Join("testdata", tc.name+".golden.html"), got)
		})
	}
}

func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./pkg/report -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := range max(len(gl), len(wl)) {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("%s differs from line %d:\n got: %.300s\nwant: %.300s\n(run go test ./pkg/report -update if the change is intended)", path, i+1, g, w)
			}
		}
	}
}

// TestRecordings renders every shipped recording through the engine; the golden files show
// what a real termination looks like in the report.
func TestRecordings(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "examples", "*.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Log("no recordings in examples/ yet: nothing to render")
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".ndjson")
		t.Run(name, func(t *testing.T) {
			snap := replay(t, f)
			meta := report.Meta{Context: "recording", Target: name, Recording: filepath.Base(f), Generated: snap.Summary.End}
			got := normalize(render(t, meta, snap))
			checkGolden(t, filepath.Join("testdata", "recording-"+name+".golden.html"), got)
		})
	}
}

func replay(t *testing.T, path string) timeline.Snapshot {
	t.Helper()
	h, deltas, err := record.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	e := timeline.New(timeline.Config{Partial: h.Partial})
	var last time.Time
	for _, d := range deltas {
		e.Apply(d)
		last = d.Time
	}
	_, sum := e.Finish(last)
	snap := e.Snapshot()
	snap.Summary = sum
	return snap
}

func parse(t testing.TB, b []byte) *html.Node {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("parsing the report: %v", err)
	}
	return doc
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func hasClass(n *html.Node, class string) bool {
	return n.Type == html.ElementNode && strings.Contains(" "+attr(n, "class")+" ", " "+class+" ")
}

func findAll(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if match(n) {
			out = append(out, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return out
}

func element(tag string) func(*html.Node) bool {
	return func(n *html.Node) bool { return n.Type == html.ElementNode && n.Data == tag }
}

func text(n *html.Node) string {
	var b strings.Builder
	for _, t := range findAll(n, func(n *html.Node) bool { return n.Type == html.TextNode }) {
		b.WriteString(t.Data)
	}
	return b.String()
}

func TestEscapesClusterText(t *testing.T) {
	out := render(t, reporttest.Meta(), reporttest.Rollout())
	if bytes.Contains(out, []byte("<script>window.pwned")) || bytes.Contains(out, []byte("<img src=x")) {
		t.Fatal("cluster text reached the report unescaped")
	}
	doc := parse(t, out)
	if n := len(findAll(doc, element("script"))); n != 1 {
		t.Errorf("%d script elements, want only the report's own", n)
	}
	if n := len(findAll(doc, element("img"))); n != 0 {
		t.Errorf("%d img elements, want none", n)
	}
	for _, n := range findAll(doc, func(n *html.Node) bool { return n.Type == html.ElementNode }) {
		for _, a := range n.Attr {
			if strings.HasPrefix(strings.ToLower(a.Key), "on") {
				t.Errorf("<%s> has an event handler attribute %s=%q", n.Data, a.Key, a.Val)
			}
		}
	}
	// The hostile text shows as text wherever cluster text goes: an event message, a finding
	// message, a fix and a warning.
	textNodes := findAll(doc, func(n *html.Node) bool {
		return n.Type == html.TextNode && strings.Contains(n.Data, reporttest.Injected)
	})
	where := map[string]bool{}
	for _, n := range textNodes {
		for p := n.Parent; p != nil; p = p.Parent {
			switch {
			case hasClass(p, "mk"):
				where["event message"] = true
			case hasClass(p, "fd"):
				where["finding"] = true
			case p.Type == html.ElementNode && p.Data == "pre":
				where["fix"] = true
			case hasClass(p, "warnings"):
				where["warning"] = true
			}
		}
	}
	for _, w := range []string{"event message", "finding", "fix", "warning"} {
		if !where[w] {
			t.Errorf("the injected text is not shown as text in a %s", w)
		}
	}
}

func TestSelfContained(t *testing.T) {
	doc := parse(t, render(t, reporttest.Meta(), reporttest.Rollout()))
	for _, n := range findAll(doc, func(n *html.Node) bool { return n.Type == html.ElementNode }) {
		for _, a := range n.Attr {
			switch a.Key {
			case "src", "srcset", "action", "formaction", "poster", "data", "xlink:href":
				t.Errorf("<%s %s=%q> would load something", n.Data, a.Key, a.Val)
			case "href":
				if !strings.HasPrefix(a.Val, "#") && a.Val != "data:," {
					t.Errorf("<%s href=%q> points outside the file", n.Data, a.Val)
				}
			}
		}
		if n.Data == "link" && attr(n, "rel") != "icon" {
			t.Errorf("<link rel=%q> in a self-contained report", attr(n, "rel"))
		}
	}
	for _, s := range findAll(doc, element("style")) {
		if strings.Contains(text(s), "url(") || strings.Contains(text(s), "@import") {
			t.Error("the stylesheet loads something")
		}
	}
}

func TestContentSecurityPolicy(t *testing.T) {
	doc := parse(t, render(t, reporttest.Meta(), reporttest.Rollout()))
	var policy string
	for _, m := range findAll(doc, element("meta")) {
		if attr(m, "http-equiv") == "Content-Security-Policy" {
			policy = attr(m, "content")
		}
	}
	if !strings.Contains(policy, "default-src 'none'") {
		t.Fatalf("policy %q does not default to none", policy)
	}
	hash := func(s string) string {
		sum := sha256.Sum256([]byte(s))
		return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	}
	styles, scripts := findAll(doc, element("style")), findAll(doc, element("script"))
	if len(styles) != 1 || len(scripts) != 1 {
		t.Fatalf("%d styles and %d scripts, want one each", len(styles), len(scripts))
	}
	if want := "style-src " + hash(text(styles[0])); !strings.Contains(policy, want) {
		t.Errorf("policy %q lacks %s", policy, want)
	}
	if want := "script-src " + hash(text(scripts[0])); !strings.Contains(policy, want) {
		t.Errorf("policy %q lacks %s", policy, want)
	}
}

func TestStructure(t *testing.T) {
	snap := reporttest.Rollout()
	doc := parse(t, render(t, reporttest.Meta(), snap))
	pods := findAll(doc, func(n *html.Node) bool { return n.Data == "details" && hasClass(n, "pod") })
	if len(pods) != len(snap.Pods) {
		t.Fatalf("%d pod rows, want %d", len(pods), len(snap.Pods))
	}
	for i, n := range pods {
		pt := snap.Pods[i]
		if id := attr(n, "id"); id == "" {
			t.Errorf("pod %s has no anchor", pt.Name)
		}
		if !hasClass(n, "v-"+string(pt.Verdict)) {
			t.Errorf("pod %s lacks its verdict class %s", pt.Name, pt.Verdict)
		}
		if !strings.Contains(text(n), pt.Name) {
			t.Errorf("pod %s is not named in its row", pt.Name)
		}
		if len(findAll(n, func(n *html.Node) bool { return n.Data == "svg" && hasClass(n, "g") })) != 1 {
			t.Errorf("pod %s has no Gantt row", pt.Name)
		}
		rows := findAll(n, func(n *html.Node) bool {
			return n.Data == "tr" && len(findAll(n, element("td"))) > 0
		})
		if len(rows) != len(pt.Marks) {
			t.Errorf("pod %s: %d mark rows, want %d", pt.Name, len(rows), len(pt.Marks))
			continue
		}
		for j, r := range rows {
			if pt.Marks[j].Estimated != hasClass(r, "e") {
				t.Errorf("pod %s mark %s: estimated %v but row class %q", pt.Name, pt.Marks[j].Type, pt.Marks[j].Estimated, attr(r, "class"))
			}
			if !strings.Contains(text(r), string(pt.Marks[j].Type)) {
				t.Errorf("pod %s row %d does not name mark %s", pt.Name, j, pt.Marks[j].Type)
			}
		}
		if got := len(findAll(n, func(n *html.Node) bool { return n.Data == "li" })); got != len(pt.Findings) {
			t.Errorf("pod %s: %d findings shown, want %d", pt.Name, got, len(pt.Findings))
		}
		// Estimated moments are drawn hollow or striped.
		est := findAll(n, func(n *html.Node) bool { return (n.Data == "use" || n.Data == "path") && hasClass(n, "e") })
		hasEst := false
		for _, m := range pt.Marks {
			hasEst = hasEst || m.Estimated
		}
		if hasEst != (len(est) > 0) {
			t.Errorf("pod %s: estimated marks %v, estimated shapes %d", pt.Name, hasEst, len(est))
		}
	}
	fixes := findAll(doc, func(n *html.Node) bool { return hasClass(n, "fix") })
	if len(fixes) != 3 {
		t.Errorf("%d fix blocks, want 3", len(fixes))
	}
	for _, f := range fixes {
		if len(findAll(f, element("pre"))) != 1 {
			t.Errorf("fix %s has no <pre>", attr(f, "id"))
		}
	}
	// The verdict filter works without script: one radio per verdict plus "all".
	radios := findAll(doc, func(n *html.Node) bool { return n.Data == "input" && attr(n, "type") == "radio" })
	if len(radios) != len(timeline.Verdicts)+1 {
		t.Errorf("%d verdict radios, want %d", len(radios), len(timeline.Verdicts)+1)
	}
	charts := findAll(doc, func(n *html.Node) bool { return n.Data == "svg" && hasClass(n, "cap") })
	if len(charts) != 2 {
		t.Errorf("%d Service charts, want 2", len(charts))
	}
	if len(findAll(charts[0], func(n *html.Node) bool { return hasClass(n, "dip") })) != 1 {
		t.Error("the capacity dip of web is not marked")
	}
}

// TestLargeReport is the size budget: 2,000 pods must stay under 3 MB.
func TestLargeReport(t *testing.T) {
	const pods, limit = 2000, 3 << 20
	snap := reporttest.Synthetic(pods, 1)
	start := time.Now()
	out := render(t, reporttest.Meta(), snap)
	elapsed := time.Since(start)
	t.Logf("%d pods: %d bytes (%.0f per pod), rendered in %v", pods, len(out), float64(len(out))/pods, elapsed.Round(time.Millisecond))
	if len(out) >= limit {
		t.Errorf("a %d-pod report is %d bytes, over the %d budget", pods, len(out), limit)
	}
	doc := parse(t, out)
	rows := findAll(doc, func(n *html.Node) bool { return n.Data == "details" && hasClass(n, "pod") })
	if len(rows) != pods {
		t.Errorf("%d pod rows, want %d", len(rows), pods)
	}
	// A large report drops what only repeats its details.
	if n := len(findAll(doc, func(n *html.Node) bool {
		return n.Data == "title" && n.Parent.Data != "head" && n.Parent.Data != "rect"
	})); n != 0 {
		t.Errorf("%d Gantt tooltips in a large report, want none", n)
	}
	if n := len(findAll(doc, element("thead"))); n != 2 {
		t.Errorf("%d table headers, want only the two summary tables'", n)
	}
}

func BenchmarkWrite2000(b *testing.B) {
	snap := reporttest.Synthetic(2000, 1)
	meta := reporttest.Meta()
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		if err := report.Write(&buf, meta, snap); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len()), "bytes/report")
}
