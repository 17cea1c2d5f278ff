package traffic

// Proxy mode: a steady client of a reverse proxy on this machine (the local cluster's Traefik),
// and the proxy's own JSON access log as the ground truth of which pod each request went to.
// The client only sees what the proxy answered; the access log names the upstream address
// (pod IP and port) of every request, so failures can be pinned on pods.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"time"
)

// Defaults of ProxyConfig.
const (
	DefaultProxyRate = 50
)

// ProxyConfig says where a ProxyClient sends its requests.
type ProxyConfig struct {
	// URL of the proxy's entrypoint, e.g. http://127.0.0.1:18080. Its host must be a loopback
	// address.
	URL string
	// Host is the Host header of the requests (the route's host name).
	Host string
	// Path of the requests (default "/").
	Path string
	// Rate in requests per second (default DefaultProxyRate).
	Rate int
	// Timeout of one request (default DefaultTimeout); a request that takes longer failed.
	Timeout     time.Duration
	MaxDuration time.Duration
	MaxRequests int
}

// ProxyResult is what the client saw of the proxy's answers.
type ProxyResult struct {
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	Requests int       `json:"requests"`
	OK       int       `json:"ok"`
	Failed   int       `json:"failed"`
	// Errors counts failures by kind ("HTTP 502", "timeout", ...).
	Errors map[string]int `json:"errors,omitempty"`
	// AnsweredBy counts the successful answers by the pod name in the body.
	AnsweredBy map[string]int `json:"answeredBy,omitempty"`
}

func (r ProxyResult) String() string {
	b, _ := json.Marshal(r)
	return string(b)
}

// ProxyClient sends requests at a steady rate until Stop, MaxDuration or MaxRequests.
type ProxyClient struct {
	cfg    ProxyConfig
	client *http.Client
	cancel context.CancelFunc
	done   chan struct{}
	wg     sync.WaitGroup
	mu     sync.Mutex
	result ProxyResult
}

// StartProxy starts a ProxyClient. It refuses a URL whose host is not a loopback address.
func StartProxy(ctx context.Context, cfg ProxyConfig) (*ProxyClient, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("proxy URL: %w", err)
	}
	ip, err := netip.ParseAddr(u.Hostname())
	if err != nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("proxy URL %q: the host must be a loopback address", cfg.URL)
	}
	if cfg.Path == "" {
		cfg.Path = "/"
	}
	if cfg.Rate <= 0 {
		cfg.Rate = DefaultProxyRate
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxDuration <= 0 {
		cfg.MaxDuration = DefaultMaxDuration
	}
	if cfg.MaxRequests <= 0 {
		cfg.MaxRequests = DefaultMaxRequests
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.MaxDuration)
	c := &ProxyClient{
		cfg: cfg,
		client: &http.Client{
			Timeout: cfg.Timeout,
			Transport: &http.Transport{
				DialContext:         (&net.Dialer{Timeout: cfg.Timeout}).DialContext,
				MaxIdleConnsPerHost: maxInFlight,
				IdleConnTimeout:     30 * time.Second,
			},
		},
		cancel: cancel,
		done:   make(chan struct{}),
		result: ProxyResult{Start: time.Now()},
	}
	go c.loop(ctx)
	return c, nil
}

// Stop ends the requests, waits for those in flight and returns the result.
func (c *ProxyClient) Stop() ProxyResult {
	c.cancel()
	<-c.done
	c.wg.Wait()
	c.client.CloseIdleConnections()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.result.End = time.Now()
	return c.result
}

func (c *ProxyClient) loop(ctx context.Context) {
	defer close(c.done)
	tick := time.NewTicker(time.Second / time.Duration(c.cfg.Rate))
	defer tick.Stop()
	sem := make(chan struct{}, maxInFlight)
	for sent := 0; sent < c.cfg.MaxRequests; sent++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		c.mu.Lock()
		c.result.Requests++
		c.mu.Unlock()
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			defer func() { <-sem }()
			answer, err := c.get()
			c.record(answer, err)
		}()
	}
}

// get sends one request; like Generator.get it does not use the context, so that a request in
// flight when the client stops still completes and counts.
func (c *ProxyClient) get() (string, error) {
	req, err := http.NewRequest(http.MethodGet, strings.TrimRight(c.cfg.URL, "/")+c.cfg.Path, nil)
	if err != nil {
		return "", err
	}
	req.Host = c.cfg.Host
	resp, err := c.client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1024))
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return strings.TrimSpace(string(body)), nil
}

func (c *ProxyClient) record(answer string, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := &c.result
	if err != nil {
		r.Failed++
		if r.Errors == nil {
			r.Errors = map[string]int{}
		}
		r.Errors[errorKind(err)]++
		return
	}
	r.OK++
	if r.AnsweredBy == nil {
		r.AnsweredBy = map[string]int{}
	}
	r.AnsweredBy[answer]++
}

