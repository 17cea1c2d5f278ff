package traffic

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestProxyClientCountsAnswersAndFailures(t *testing.T) {
	var n atomic.Int64
	var hosts atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hosts.Store(r.Host)
		if n.Add(1)%4 == 0 {
			http.Error(w, "bad gateway", http.StatusBadGateway)
			return
		}
		fmt.Fprintln(w, "web-1")
	}))
	defer srv.Close()
	c, err := StartProxy(context.Background(), ProxyConfig{URL: srv.URL, Host: "web.example", Rate: 200, MaxRequests: 40})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for n.Load() < 40 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	res := c.Stop()
	if res.Requests != 40 || res.OK+res.Failed != 40 {
		t.Fatalf("requests %d, ok %d, failed %d; want 40 in all (MaxRequests)", res.Requests, res.OK, res.Failed)
	}
	if res.Failed != 10 || res.Errors["HTTP 502"] != 10 || res.AnsweredBy["web-1"] != 30 {
		t.Errorf("result %s, want 10 HTTP 502 and 30 answers of web-1", res)
	}
	if h, _ := hosts.Load().(string); h != "web.example" {
		t.Errorf("Host header %q, want web.example", h)
	}
}

func TestProxyClientRefusesNonLoopback(t *testing.T) {
	for _, u := range []string{"http://10.0.0.1:80", "http://example.com", "::"} {
		if _, err := StartProxy(context.Background(), ProxyConfig{URL: u}); err == nil {
			t.Errorf("StartProxy(%q) accepted a non-loopback URL", u)
		}
	}
}

func TestAccessLogAttribution(t *testing.T) {
	log := strings.Join([]string{
		`{"StartUTC":"2026-01-02T03:04:05.1Z","RequestHost":"a.test","RequestPath":"/","ServiceAddr":"10.244.0.5:8080","ServiceURL":"http://10.244.0.5:8080","DownstreamStatus":200,"OriginStatus":200,"Duration":1000}`,
		`{"StartUTC":"2026-01-02T03:04:05.2Z","RequestHost":"a.test","RequestPath":"/","ServiceAddr":"10.244.0.5:8080","DownstreamStatus":502,"OriginStatus":0}`,
		`{"StartUTC":"2026-01-02T03:04:05.3Z","RequestHost":"a.test","RequestPath":"/","ServiceAddr":"10.244.1.7:8080","DownstreamStatus":200,"OriginStatus":200}`,
		`{"StartUTC":"2026-01-02T03:04:05.4Z","RequestHost":"a.test","RequestPath":"/","DownstreamStatus":503,"OriginStatus":0}`,
		`{"StartUTC":"2026-01-02T03:04:05.5Z","RequestHost":"a.test","RequestPath":"/","ServiceAddr":"10.244.9.9:8080","DownstreamStatus":200,"OriginStatus":200}`,
		`{"StartUTC":"2026-01-02T03:04:05.6Z","RequestHost":"b.test","RequestPath":"/","ServiceAddr":"10.244.0.5:8080","DownstreamStatus":502,"OriginStatus":0}`,
		`not json`,
	}, "\n") + "\n"
	path := filepath.Join(t.TempDir(), "access.log")
	if err := os.WriteFile(path, []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	entries, err := ReadAccessLog(path, func(e AccessLogEntry) bool { return e.RequestHost == "a.test" })
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 5 {
		t.Fatalf("%d entries of a.test, want 5", len(entries))
	}
	pods := map[string]string{"10.244.0.5": "web-a", "10.244.1.7": "web-b"}
	truth := Attribute(entries, func(ip string) string { return pods[ip] })
	if a := truth.Pods["web-a"]; a == nil || a.OK != 1 || a.Failed != 1 || a.Errors["HTTP 502 (no answer from upstream)"] != 1 {
		t.Errorf("web-a: %+v, want 1 ok and 1 HTTP 502 without an answer", a)
	}
	if b := truth.Pods["web-b"]; b == nil || b.OK != 1 || b.Failed != 0 {
		t.Errorf("web-b: %+v, want 1 ok", b)
	}
	if u := truth.Unattributed; u.OK != 1 || u.Failed != 1 {
		t.Errorf("unattributed: %+v, want the unknown address's success and the 503 without upstream", u)
	}
	if len(truth.UnknownAddrs) != 1 || truth.UnknownAddrs[0] != "10.244.9.9:8080" {
		t.Errorf("unknown addresses %v", truth.UnknownAddrs)
	}
	if truth.TotalFailed() != 2 || truth.Failed("web-a") != 1 {
		t.Errorf("total failed %d, web-a %d; want 2 and 1", truth.TotalFailed(), truth.Failed("web-a"))
	}
	if want := time.Date(2026, 1, 2, 3, 4, 5, 2e8, time.UTC); !truth.Pods["web-a"].FirstFailure.Equal(want) {
		t.Errorf("web-a first failure %s, want %s", truth.Pods["web-a"].FirstFailure, want)
	}
}
