// Command app is the HTTP server the end-to-end tests run in their pods. It answers every request
// with its pod name, reports readiness on /readyz, and reacts to SIGTERM the way a scenario asks:
//
//	--on-sigterm=drain   keep serving for --drain-seconds, then exit 0 (a well-behaved server)
//	--on-sigterm=exit    exit 0 at once (stops serving before load balancers have noticed)
//	--on-sigterm=ignore  keep running until SIGKILL
//	--on-sigterm=code    exit at once with --exit-code
//
// It is built with CGO_ENABLED=0 so it runs in a scratch image next to busybox-static.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"
)

// config holds the parsed flags.
type config struct {
	listen         string
	onSIGTERM      string
	drain          time.Duration
	exitCode       int
	unreadyOnTerm  bool
	startDelay     time.Duration
	name           string
	responseDelay  time.Duration
	logWriter      io.Writer
	terminateAfter time.Duration
}

func main() {
	cfg := config{logWriter: os.Stderr}
	fs := flag.NewFlagSet("app", flag.ExitOnError)
	fs.StringVar(&cfg.listen, "listen", ":8080", "address to serve HTTP on")
	fs.StringVar(&cfg.onSIGTERM, "on-sigterm", "drain", "reaction to SIGTERM: drain, exit, ignore or code")
	fs.DurationVar(&cfg.drain, "drain-seconds", 3*time.Second, "with --on-sigterm=drain: how long to keep serving after SIGTERM (e.g. 3s)")
	fs.IntVar(&cfg.exitCode, "exit-code", 1, "with --on-sigterm=code: the exit code")
	fs.BoolVar(&cfg.unreadyOnTerm, "unready-on-sigterm", false, "fail /readyz as soon as SIGTERM arrives")
	fs.DurationVar(&cfg.startDelay, "start-delay", 0, "wait this long before reporting ready")
	fs.DurationVar(&cfg.responseDelay, "response-delay", 0, "delay every response by this much")
	fs.DurationVar(&cfg.terminateAfter, "exit-after", 0, "exit 0 on its own after this long (0: never)")
	fs.StringVar(&cfg.name, "name", "", "name to answer with (default: $POD_NAME, else the hostname)")
	if err := fs.Parse(os.Args[1:]); err != nil {
		os.Exit(2)
	}
	if cfg.name == "" {
		cfg.name = os.Getenv("POD_NAME")
	}
	if cfg.name == "" {
		cfg.name, _ = os.Hostname()
	}
	switch cfg.onSIGTERM {
	case "drain", "exit", "ignore", "code":
	default:
		fmt.Fprintf(os.Stderr, "app: --on-sigterm must be drain, exit, ignore or code, not %q\n", cfg.onSIGTERM)
		os.Exit(2)
	}
	// Subscribe before listening so that a SIGTERM arriving at any point after the pod is ready
	// gets the configured behaviour rather than Go's default (exit 2).
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		fmt.Fprintf(os.Stderr, "app: listen: %v\n", err)
		os.Exit(1)
	}
	os.Exit(run(cfg, ln, sigs))
}

// run serves on ln until the SIGTERM behaviour says to stop and returns the exit code.
func run(cfg config, ln net.Listener, sigs <-chan os.Signal) int {
	logger := log.New(cfg.logWriter, "app: ", log.LstdFlags|log.Lmicroseconds)

	var ready, terminating atomic.Bool
	mux := http.NewServeMux()
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {
		if !ready.Load() || (cfg.unreadyOnTerm && terminating.Load()) {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if cfg.responseDelay > 0 {
			time.Sleep(cfg.responseDelay)
		}
		// Tell keep-alive clients to reconnect once terminating, the way a draining server should.
		if terminating.Load() {
			w.Header().Set("Connection", "close")
		}
		fmt.Fprintln(w, cfg.name)
	})

	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	logger.Printf("%s serving on %s, on SIGTERM: %s", cfg.name, ln.Addr(), cfg.onSIGTERM)

	go func() {
		time.Sleep(cfg.startDelay)
		ready.Store(true)
	}()
	var selfExit <-chan time.Time
	if cfg.terminateAfter > 0 {
		selfExit = time.After(cfg.terminateAfter)
	}

	for {
		select {
		case err := <-served:
			logger.Printf("server stopped: %v", err)
			return 1
		case <-selfExit:
			logger.Printf("exiting on my own after %s", cfg.terminateAfter)
			return 0
		case sig := <-sigs:
			logger.Printf("received %s", sig)
			terminating.Store(true)
			switch cfg.onSIGTERM {
			case "ignore":
				logger.Printf("ignoring it")
				continue
			case "exit":
				return 0
			case "code":
				return cfg.exitCode
			case "drain":
				logger.Printf("draining for %s", cfg.drain)
				time.Sleep(cfg.drain)
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				defer cancel()
				if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
					logger.Printf("shutdown: %v", err)
				}
				logger.Printf("drained, exiting 0")
				return 0
			}
		}
	}
}
