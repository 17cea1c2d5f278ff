// Package report_test opens drainwatch's HTML reports in a real headless Chromium, from disk,
// and checks what a reader sees: every pod and finding, hostile cluster text shown as text,
// no console error, no network request, the script-free fallbacks, and the time to render a
// 2,000-pod report. It writes the screenshot in docs/report.png.
//
// Run it with `make test-report`, which installs Chromium first (test/report/setup.sh).
package report_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/drainwatch/kubectl-drainwatch/pkg/report"
	"github.com/drainwatch/kubectl-drainwatch/pkg/report/reporttest"
	"github.com/drainwatch/kubectl-drainwatch/pkg/timeline"
)

var (
	screenshot = flag.String("screenshot", filepath.Join("..", "..", "docs", "report.png"), "where to write the screenshot of the example report (empty: nowhere)")
	renderMax  = flag.Duration("render-budget", 2*time.Second, "rendering a 2,000-pod report for longer than this is noted in the log (times are reported, not asserted)")
)

// browser starts Chromium with the flags this machine's closed network needs and a fresh
// profile. Everything it starts ends with the test.
func browser(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("chromium is not installed: run test/report/setup.sh (make test-report does): %v", err)
	}
	profile, err := os.MkdirTemp("", "drainwatch-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1400, 1000),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
		// Chromium's helpers may still write into the profile for a moment after it exits.
		for range 50 {
			if err := os.RemoveAll(profile); err == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Errorf("could not remove the Chromium profile %s", profile)
	})
	version, err := chromedp.Run(ctx, chromedp.Evaluate[string](`navigator.userAgent`))
	if err != nil {
		t.Fatalf("starting %s: %v", path, err)
	}
	t.Logf("browser: %s", version)
	return ctx
}

// watcher records everything a page must not do: write an error to the console, throw, log a
// browser error (a refused load, a blocked script) or make any request besides loading the
// report itself.
type watcher struct {
	mu       sync.Mutex
	allowed  string
	problems []string
	requests []string
}

