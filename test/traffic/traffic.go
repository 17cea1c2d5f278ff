// Package traffic is the ground truth of the end-to-end tests: it sends steady HTTP requests to
// a Service's pods the way a load balancer does and counts, per pod, the requests that failed.
//
// Endpoint mode follows the Service's EndpointSlices like an external load balancer: it sends
// only to ready endpoints, and it learns of every change PropagationDelay after the API server
// shows it. Load balancers and kube-proxy lag the API; drainwatch's default drain budget of 5s
// is the allowance for that lag, so the delay here (3s by default) stays below it. A pod that
// stops serving before the delay has passed therefore loses requests, as it would behind a real
// load balancer. ClusterIP mode additionally sends through the Service's ClusterIP, i.e. through
// kube-proxy's iptables rules on this machine.
//
// Requests only ever go to addresses inside Config.Allowed (by default the local test
// cluster's pod and service ranges), and the generator stops on its own after MaxDuration or
// MaxRequests.
package traffic

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// Defaults of Config.
const (
	DefaultInterval = 25 * time.Millisecond
	// DefaultPropagationDelay is slower than kube-proxy on an idle machine and still below
	// drainwatch's default drain budget (5s, judged with a 0.5s tolerance): a pod that stops
	// serving sooner than this after its endpoint turns not ready loses requests here, and
	// drainwatch must flag it.
	DefaultPropagationDelay = 3 * time.Second
	DefaultTimeout          = 500 * time.Millisecond
	DefaultMaxDuration      = 5 * time.Minute
	DefaultMaxRequests      = 50000
	maxInFlight             = 64
)

// DefaultAllowed returns the address ranges of the local test cluster: its pod subnets, its
// Service ClusterIPs and loopback.
func DefaultAllowed() []netip.Prefix {
	return []netip.Prefix{
		netip.MustParsePrefix("10.244.0.0/16"),
		netip.MustParsePrefix("10.96.0.0/16"),
		netip.MustParsePrefix("127.0.0.0/8"),
	}
}

// Config says where to send requests and how.
type Config struct {
	Client    kubernetes.Interface
	Namespace string
	// Service is the Service whose EndpointSlices are followed.
	Service string
	// PortName selects the endpoint port by name; empty takes the slice's first port.
	PortName string
	// ClusterIP also sends every tick through the Service's ClusterIP and first port.
	ClusterIP bool
	// Path of the requests (default "/"). The test app answers it with its pod name.
	Path string
	// Interval between two ticks; each tick sends one request to the next ready endpoint (round
	// robin) and, with ClusterIP, one through the ClusterIP.
	Interval time.Duration
	// PropagationDelay is how long after the API shows an EndpointSlice change the generator
	// acts on it.
	PropagationDelay time.Duration
	// Timeout of one request; a request that takes longer failed.
	Timeout     time.Duration
	MaxDuration time.Duration
	MaxRequests int
	// Allowed are the address ranges requests may go to (default: DefaultAllowed).
	Allowed []netip.Prefix
}

// PodStats counts the requests a load balancer sent to one pod.
type PodStats struct {
	Pod    string `json:"pod"`
	OK     int    `json:"ok"`
	Failed int    `json:"failed"`
	// FirstFailure and LastFailure bound the failures (zero when there were none).
	FirstFailure time.Time `json:"firstFailure,omitzero"`
	LastFailure  time.Time `json:"lastFailure,omitzero"`
	// Errors counts failures by kind ("connection refused", "timeout", "HTTP 503", ...).
	Errors map[string]int `json:"errors,omitempty"`
}

// ClusterIPStats counts the requests sent through the ClusterIP. Failures cannot be pinned on a
// pod (kube-proxy chose it); successes are counted by the pod that answered.
type ClusterIPStats struct {
	OK         int            `json:"ok"`
	Failed     int            `json:"failed"`
	Errors     map[string]int `json:"errors,omitempty"`
	AnsweredBy map[string]int `json:"answeredBy,omitempty"`
}