// AccessLogEntry is one request in Traefik's JSON access log (the fields the tests use).
type AccessLogEntry struct {
	StartUTC    time.Time `json:"StartUTC"`
	RequestHost string    `json:"RequestHost"`
	RequestPath string    `json:"RequestPath"`
	RouterName  string    `json:"RouterName"`
	ServiceName string    `json:"ServiceName"`
	// ServiceAddr is the upstream's host:port (a pod IP and port), ServiceURL its URL; both are
	// empty when the proxy had no upstream to send to.
	ServiceAddr string `json:"ServiceAddr"`
	ServiceURL  string `json:"ServiceURL"`
	// DownstreamStatus is what the client got; OriginStatus what the upstream answered, or the
	// status Traefik answered with itself when it could not reach it (502 for a refused
	// connection), 0 when no upstream was tried.
	DownstreamStatus int `json:"DownstreamStatus"`
	OriginStatus     int `json:"OriginStatus"`
	// Duration in nanoseconds.
	Duration int64 `json:"Duration"`
}

// Failed reports whether the client did not get the upstream's successful answer.
func (e AccessLogEntry) Failed() bool {
	return e.DownstreamStatus < 200 || e.DownstreamStatus >= 400 || e.OriginStatus == 0
}

// Kind classifies the entry like errorKind does a client error.
func (e AccessLogEntry) Kind() string {
	if e.OriginStatus == 0 && e.DownstreamStatus != 0 {
		return fmt.Sprintf("HTTP %d (no answer from upstream)", e.DownstreamStatus)
	}
	return fmt.Sprintf("HTTP %d", e.DownstreamStatus)
}

// ReadAccessLog returns the entries of Traefik's JSON access log at path for which keep is
// true (all when keep is nil). Lines that are not JSON are skipped.
func ReadAccessLog(path string, keep func(AccessLogEntry) bool) ([]AccessLogEntry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []AccessLogEntry
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		var e AccessLogEntry
		if json.Unmarshal(sc.Bytes(), &e) != nil {
			continue
		}
		if keep == nil || keep(e) {
			out = append(out, e)
		}
	}
	return out, sc.Err()
}

// ProxyTruth is the access log's account of one client's requests.
type ProxyTruth struct {
	Entries int `json:"entries"`
	// Pods counts the requests the proxy sent to each pod (by upstream address).
	Pods map[string]*PodStats `json:"pods"`
	// Unattributed counts requests the proxy answered itself (no upstream, e.g. 503 with no
	// server) or sent to an address that is no known pod's.
	Unattributed PodStats `json:"unattributed"`
	// UnknownAddrs lists the upstream addresses that are no known pod's.
	UnknownAddrs []string `json:"unknownAddrs,omitempty"`
}

func (t ProxyTruth) String() string {
	b, _ := json.Marshal(t)
	return string(b)
}

// Failed returns the requests the proxy sent to pod that failed.
func (t ProxyTruth) Failed(pod string) int {
	if s := t.Pods[pod]; s != nil {
		return s.Failed
	}
	return 0
}

// TotalFailed returns every failed request, attributed or not.
func (t ProxyTruth) TotalFailed() int {
	n := t.Unattributed.Failed
	for _, s := range t.Pods {
		n += s.Failed
	}
	return n
}

// Attribute counts the entries per pod; podOf maps an upstream IP to a pod name ("" when
// unknown).
func Attribute(entries []AccessLogEntry, podOf func(ip string) string) ProxyTruth {
	t := ProxyTruth{Entries: len(entries), Pods: map[string]*PodStats{}, Unattributed: PodStats{Pod: ""}}
	unknown := map[string]bool{}
	for _, e := range entries {
		s := &t.Unattributed
		if e.ServiceAddr != "" {
			host, _, err := net.SplitHostPort(e.ServiceAddr)
			if err != nil {
				host = e.ServiceAddr
			}
			if pod := podOf(host); pod != "" {
				if t.Pods[pod] == nil {
					t.Pods[pod] = &PodStats{Pod: pod}
				}
				s = t.Pods[pod]
			} else {
				unknown[e.ServiceAddr] = true
			}
		}
		if !e.Failed() {
			s.OK++
			continue
		}
		s.Failed++
		if s.FirstFailure.IsZero() || e.StartUTC.Before(s.FirstFailure) {
			s.FirstFailure = e.StartUTC
		}
		if e.StartUTC.After(s.LastFailure) {
			s.LastFailure = e.StartUTC
		}
		if s.Errors == nil {
			s.Errors = map[string]int{}
		}
		s.Errors[e.Kind()]++
	}
	for a := range unknown {
		t.UnknownAddrs = append(t.UnknownAddrs, a)
	}
	sort.Strings(t.UnknownAddrs)
	return t
}
