package cmd

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// kubeconfigFor writes a kubeconfig whose server is url.
func kubeconfigFor(t *testing.T, url string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kubeconfig")
	conf := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: %q, insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: x}}]
contexts: [{name: c, context: {cluster: c, user: u, namespace: default}}]
current-context: c
`, url)
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// runLive runs a live command with a short connect timeout and ctx, returning stderr, the exit
// code and how long it took.
func runLive(t *testing.T, ctx context.Context, probe time.Duration, args ...string) (string, int, time.Duration) {
	t.Helper()
	var out bytes.Buffer
	var errOut lockedBuffer // a connect that was interrupted may still be writing
	o := NewOptions(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	o.probeTimeout = probe
	c := newCmd(o)
	c.SetArgs(append(args, "--json", "--cache-dir", filepath.Join(t.TempDir(), "cache")))
	start := time.Now()
	err := c.ExecuteContext(ctx)
	if err != nil {
		errOut.WriteString("error: " + err.Error() + "\n")
	}
	return errOut.String(), ExitCode(err), time.Since(start)
}

// silentServer accepts connections and never answers.
func silentServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		for _, c := range conns {
			c.Close()
		}
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c) // held open, never read
		}
	}()
	return "https://" + ln.Addr().String()
}

func TestSilentServerIsReportedInTime(t *testing.T) {
	kc := kubeconfigFor(t, silentServer(t))
	errOut, code, took := runLive(t, context.Background(), 2*time.Second, "--kubeconfig", kc, "deploy/web")
	if code != ExitUsage || !strings.Contains(errOut, "did not answer within 2s") {
		t.Errorf("exit %d stderr %q; want exit 2 saying the server did not answer", code, errOut)
	}
	if !strings.Contains(errOut, "connecting to https://127.0.0.1:") {
		t.Errorf("stderr %q; want a connecting status line while waiting", errOut)
	}
	if took > 10*time.Second {
		t.Errorf("took %s with a 2s connect timeout", took)
	}
}

func TestInterruptWhileConnecting(t *testing.T) {
	kc := kubeconfigFor(t, silentServer(t))
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(700*time.Millisecond, cancel) // Ctrl+C
	errOut, code, took := runLive(t, ctx, time.Minute, "--kubeconfig", kc, "deploy/web")
	if code != ExitInterrupted || took > 5*time.Second {
		t.Errorf("exit %d after %s, stderr %q; want exit 130 at once", code, took, errOut)
	}
}

func TestNotAnAPIServer(t *testing.T) {
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/version" {
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, "<!DOCTYPE html><html><body>"+strings.Repeat("welcome ", 100)+"</body></html>")
			return
		}
		http.NotFound(w, r)
	}))
	defer web.Close()
	missing := httptest.NewServer(http.NotFoundHandler())
	defer missing.Close()
	for _, tc := range []struct {
		name, url, want string
	}{
		{"web page", web.URL, "not a Kubernetes API server"},
		{"404", missing.URL, "answered 404 to GET /version: it is not a Kubernetes API server"},
		{"https to http", strings.Replace(web.URL, "http://", "https://", 1), "speaks plain HTTP, not HTTPS"},
	} {
		errOut, code, _ := runLive(t, context.Background(), 5*time.Second, "--kubeconfig", kubeconfigFor(t, tc.url), "deploy/web")
		lines := strings.Split(strings.TrimSpace(errOut), "\n")
		if code != ExitUsage || !strings.Contains(errOut, tc.want) || len(lines) != 1 || len(errOut) > 300 {
			t.Errorf("%s: exit %d stderr %q; want exit 2 and one short line with %q", tc.name, code, errOut, tc.want)
		}
	}
}

// A server whose lists keep failing: its error shows on the status line, then exit 2.
func TestListsFailing(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.Path == "/version":
			fmt.Fprint(w, `{"major":"1","minor":"37","gitVersion":"v1.37.2"}`)
		case strings.HasSuffix(r.URL.Path, "/selfsubjectaccessreviews"):
			fmt.Fprint(w, `{"apiVersion":"authorization.k8s.io/v1","kind":"SelfSubjectAccessReview","status":{"allowed":true}}`)
		case r.URL.Path == "/api/v1/namespaces/default/pods":
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprint(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","message":"etcd is on fire","reason":"InternalError","code":500}`)
		default:
			fmt.Fprint(w, `{"kind":"List","apiVersion":"v1","metadata":{"resourceVersion":"1"},"items":[]}`)
		}
	}))
	defer srv.Close()
	errOut, code, took := runLive(t, context.Background(), 5*time.Second, "--kubeconfig", kubeconfigFor(t, srv.URL))
	if code != ExitUsage || !strings.Contains(errOut, "etcd is on fire") {
		t.Errorf("exit %d after %s, stderr %q; want exit 2 with the server's error", code, took, errOut)
	}
	if took > 30*time.Second {
		t.Errorf("took %s; want a bounded number of retries", took)
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) WriteString(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b.WriteString(s)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestNoKubeconfigFound(t *testing.T) {
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	t.Setenv("HOME", t.TempDir())
	for _, kc := range []string{filepath.Join(t.TempDir(), "missing"), ""} {
		t.Setenv("KUBECONFIG", kc)
		errOut, code, _ := runLive(t, context.Background(), time.Second, "deploy/web")
		if code != ExitUsage || !strings.Contains(errOut, "no kubeconfig found") || strings.Contains(errOut, "localhost:8080") {
			t.Errorf("KUBECONFIG=%q: exit %d stderr %q; want exit 2 saying no kubeconfig was found", kc, code, errOut)
		}
	}
}