// Result is what the generator saw.
type Result struct {
	// PropagationDelay is the delay the generator ran with.
	PropagationDelay time.Duration        `json:"propagationDelay"`
	Start            time.Time            `json:"start"`
	End              time.Time            `json:"end"`
	Requests         int                  `json:"requests"`
	Pods             map[string]*PodStats `json:"pods"`
	// Skipped counts ticks with no ready endpoint known.
	Skipped   int            `json:"skipped"`
	ClusterIP ClusterIPStats `json:"clusterIP"`
	// Refused lists addresses the generator would not send to (outside Config.Allowed).
	Refused []string `json:"refused,omitempty"`
}

// Failed returns the number of failed endpoint-mode requests to pod.
func (r Result) Failed(pod string) int {
	if s := r.Pods[pod]; s != nil {
		return s.Failed
	}
	return 0
}

// TotalFailed returns the failed endpoint-mode requests over all pods.
func (r Result) TotalFailed() int {
	n := 0
	for _, s := range r.Pods {
		n += s.Failed
	}
	return n
}

// String summarizes the result in one line per pod.
func (r Result) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d requests in %s (propagation delay %s), %d ticks without a ready endpoint\n", r.Requests, r.End.Sub(r.Start).Round(time.Millisecond), r.PropagationDelay, r.Skipped)
	names := make([]string, 0, len(r.Pods))
	for n := range r.Pods {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		s := r.Pods[n]
		fmt.Fprintf(&b, "  pod %s: %d ok, %d failed", n, s.OK, s.Failed)
		if s.Failed > 0 {
			fmt.Fprintf(&b, " (%s .. %s) %v", s.FirstFailure.Format("15:04:05.000"), s.LastFailure.Format("15:04:05.000"), s.Errors)
		}
		b.WriteString("\n")
	}
	if r.ClusterIP.OK+r.ClusterIP.Failed > 0 {
		fmt.Fprintf(&b, "  clusterIP: %d ok, %d failed %v, answered by %v\n", r.ClusterIP.OK, r.ClusterIP.Failed, r.ClusterIP.Errors, r.ClusterIP.AnsweredBy)
	}
	if len(r.Refused) > 0 {
		fmt.Fprintf(&b, "  refused non-local addresses: %v\n", r.Refused)
	}
	return b.String()
}

// endpoint is one ready address of a Service, as the load balancer knows it.
type endpoint struct {
	pod  string
	addr string // ip:port
}

// update is an EndpointSlice change waiting for its propagation delay.
type update struct {
	at        time.Time
	slice     string
	endpoints []endpoint // nil: slice deleted
}

// Generator sends the requests. Create it with Start, end it with Stop.
type Generator struct {
	cfg    Config
	cancel context.CancelFunc
	done   chan struct{}
	client *http.Client

	// listed is set once the initial list of slices was received.
	listed atomic.Bool

	mu      sync.Mutex
	pending []update
	result  Result
	wg      sync.WaitGroup
}

