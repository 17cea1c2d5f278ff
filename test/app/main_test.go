package main

import (
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestSIGTERMBehaviour(t *testing.T) {
	tests := []struct {
		name     string
		cfg      config
		wantCode int
		// wantServingAfter: the server still answers this long after SIGTERM.
		wantServingAfter time.Duration
		// wantExitWithin: run returns within this long after SIGTERM (0: must not return).
		wantExitWithin time.Duration
	}{
		{name: "drain", cfg: config{onSIGTERM: "drain", drain: 600 * time.Millisecond}, wantCode: 0, wantServingAfter: 300 * time.Millisecond, wantExitWithin: 3 * time.Second},
		{name: "exit", cfg: config{onSIGTERM: "exit"}, wantCode: 0, wantExitWithin: time.Second},
		{name: "code", cfg: config{onSIGTERM: "code", exitCode: 7}, wantCode: 7, wantExitWithin: time.Second},
		{name: "ignore", cfg: config{onSIGTERM: "ignore"}, wantServingAfter: 500 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			tt.cfg.name = "pod-" + tt.name
			tt.cfg.logWriter = io.Discard
			sigs := make(chan os.Signal, 1)
			done := make(chan int, 1)
			go func() { done <- run(tt.cfg, ln, sigs) }()
			url := "http://" + ln.Addr().String()
			waitFor(t, url+"/readyz", http.StatusOK)
			if got := get(t, url+"/"); strings.TrimSpace(got) != tt.cfg.name {
				t.Fatalf("GET / = %q, want the pod name %q", got, tt.cfg.name)
			}

			sigs <- syscall.SIGTERM
			if tt.wantServingAfter > 0 {
				time.Sleep(tt.wantServingAfter)
				if got := get(t, url+"/"); strings.TrimSpace(got) != tt.cfg.name {
					t.Fatalf("%s after SIGTERM: GET / = %q, want %q", tt.wantServingAfter, got, tt.cfg.name)
				}
			}
			if tt.wantExitWithin == 0 {
				select {
				case code := <-done:
					t.Fatalf("run returned %d, want it to ignore SIGTERM", code)
				case <-time.After(200 * time.Millisecond):
				}
				ln.Close()
				<-done
				return
			}
			select {
			case code := <-done:
				if code != tt.wantCode {
					t.Fatalf("exit code %d, want %d", code, tt.wantCode)
				}
			case <-time.After(tt.wantExitWithin):
				t.Fatalf("run did not return within %s of SIGTERM", tt.wantExitWithin)
			}
		})
	}
}

func TestUnreadyOnSIGTERM(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sigs := make(chan os.Signal, 1)
	done := make(chan int, 1)
	go func() {
		done <- run(config{onSIGTERM: "drain", drain: time.Second, unreadyOnTerm: true, logWriter: io.Discard, name: "p"}, ln, sigs)
	}()
	url := "http://" + ln.Addr().String()
	waitFor(t, url+"/readyz", http.StatusOK)
	sigs <- syscall.SIGTERM
	waitFor(t, url+"/readyz", http.StatusServiceUnavailable)
	if got := get(t, url+"/"); strings.TrimSpace(got) != "p" {
		t.Fatalf("GET / while draining = %q, want p", got)
	}
	<-done
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func waitFor(t *testing.T, url string, status int) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == status {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never returned %d (last error %v)", url, status, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