func watch(t *testing.T, ctx context.Context, fileURL string) *watcher {
	t.Helper()
	w := &watcher{allowed: fileURL}
	err := chromedp.Listen(ctx, func(ev any) {
		w.mu.Lock()
		defer w.mu.Unlock()
		switch e := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeAssert {
				var args []string
				for _, a := range e.Args {
					args = append(args, string(a.Value)+a.Description)
				}
				w.problems = append(w.problems, "console."+string(e.Type)+": "+strings.Join(args, " "))
			}
		case *runtime.EventExceptionThrown:
			w.problems = append(w.problems, "exception: "+e.ExceptionDetails.Text+" "+describe(e.ExceptionDetails.Exception))
		case *cdplog.EventEntryAdded:
			if e.Entry.Level == cdplog.EntryLevelError {
				w.problems = append(w.problems, fmt.Sprintf("browser log (%s): %s %s", e.Entry.Source, e.Entry.Text, e.Entry.URL))
			}
		case *network.EventRequestWillBeSent:
			w.requests = append(w.requests, e.Request.URL)
			if e.Request.URL != w.allowed {
				w.problems = append(w.problems, "network request: "+e.Request.URL)
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// selfCheck proves the watcher hears the page: the document's own load was seen as a request,
// and an error written to the console is caught.
func (w *watcher) selfCheck(t *testing.T, ctx context.Context) {
	t.Helper()
	w.mu.Lock()
	loaded := slices.Contains(w.requests, w.allowed)
	w.mu.Unlock()
	if !loaded {
		t.Errorf("the watcher saw no request for the report itself (requests: %q): network checks would prove nothing", w.requests)
	}
	const probe = "drainwatch watcher probe"
	eval[bool](t, ctx, `(() => { console.error("`+probe+`"); return true })()`)
	for range 100 {
		w.mu.Lock()
		i := slices.IndexFunc(w.problems, func(p string) bool { return strings.Contains(p, probe) })
		if i >= 0 {
			w.problems = slices.Delete(w.problems, i, i+1)
		}
		w.mu.Unlock()
		if i >= 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Error("the watcher did not catch a console error: console checks would prove nothing")
}

func describe(o *runtime.RemoteObject) string {
	if o == nil {
		return ""
	}
	return o.Description
}

// check fails the test for everything the page did wrong so far.
func (w *watcher) check(t *testing.T) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, p := range w.problems {
		t.Error(p)
	}
	w.problems = nil
}

func writeReport(t *testing.T, dir, name string, meta report.Meta, snap timeline.Snapshot) (path, fileURL string) {
	t.Helper()
	var b bytes.Buffer
	if err := report.Write(&b, meta, snap); err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(dir, name)
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, (&url.URL{Scheme: "file", Path: path}).String()
}

// tab opens a new tab on the report and waits for it to load.
func tab(t *testing.T, parent context.Context, fileURL string, before ...chromedp.Action[chromedp.Void]) (context.Context, *watcher) {
	t.Helper()
	ctx, cancel := chromedp.NewContext(parent)
	t.Cleanup(cancel)
	// The tab lives as long as the context of its first action, so open it without the
	// timeout that guards the rest.
	if err := chromedp.Do(ctx, before...); err != nil {
		t.Fatal(err)
	}
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(cancelTimeout)
	w := watch(t, ctx, fileURL)
	if err := chromedp.Do(ctx, chromedp.Navigate(fileURL)); err != nil {
		t.Fatalf("opening %s: %v", fileURL, err)
	}
	return ctx, w
}

func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluating %s: %v", js, err)
	}
	return v
}

// click clicks an element with the mouse. It scrolls the element into view and waits a
// moment first: pod rows are laid out only once on screen, and the height they then take
// would move the element between aiming and clicking. (The wait is a sleep, not a frame
// callback, because some pages run without script.)
func click(t *testing.T, ctx context.Context, selector string) {
	t.Helper()
	if err := chromedp.Do(ctx,
		chromedp.ScrollIntoView(chromedp.CSS(selector)),
		chromedp.Sleep(150*time.Millisecond),
		chromedp.Click(chromedp.CSS(selector)),
	); err != nil {
		t.Fatalf("clicking %s: %v", selector, err)
	}
}

// waitFor polls a condition in the page for up to three seconds, for what the page does in a
// later task (a hashchange handler, say).
func waitFor(t *testing.T, ctx context.Context, cond string) bool {
	t.Helper()
	for range 150 {
		if eval[bool](t, ctx, cond) {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

// visiblePods lists the names of the pod rows a reader can see, in page order.
const visiblePods = `[...document.querySelectorAll(".pods > details.pod")].filter(el => el.checkVisibility()).map(el => el.querySelector(".lbl b").textContent)`

func setMedia(t *testing.T, ctx context.Context, p emulation.SetEmulatedMediaParams) {
	t.Helper()
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, p); err != nil {
		t.Fatal(err)
	}
}

func TestReportInChromium(t *testing.T) {
	ctx := browser(t)
	dir := t.TempDir()
	_, rolloutURL := writeReport(t, dir, "rollout.html", reporttest.Meta(), reporttest.Rollout())
	snap := reporttest.Rollout()

	t.Run("rollout", func(t *testing.T) {
		page, w := tab(t, ctx, rolloutURL)
		defer w.check(t)
		w.selfCheck(t, page)

		names := eval[[]string](t, page, visiblePods)
		if len(names) != len(snap.Pods) {
			t.Fatalf("visible pods %v, want all %d", names, len(snap.Pods))
		}
		for i, p := range snap.Pods {
			if names[i] != p.Name {
				t.Errorf("row %d shows %q, want %q", i, names[i], p.Name)
			}
		}
		fixes := eval[[]string](t, page, `[...document.querySelectorAll("#fixes .fix")].filter(el => el.checkVisibility()).map(el => el.querySelector("code").textContent)`)
		if strings.Join(fixes, ",") != "sigkill-at-deadline,stopped-before-drain,nonzero-exit" {
			t.Errorf("visible fixes %v", fixes)
		}

		// Open the killed pod: its marks and findings become visible.
		click(t, page, "#p2 > summary")
		if !eval[bool](t, page, `document.querySelector("#p2").open && document.querySelector("#p2 table.mk").checkVisibility()`) {
			t.Error("the marks of the opened pod are not visible")
		}
		findings := eval[[]string](t, page, `[...document.querySelectorAll("#p2 .fd li")].filter(el => el.checkVisibility()).map(el => el.textContent)`)
		if len(findings) != 2 || !strings.Contains(findings[0], "sigkill-at-deadline") {
			t.Errorf("visible findings of the killed pod: %q", findings)
		}

		// The injected markup is on screen as text and did nothing.
		if !eval[bool](t, page, `typeof window.pwned === "undefined"`) {
			t.Error("script injected through an event message ran (window.pwned is set)")
		}
		if n := eval[int](t, page, `document.scripts.length + document.images.length`); n != 1 {
			t.Errorf("%d scripts and images in the page, want only the report's script", n)
		}
		shown := eval[bool](t, page, fmt.Sprintf(`[...document.querySelectorAll("#p2 table.mk td")].some(td => td.checkVisibility() && td.textContent.includes(%q))`, reporttest.Injected))
		if !shown {
			t.Error("the injected event message is not shown as text")
		}

		// Script: text filter, verdict filter, sort, "show only these", links to pods.
		if err := chromedp.Do(page, chromedp.SendKeys(chromedp.CSS("#q"), "ccccc")); err != nil {
			t.Fatal(err)
		}
		if got := eval[[]string](t, page, visiblePods); len(got) != 1 || got[0] != "web-7d9c8b6f5-ccccc" {
			t.Errorf("after filtering by name, visible pods %v", got)
		}
		if got := eval[string](t, page, `document.querySelector("#shown").textContent`); got != "1 of 5 shown" {
			t.Errorf("count shows %q", got)
		}
		eval[bool](t, page, `(() => { const q = document.querySelector("#q"); q.value = ""; q.dispatchEvent(new Event("input")); return true })()`)
		click(t, page, `label[for="vf-killed"]`)
		if got := eval[[]string](t, page, visiblePods); len(got) != 1 || got[0] != "web-7d9c8b6f5-bbbbb" {
			t.Errorf("after choosing killed, visible pods %v", got)
		}
		click(t, page, `label[for="vf-all"]`)
		eval[bool](t, page, `(() => { const s = document.querySelector("#sort"); s.value = "shutdown"; s.dispatchEvent(new Event("change")); return true })()`)
		want := []string{"web-7d9c8b6f5-bbbbb", "web-7d9c8b6f5-aaaaa", "worker-0", "web-7d9c8b6f5-ccccc", "web-7d9c8b6f5-ddddd"}
		if got := eval[[]string](t, page, visiblePods); strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("sorted by shutdown: %v, want %v", got, want)
		}
		eval[bool](t, page, `(() => { const s = document.querySelector("#sort"); s.value = "start"; s.dispatchEvent(new Event("change")); return true })()`)
		click(t, page, `#fix2 button.show`)
		if got := eval[[]string](t, page, visiblePods); len(got) != 1 || got[0] != "web-7d9c8b6f5-ccccc" {
			t.Errorf("after showing the pods of fix 2, visible pods %v", got)
		}
		click(t, page, `#fix3 .fixpods a`)
		if !waitFor(t, page, `document.querySelector("#p5").open && document.querySelector("#p5").checkVisibility()`) {
			t.Error("following a fix's link to worker-0 did not open it")
		}
		if got := eval[[]string](t, page, visiblePods); len(got) != len(snap.Pods) {
			t.Errorf("following a link should clear the filter, visible pods %v", got)
		}
		// The clipboard answers asynchronously (or, headless, refuses): wait for the button to say
		// which.
		click(t, page, `#fix1 button.copy`)
		got := eval[string](t, page, `new Promise(resolve => {
			const b = document.querySelector("#fix1 button.copy"), until = performance.now() + 3000;
			(function poll() { b.textContent !== "Copy" || performance.now() > until ? resolve(b.textContent) : setTimeout(poll, 20) })();
		})`)
		if got != "Copied" && got != "Press Ctrl+C" {
			t.Errorf("copy button says %q", got)
		}

		// Dark mode and print change the look, not the content.
		setMedia(t, page, emulation.SetEmulatedMediaParams{Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}})
		if !eval[bool](t, page, `(() => { const [r, g, b] = getComputedStyle(document.body).backgroundColor.match(/\d+/g).map(Number); return r + g + b < 120 })()`) {
			t.Error("the background is not dark in dark mode")
		}
		setMedia(t, page, emulation.SetEmulatedMediaParams{Media: "print"})
		if !eval[bool](t, page, `!document.querySelector(".controls").checkVisibility() && getComputedStyle(document.body).backgroundColor === "rgb(255, 255, 255)" && document.querySelector("#p1").checkVisibility()`) {
			t.Error("print media should hide the controls, print on white and keep the pods")
		}
		// Printing opens every pod's details and closes what it opened afterwards.
		open := eval[int](t, page, `document.querySelectorAll(".pods > details[open]").length`)
		opened := eval[int](t, page, `(() => { dispatchEvent(new Event("beforeprint")); return document.querySelectorAll(".pods > details[open]").length })()`)
		closed := eval[int](t, page, `(() => { dispatchEvent(new Event("afterprint")); return document.querySelectorAll(".pods > details[open]").length })()`)
		if opened != len(snap.Pods) || closed != open {
			t.Errorf("print opened %d pods and left %d open, want %d and %d", opened, closed, len(snap.Pods), open)
		}
	})

	t.Run("screenshot", func(t *testing.T) {
		if *screenshot == "" {
			t.Log("no -screenshot path given: nothing to write")
			return
		}
		page, w := tab(t, ctx, rolloutURL)
		defer w.check(t)
		shot(t, page, *screenshot)
	})

	t.Run("without script", func(t *testing.T) {
		page, w := tab(t, ctx, rolloutURL, func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
			_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
			return chromedp.Void{}, err
		})
		defer w.check(t)
		if eval[bool](t, page, `document.documentElement.classList.contains("js")`) {
			t.Fatal("the report's script ran although scripts are disabled")
		}
		if got := eval[[]string](t, page, visiblePods); len(got) != len(snap.Pods) {
			t.Errorf("without script, visible pods %v, want all %d", got, len(snap.Pods))
		}
		if eval[bool](t, page, `[...document.querySelectorAll(".js-only")].some(el => el.checkVisibility())`) {
			t.Error("controls that need script are shown without it")
		}
		// The verdict filter is CSS only.
		click(t, page, `label[for="vf-at-risk"]`)
		if got := eval[[]string](t, page, visiblePods); len(got) != 1 || got[0] != "web-7d9c8b6f5-ccccc" {
			t.Errorf("without script, the at-risk filter shows %v", got)
		}
		click(t, page, `label[for="vf-all"]`)
		click(t, page, `#p1 > summary`)
		if !eval[bool](t, page, `document.querySelector("#p1 table.mk").checkVisibility()`) {
			t.Error("without script, a pod's details do not open")
		}
	})

	t.Run("2000 pods", func(t *testing.T) {
		const pods = 2000
		path, bigURL := writeReport(t, dir, "big.html", reporttest.Meta(), reporttest.Synthetic(pods, 1))
		info, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if info.Size() >= 3<<20 {
			t.Errorf("the %d-pod report is %d bytes, over 3 MB", pods, info.Size())
		}
		pid := chromedp.FromContext(ctx).Browser.Process().Pid
		cpu0 := rendererCPU(pid)
		start := time.Now()
		page, w := tab(t, ctx, bigURL)
		defer w.check(t)
		// From the start of navigation to the first frame after the load event, as the page
		// measures it; and the CPU time the renderer's main thread spent on it, which does not
		// grow when other work shares the machine.
		type timing struct {
			Loaded, Painted, FCP, DOMContentLoaded float64
		}
		tm := eval[timing](t, page, `new Promise(resolve => requestAnimationFrame(() => requestAnimationFrame(() => {
			const nav = performance.getEntriesByType("navigation")[0];
			const fcp = performance.getEntriesByName("first-contentful-paint")[0];
			resolve({Loaded: nav.loadEventEnd, Painted: performance.now(), FCP: fcp ? fcp.startTime : -1, DOMContentLoaded: nav.domContentLoadedEventEnd});
		})))`)
		wall := time.Since(start)
		cpu := cpuSince(cpu0, rendererCPU(pid))
		painted := time.Duration(tm.Painted * float64(time.Millisecond))
		t.Logf("%d pods, %d bytes: DOMContentLoaded %.0fms, first contentful paint %.0fms, load %.0fms, first frame after load %.0fms (%v from the test's side, opening the tab included); renderer main thread CPU %v; load average %s",
			pods, info.Size(), tm.DOMContentLoaded, tm.FCP, tm.Loaded, tm.Painted, wall.Round(time.Millisecond), cpu, loadAverage())
		if cpu == 0 {
			t.Error("could not read the renderer's CPU time from /proc")
		}
		// Times are measurements, not assertions: they follow whatever else the machine runs.
		if cpu > *renderMax || painted > *renderMax {
			t.Logf("NOTE: rendering took %v of CPU and %v of wall time, over %v (load average %s)", cpu, painted, *renderMax, loadAverage())
		}
		if n := eval[int](t, page, `document.querySelectorAll(".pods > details.pod").length`); n != pods {
			t.Errorf("%d pod rows, want %d", n, pods)
		}
		if !eval[bool](t, page, `document.querySelector("#p1").checkVisibility() && document.querySelector("#p1 svg.g").getBoundingClientRect().width > 500`) {
			t.Error("the first pod's Gantt row is not drawn")
		}

		// Filter by text, then sort, each timed up to the next frame (logged).
		step := func(name, js string) {
			t.Helper()
			c0 := rendererCPU(pid)
			ms := eval[float64](t, page, `new Promise(resolve => { const t = performance.now(); `+js+`; document.body.offsetHeight; requestAnimationFrame(() => resolve(performance.now() - t)); })`)
			c := cpuSince(c0, rendererCPU(pid))
			t.Logf("%s over %d pods: %.0fms, main thread CPU %v", name, pods, ms, c)
		}
		step("filter", `const q = document.querySelector("#q"); q.value = "sigkill"; q.dispatchEvent(new Event("input"))`)
		if got := eval[string](t, page, `document.querySelector("#shown").textContent`); !strings.HasSuffix(got, " of 2000 shown") || strings.HasPrefix(got, "0 ") || strings.HasPrefix(got, "2000 ") {
			t.Errorf("after filtering by sigkill: %q", got)
		}
		step("clear filter", `const q = document.querySelector("#q"); q.value = ""; q.dispatchEvent(new Event("input"))`)
		step("sort", `const s = document.querySelector("#sort"); s.value = "shutdown"; s.dispatchEvent(new Event("change"))`)
	})
}

// loadAverage is the one-minute load average, to tell a busy machine from a slow page.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Fields(string(b))[0]
}

// shot writes a screenshot of the whole example report, with the killed pod open.
func shot(t *testing.T, ctx context.Context, path string) {
	t.Helper()
	click(t, ctx, "#p2 > summary")
	height := eval[int](t, ctx, `document.documentElement.scrollHeight`)
	png, err := chromedp.Run(ctx, func(ctx context.Context, tg *chromedp.Target) ([]byte, error) {
		// Make the viewport as tall as the page, so rows that are drawn only when on screen
		// are drawn.
		if _, err := cdp.Call(ctx, tg, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
			Width: 1400, Height: int64(height), DeviceScaleFactor: 1,
		}); err != nil {
			return nil, err
		}
		// Let the rows that just came on screen be drawn.
		if _, err := chromedp.Evaluate[bool](`new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))`, chromedp.EvalAwaitPromise)(ctx, tg); err != nil {
			return nil, err
		}
		return chromedp.CaptureScreenshot()(ctx, tg)
	})
	if err != nil {
		t.Fatalf("taking the screenshot: %v", err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Fatal("the screenshot is not a PNG")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s (%d bytes, 1400×%d)", path, len(png), height)
}