// Start begins following the Service's EndpointSlices and sending requests. It returns once the
// slices are listed.
func Start(ctx context.Context, cfg Config) (*Generator, error) {
	if cfg.Client == nil || cfg.Namespace == "" || cfg.Service == "" {
		return nil, errors.New("traffic: Client, Namespace and Service are required")
	}
	if cfg.Path == "" {
		cfg.Path = "/"
	}
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.PropagationDelay < 0 {
		cfg.PropagationDelay = 0
	} else if cfg.PropagationDelay == 0 {
		cfg.PropagationDelay = DefaultPropagationDelay
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
	if len(cfg.Allowed) == 0 {
		cfg.Allowed = DefaultAllowed()
	}

	ctx, cancel := context.WithTimeout(ctx, cfg.MaxDuration)
	g := &Generator{
		cfg:    cfg,
		cancel: cancel,
		done:   make(chan struct{}),
		// A fresh connection per request, as an L4 load balancer or kube-proxy would route each
		// new connection anew.
		client: &http.Client{
			Timeout: cfg.Timeout,
			Transport: &http.Transport{
				DisableKeepAlives: true,
				Proxy:             nil,
				DialContext:       (&net.Dialer{Timeout: cfg.Timeout}).DialContext,
			},
		},
		result: Result{Pods: map[string]*PodStats{}, PropagationDelay: cfg.PropagationDelay},
	}

	factory := informers.NewSharedInformerFactoryWithOptions(cfg.Client, 0,
		informers.WithNamespace(cfg.Namespace),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.LabelSelector = discoveryv1.LabelServiceName + "=" + cfg.Service
		}))
	inf := factory.Discovery().V1().EndpointSlices().Informer()
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { g.sliceChanged(obj, false) },
		UpdateFunc: func(_, obj any) { g.sliceChanged(obj, false) },
		DeleteFunc: func(obj any) { g.sliceChanged(obj, true) },
	}); err != nil {
		cancel()
		return nil, fmt.Errorf("traffic: watch EndpointSlices: %w", err)
	}
	factory.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		cancel()
		factory.Shutdown()
		return nil, fmt.Errorf("traffic: EndpointSlices of %s/%s did not sync", cfg.Namespace, cfg.Service)
	}

	g.listed.Store(true)

	var clusterIP string
	if cfg.ClusterIP {
		svc, err := cfg.Client.CoreV1().Services(cfg.Namespace).Get(ctx, cfg.Service, metav1.GetOptions{})
		if err != nil {
			cancel()
			factory.Shutdown()
			return nil, fmt.Errorf("traffic: get Service: %w", err)
		}
		if svc.Spec.ClusterIP == "" || svc.Spec.ClusterIP == corev1.ClusterIPNone || len(svc.Spec.Ports) == 0 {
			cancel()
			factory.Shutdown()
			return nil, fmt.Errorf("traffic: Service %s/%s has no ClusterIP and port", cfg.Namespace, cfg.Service)
		}
		clusterIP = net.JoinHostPort(svc.Spec.ClusterIP, strconv.Itoa(int(svc.Spec.Ports[0].Port)))
	}

	g.result.Start = time.Now()
	go func() {
		g.loop(ctx, clusterIP)
		g.wg.Wait()
		// The informers stop only once the context ends, also when the request budget ended
		// the loop.
		cancel()
		factory.Shutdown()
		close(g.done)
	}()
	return g, nil
}

// Stop ends the generator, waits for requests in flight and returns what it saw.
func (g *Generator) Stop() Result {
	g.cancel()
	<-g.done
	g.mu.Lock()
	defer g.mu.Unlock()
	g.result.End = time.Now()
	return g.result
}

// sliceChanged queues the slice's ready endpoints for when the load balancer would learn of them.
func (g *Generator) sliceChanged(obj any, deleted bool) {
	if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tomb.Obj
	}
	s, ok := obj.(*discoveryv1.EndpointSlice)
	if !ok {
		return
	}
	// The load balancer already knows the slices that exist when it starts.
	u := update{slice: s.Name}
	if g.listed.Load() {
		at := time.Now()
		if !deleted {
			at = changedBy(s, at)
		}
		u.at = at.Add(g.cfg.PropagationDelay)
	}
	if !deleted {
		u.endpoints = readyEndpoints(s, g.cfg.PortName)
		if u.endpoints == nil {
			u.endpoints = []endpoint{}
		}
	}
	g.mu.Lock()
	g.pending = append(g.pending, u)
	g.mu.Unlock()
}

// changedBy bounds when the API server wrote the slice's latest change: seen, the time the
// generator's watch delivered it, unless the slice's managedFields show the write was earlier
// (the watch was behind, e.g. while it reconnected after an API server outage). Their times
// have second precision, so the end of that second is taken: the load balancer never learns of
// a change sooner than the propagation delay after it was written.
func changedBy(s *discoveryv1.EndpointSlice, seen time.Time) time.Time {
	var latest time.Time
	for _, m := range s.ManagedFields {
		if m.Time != nil && m.Time.After(latest) {
			latest = m.Time.Time
		}
	}
	if latest.IsZero() {
		return seen
	}
	if end := latest.Truncate(time.Second).Add(time.Second); end.Before(seen) {
		return end
	}
	return seen
}

// readyEndpoints lists the endpoints a load balancer would send to: ready (nil means ready),
// with a pod behind them.
func readyEndpoints(s *discoveryv1.EndpointSlice, portName string) []endpoint {
	var port int32
	for _, p := range s.Ports {
		if p.Port == nil {
			continue
		}
		if portName == "" || (p.Name != nil && *p.Name == portName) {
			port = *p.Port
			break
		}
	}
	if port == 0 {
		return nil
	}
	var eps []endpoint
	for _, e := range s.Endpoints {
		if e.Conditions.Ready != nil && !*e.Conditions.Ready {
			continue
		}
		if len(e.Addresses) == 0 {
			continue
		}
		pod := e.Addresses[0]
		if e.TargetRef != nil && e.TargetRef.Kind == "Pod" {
			pod = e.TargetRef.Name
		}
		eps = append(eps, endpoint{pod: pod, addr: net.JoinHostPort(e.Addresses[0], strconv.Itoa(int(port)))})
	}
	return eps
}

// loop sends one round of requests per tick until the context ends or the budget is spent.
func (g *Generator) loop(ctx context.Context, clusterIP string) {
	view := map[string][]endpoint{} // slice name -> ready endpoints, as the load balancer knows them
	var next int
	tick := time.NewTicker(g.cfg.Interval)
	defer tick.Stop()
	sem := make(chan struct{}, maxInFlight)
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		now := time.Now()
		g.mu.Lock()
		n := 0
		for _, u := range g.pending {
			if u.at.After(now) {
				break
			}
			if u.endpoints == nil {
				delete(view, u.slice)
			} else {
				view[u.slice] = u.endpoints
			}
			n++
		}
		g.pending = g.pending[n:]
		if g.result.Requests >= g.cfg.MaxRequests {
			g.mu.Unlock()
			return
		}
		g.mu.Unlock()

		var targets []endpoint
		for _, eps := range view {
			targets = append(targets, eps...)
		}
		sort.Slice(targets, func(i, j int) bool { return targets[i].pod < targets[j].pod })
		if len(targets) == 0 {
			g.mu.Lock()
			g.result.Skipped++
			g.mu.Unlock()
		} else {
			next = (next + 1) % len(targets)
			g.send(ctx, sem, targets[next].addr, targets[next].pod)
		}
		if clusterIP != "" {
			g.send(ctx, sem, clusterIP, "")
		}
	}
}

// send makes one request in the background; pod is "" for ClusterIP requests.
func (g *Generator) send(ctx context.Context, sem chan struct{}, addr, pod string) {
	if !g.allowed(addr) {
		g.mu.Lock()
		if len(g.result.Refused) < 10 {
			g.result.Refused = append(g.result.Refused, addr)
		}
		g.mu.Unlock()
		return
	}
	select {
	case sem <- struct{}{}:
	case <-ctx.Done():
		return
	}
	g.mu.Lock()
	g.result.Requests++
	g.mu.Unlock()
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		defer func() { <-sem }()
		at := time.Now()
		answer, err := g.get(addr)
		if err == nil && pod != "" && answer != pod {
			err = fmt.Errorf("answered by %q", answer)
		}
		g.record(pod, at, answer, err)
	}()
}

// get fetches the path from addr and returns the trimmed body (the answering pod's name). It
// deliberately does not use the generator's context: a request in flight when the test stops
// the generator still completes and counts.
func (g *Generator) get(addr string) (string, error) {
	resp, err := g.client.Get("http://" + addr + g.cfg.Path)
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

func (g *Generator) record(pod string, at time.Time, answer string, err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if pod == "" {
		c := &g.result.ClusterIP
		if err != nil {
			c.Failed++
			if c.Errors == nil {
				c.Errors = map[string]int{}
			}
			c.Errors[errorKind(err)]++
			return
		}
		c.OK++
		if c.AnsweredBy == nil {
			c.AnsweredBy = map[string]int{}
		}
		c.AnsweredBy[answer]++
		return
	}
	s := g.result.Pods[pod]
	if s == nil {
		s = &PodStats{Pod: pod}
		g.result.Pods[pod] = s
	}
	if err == nil {
		s.OK++
		return
	}
	s.Failed++
	if s.FirstFailure.IsZero() || at.Before(s.FirstFailure) {
		s.FirstFailure = at
	}
	if at.After(s.LastFailure) {
		s.LastFailure = at
	}
	if s.Errors == nil {
		s.Errors = map[string]int{}
	}
	s.Errors[errorKind(err)]++
}

func (g *Generator) allowed(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	for _, p := range g.cfg.Allowed {
		if p.Contains(ip.Unmap()) {
			return true
		}
	}
	return false
}

// errorKind classifies a failed request for the summary.
func errorKind(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, syscall.EHOSTUNREACH):
		return "host unreachable"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed"
	}
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		msg = msg[i+2:]
	}
	return msg
}
