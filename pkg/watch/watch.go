// Package watch turns a live cluster into stamped timeline.Delta values for exactly the pods a
// user named: it resolves the target the way kubectl does, checks permissions, runs trimmed
// informers scoped by namespace and server-side selectors, and merges their events into one
// ordered stream. It also tells when a rollout or a drain is over (--until-done).
package watch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"

	"github.com/drainwatch/kubectl-drainwatch/pkg/timeline"
)

// Defaults for Options.
const (
	DefaultSyncTimeout      = time.Minute
	DefaultCheckTimeout     = 30 * time.Second
	DefaultProgressInterval = time.Second
	// MaxListFailures is how many failed lists of one resource end the start-up.
	MaxListFailures = 3
)

// Options tune a Watcher. The zero value works.
type Options struct {
	// Clock stamps deltas with their receive time; time.Now when nil.
	Clock func() time.Time
	// Progress, if set, receives one-line status messages while the caches fill
	// ("syncing pods 1200, events 300 (2s)").
	Progress func(string)
	// Warn, if set, receives warnings as they happen: resources that cannot be watched, lost
	// connections and broken watches being retried (at most one a minute per resource).
	// Warnings also collects them.
	Warn func(string)
	// SyncTimeout bounds the initial list of every informer; DefaultSyncTimeout when zero.
	SyncTimeout time.Duration
	// CheckTimeout bounds the permission check; the rest config's Timeout
	// (--request-timeout), else DefaultCheckTimeout.
	CheckTimeout time.Duration
	// ProgressInterval is how often Progress is called while syncing; DefaultProgressInterval
	// when zero.
	ProgressInterval time.Duration
	// OnWatchError, if set, is called for every broken watch after the caches synced (the
	// informer relists), warned about or not.
	OnWatchError func()
}

// Watcher follows one Target. Create it with New (or NewForClient), call Start once, then
// Take deltas whenever Wake fires, until the context given to Start ends.
type Watcher struct {
	client kubernetes.Interface
	target *Target
	opts   Options
	server string

	stream *stream
	// stopped is closed once the informers have stopped: nothing is pushed after it.
	stopped chan struct{}

	conn *connWatch // nil for NewForClient

	// stop ends everything Start began; cancelling the caller's context does the same.
	stop context.CancelFunc

	mu       sync.Mutex
	partial  []string
	warnings []string
	warned   map[string]time.Time
}

// New returns a Watcher for target that talks to the API server of config. Built-in types are
// read as protobuf, pods and EndpointSlices trimmed before they are decoded (trimWire). Informer requests carry no client timeout (a watch is long by design); the
// permission check is bounded by config.Timeout (--request-timeout) instead.
func New(config *rest.Config, target *Target, opts Options) (*Watcher, error) {
	cfg := rest.CopyConfig(config)
	cfg.ContentType = "application/vnd.kubernetes.protobuf"
	cfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	if opts.CheckTimeout == 0 && cfg.Timeout > 0 {
		opts.CheckTimeout = cfg.Timeout
	}
	cfg.Timeout = 0
	if cfg.QPS == 0 {
		// client-go's default (5/s, burst 10) would queue the access reviews and the first
		// lists behind each other for no benefit.
		cfg.QPS, cfg.Burst = 50, 100
	}
	conn := &connWatch{server: config.Host}
	cfg.Wrap(conn.wrap)
	cfg.Wrap(trimWire)
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, classify(err, config.Host)
	}
	w := NewForClient(client, target, opts)
	w.server, w.conn = config.Host, conn
	return w, nil
}

// NewForClient returns a Watcher that uses client (tests pass a fake clientset).
func NewForClient(client kubernetes.Interface, target *Target, opts Options) *Watcher {
	if opts.Clock == nil {
		// UTC without the monotonic reading: a replayed recording gives exactly the same times.
		opts.Clock = func() time.Time { return time.Now().UTC().Round(0) }
	}
	if opts.SyncTimeout <= 0 {
		opts.SyncTimeout = DefaultSyncTimeout
	}
	if opts.CheckTimeout <= 0 {
		opts.CheckTimeout = DefaultCheckTimeout
	}
	if opts.ProgressInterval <= 0 {
		opts.ProgressInterval = DefaultProgressInterval
	}
	return &Watcher{
		client:  client,
		target:  target,
		opts:    opts,
		stream:  newStream(opts.Clock, newDoneTracker(target)),
		stopped: make(chan struct{}),
		warned:  map[string]time.Time{},
	}
}

// Wake receives a value when deltas were queued, or the target finished, since the last Take;
// one value may stand for many deltas, and a Take may find nothing.
func (w *Watcher) Wake() <-chan struct{} { return w.stream.wake }

// Take returns the stamped deltas queued since the last Take, in stream order: what arrived
// while the caller was busy (one delta when it keeps up). The batch is the caller's until its
// next Take, which reuses the array. One goroutine takes.
func (w *Watcher) Take() []timeline.Delta { return w.stream.take() }

// Done is closed when the target has finished: a Deployment's or StatefulSet's rollout completed
// (one that was in progress while watching: an already rolled-out one waits for its next), a
// node drained (cordoned, only DaemonSet and mirror pods left), a pod removed. It closes in
// stream order, by the Take that returns the last delta before it (so only while someone takes);
// the deltas after it come with the next Take, for a caller that goes on watching.
// It never closes for targets where Target.CanFinish is false.
func (w *Watcher) Done() <-chan struct{} { return w.stream.done }

// Stopped is closed once every informer has stopped after the context given to Start ended (or
// when Start fails): nothing is queued after it.
func (w *Watcher) Stopped() <-chan struct{} { return w.stopped }

// Partial names the resources that cannot be watched (PartialEvents, PartialEndpointSlices),
// for timeline.Config.Partial. Valid after Start returns.
func (w *Watcher) Partial() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.partial...)
}

// Warnings returns every warning so far, for timeline.Summary.Warnings.
func (w *Watcher) Warnings() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.warnings...)
}

// informer is one running informer and what Start needs to report on it.
type informer struct {
	name     string
	optional string // the Partial name when it may be dropped ("" for required or untracked)
	required bool
	inf      cache.SharedIndexInformer
	factory  informers.SharedInformerFactory
	reg      cache.ResourceEventHandlerRegistration
	stop     context.CancelFunc
	listed   atomic.Int64 // objects of the initial list delivered so far
	lastErr  atomic.Pointer[error]
	denied   atomic.Pointer[error] // 401/403, or MaxListFailures errors, before the first sync
	failures atomic.Int32          // errors before the first sync
	isSynced atomic.Bool
	dropped  bool
}

// Start checks permissions, starts the informers and waits until each has delivered its
// initial list (those deltas are then queued for Take; pods already terminating arrive as
// ADDED with a deletionTimestamp). It returns an error worded for the user when pods cannot
// be watched or the caches do not fill within SyncTimeout. Everything stops when ctx ends.
// Call it once.
func (w *Watcher) Start(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	w.stop = cancel
	checkCtx, cancelCheck := context.WithTimeout(ctx, w.opts.CheckTimeout)
	acc, err := checkAccess(checkCtx, w.client, w.target, w.server)
	cancelCheck()
	if err != nil {
		cancel()
		close(w.stopped)
		return err
	}
	w.mu.Lock()
	w.partial = acc.partial
	w.mu.Unlock()
	for _, msg := range acc.warnings {
		w.warn(msg)
	}

	infs := w.informers(acc)
	for _, in := range infs {
		// Each informer has its own context so one that turns out to be forbidden can be
		// stopped alone.
		ictx, stop := context.WithCancel(ctx)
		in.stop = stop
		in.factory.Start(ictx.Done())
	}
	go func() {
		<-ctx.Done()
		for _, in := range infs {
			in.stop()
			in.factory.Shutdown() // waits for the handlers: nothing is pushed after this
		}
		close(w.stopped)
	}()

	if err := w.waitForSync(ctx, infs); err != nil {
		cancel()
		return err
	}
	w.stream.synced()
	if w.conn != nil {
		w.conn.enable(w.warn)
	}
	return nil
}

// informers builds one factory per scope: a factory applies one set of list options to all
// its informers, and every resource here needs its own selectors.
func (w *Watcher) informers(acc *access) []*informer {
	t := w.target
	newFactory := func(c kubernetes.Interface, s Scope) informers.SharedInformerFactory {
		return informers.NewSharedInformerFactoryWithOptions(c, 0,
			informers.WithNamespace(s.Namespace), informers.WithTweakListOptions(s.tweak))
	}
	factory := func(s Scope) informers.SharedInformerFactory { return newFactory(w.client, s) }
	var infs []*informer
	add := func(name string, f informers.SharedInformerFactory, inf cache.SharedIndexInformer) {
		in := &informer{name: name, inf: inf, factory: f, required: name == "pods"}
		switch name {
		case "events":
			in.optional = PartialEvents
		case "endpointslices":
			in.optional = PartialEndpointSlices
		}
		// Setters fail only on a started informer; these are fresh.
		_ = inf.SetTransform(trim)
		_ = inf.SetWatchErrorHandlerWithContext(func(ctx context.Context, r *cache.Reflector, err error) {
			cache.DefaultWatchErrorHandler(ctx, r, err)
			w.watchError(in, err)
		})
		in.reg, _ = inf.AddEventHandler(w.handler(in))
		infs = append(infs, in)
	}

	f := factory(t.Pods)
	add("pods", f, f.Core().V1().Pods().Informer())
	if acc.allowed("events") {
		f := newFactory(listThenWatch{w.client}, withoutCommonEvents(t.Events))
		add("events", f, f.Core().V1().Events().Informer())
	}
	if acc.allowed("endpointslices.discovery.k8s.io") {
		f := factory(t.Slices)
		add("endpointslices", f, f.Discovery().V1().EndpointSlices().Informer())
	}
	if t.ReplicaSets != nil && acc.allowed("replicasets.apps") {
		f := factory(*t.ReplicaSets)
		add("replicasets", f, f.Apps().V1().ReplicaSets().Informer())
	}
	if t.Node != "" && acc.allowed("nodes") {
		f := factory(Scope{FieldSelector: nameField(t.Node)})
		add("nodes", f, f.Core().V1().Nodes().Informer())
	}
	if t.Node != "" && acc.allowed("events") {
		// Events about the node itself: Karpenter's and cluster-autoscaler's drain Events, kubelet's.
		f := newFactory(listThenWatch{w.client}, Scope{}.and("involvedObject.kind", "Node").and("involvedObject.name", t.Node))
		add("events", f, f.Core().V1().Events().Informer())
	}
	if t.Node != "" && acc.allowed("poddisruptionbudgets.policy") {
		// What can hold a drain up (the engine reports blockers on cordoned nodes only).
		f := factory(Scope{Namespace: t.Pods.Namespace})
		add("poddisruptionbudgets", f, f.Policy().V1().PodDisruptionBudgets().Informer())
	}
	if k, _ := kindOf(t.Kind); k.rollout && acc.allowed(k.resource+"."+k.group) {
		f := factory(Scope{Namespace: t.Namespace, FieldSelector: nameField(t.Name)})
		add(k.resource, f, k.informer(f))
	}
	return infs
}

// commonPodEvents are the reasons of the Events every pod start brings (the scheduler's, and
// kubelet's for each container): most of a busy namespace's Events, and none read by the
// timeline.
var commonPodEvents = []string{"Scheduled", "Pulling", "Pulled", "Created", "Started"}

// withoutCommonEvents narrows a scope of Events about pods so the API server leaves out the
// common reasons. A field selector cannot say "one of" the reasons the timeline reads, and one
// informer per reason costs the API server a list and a watch each: the API server keeps no
// watch cache for Events, so each list reads every Event of the namespace from etcd (with nine,
// start-up on a namespace of 10,000 pods and 5,800 Events took 1.2-3.0 s, with one 0.8-1.0 s).
// The few other Events that come are kept as keys only and make no delta (trimEvent, emit).
func withoutCommonEvents(s Scope) Scope {
	for _, reason := range commonPodEvents {
		s = s.with("reason!=" + fields.EscapeValue(reason))
	}
	return s
}

// PodEventsSelector is the field selector the Events informer uses for a namespace or the
// whole cluster (the scale rig's floor informer asks for the same).
func PodEventsSelector() string {
	return withoutCommonEvents(podEvents("", "")).FieldSelector
}

// listThenWatch makes the Events informers list and then watch, rather than stream their
// initial list over a watch (client-go's watch-list, which the other informers keep). A streamed
// list ends only with a bookmark from the API server, and under load that bookmark comes seconds
// late for a watch as selective as Events with one reason: during a 5,000-pod rollout
// drainwatch took 6.8–15.6 s to sync with watch-list everywhere and 4.1–6.8 s without it for
// Events. (Without it for pods too, start-up was faster still, but the pod informer then cost
// more CPU over a rollout.)
type listThenWatch struct{ kubernetes.Interface }

func (listThenWatch) IsWatchListSemanticsUnSupported() bool { return true }

// handler turns informer notifications into deltas.
func (w *Watcher) handler(in *informer) cache.ResourceEventHandler {
	return cache.ResourceEventHandlerDetailedFuncs{
		AddFunc: func(obj any, isInInitialList bool) {
			if isInInitialList {
				in.listed.Add(1)
			}
			w.emit(in, timeline.Delta{Type: timeline.Added}, obj)
		},
		UpdateFunc: func(oldObj, newObj any) {
			if unchanged(oldObj, newObj) {
				return // a relist or a change to dropped fields: nothing new for the timeline
			}
			w.emit(in, timeline.Delta{Type: timeline.Modified}, newObj)
		},
		DeleteFunc: func(obj any) {
			d := timeline.Delta{Type: timeline.Deleted}
			// A delete missed while the watch was down arrives after the relist as a tombstone
			// holding the last state this informer saw, not the final one.
			if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj, d.FinalStateUnknown = tomb.Obj, true
			}
			w.emit(in, d, obj)
		},
	}
}

// emit pushes d carrying obj.
func (w *Watcher) emit(in *informer, d timeline.Delta, obj any) {
	switch o := obj.(type) {
	case *corev1.Pod:
		d.Pod = o
	case *discoveryv1.EndpointSlice:
		d.Slice = o
	case *corev1.Event:
		if unreadEvent(o) {
			return
		}
		d.Event = o
	case *appsv1.ReplicaSet:
		d.ReplicaSet = o
	case *corev1.Node:
		d.Node = o
	case *policyv1.PodDisruptionBudget:
		d.PDB = o
	case *appsv1.Deployment:
		// The done check reads it, and the engine's scale-down initiator.
		w.stream.workload(o, d.Type == timeline.Deleted)
		d.Deployment = o
	case *appsv1.StatefulSet:
		w.stream.workload(o, d.Type == timeline.Deleted)
		return
	default:
		w.warn(fmt.Sprintf("ignored an unexpected %T from the %s informer", obj, in.name))
		return
	}
	w.stream.push(d)
}

// waitForSync waits until every handler has received its informer's initial list, reporting
// progress, and fails after SyncTimeout naming what did not sync and the last error seen.
func (w *Watcher) waitForSync(ctx context.Context, infs []*informer) error {
	start := time.Now()
	deadline := time.NewTimer(w.opts.SyncTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(w.opts.ProgressInterval)
	defer tick.Stop()
	poll := time.NewTicker(10 * time.Millisecond)
	defer poll.Stop()
	for {
		pending := 0
		for _, in := range infs {
			if in.dropped {
				continue
			}
			if !in.isSynced.Load() && in.reg.HasSynced() {
				in.isSynced.Store(true)
			}
			if in.isSynced.Load() {
				continue
			}
			if p := in.denied.Load(); p != nil {
				if in.required {
					if apierrors.IsForbidden(*p) {
						return rbacError(ctx, w.client, w.target, ErrorMessage(*p, w.server))
					}
					return classify(*p, w.server)
				}
				// The permission check could not tell (or was wrong): go on without it.
				in.stop()
				in.dropped = true
				w.drop(in, *p)
				continue
			}
			pending++
		}
		if pending == 0 {
			w.progress(fmt.Sprintf("synced %s in %s", counts(infs, false), time.Since(start).Round(time.Millisecond)))
			return nil
		}
		select {
		case <-poll.C:
		case <-tick.C:
			last := ""
			for _, in := range infs {
				if e := in.lastErr.Load(); e != nil && !in.dropped && !in.isSynced.Load() {
					last = fmt.Sprintf("; listing %s failed, retrying: %s", in.name, ErrorMessage(*e, w.server))
					break
				}
			}
			w.progress(fmt.Sprintf("syncing %s (%s)%s", counts(infs, true), time.Since(start).Round(time.Second), last))
		case <-deadline.C:
			return w.syncError(infs, fmt.Sprintf("timed out after %s", w.opts.SyncTimeout))
		case <-ctx.Done():
			return w.syncError(infs, "interrupted")
		}
	}
}

// drop records an optional informer that was stopped because it is not allowed, warning once
// per resource (the Events informers share one name).
func (w *Watcher) drop(in *informer, err error) {
	w.mu.Lock()
	// Only an optional resource has more than one informer (Events about pods and, for a
	// node, about the node).
	first := in.optional == "" || !slices.Contains(w.partial, in.optional)
	if in.optional != "" && first {
		w.partial = append(w.partial, in.optional)
	}
	w.mu.Unlock()
	if first {
		w.warn(fmt.Sprintf("not watching %s: %s", in.name, ErrorMessage(err, w.server)))
	}
}

// counts tells how many objects each resource listed so far, one figure per name.
func counts(infs []*informer, pendingMark bool) string {
	var names []string
	listed := map[string]int64{}
	pending := map[string]bool{}
	for _, in := range infs {
		if in.dropped || in.name == "deployments" || in.name == "statefulsets" || in.name == "nodes" || in.name == "poddisruptionbudgets" {
			continue // one object each, or a few: not worth a count
		}
		if _, seen := listed[in.name]; !seen {
			names = append(names, in.name)
		}
		listed[in.name] += in.listed.Load()
		pending[in.name] = pending[in.name] || !in.isSynced.Load()
	}
	parts := make([]string, 0, len(names))
	for _, name := range names {
		s := fmt.Sprintf("%s %d", name, listed[name])
		if pendingMark && pending[name] {
			s += "..."
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

func (w *Watcher) syncError(infs []*informer, why string) error {
	var names []string
	var cause error
	for _, in := range infs {
		if in.dropped || in.isSynced.Load() {
			continue
		}
		if !slices.Contains(names, in.name) {
			names = append(names, in.name)
		}
		if p := in.lastErr.Load(); p != nil && cause == nil {
			cause = *p
		}
	}
	msg := fmt.Sprintf("%s waiting for %s to sync", why, strings.Join(names, ", "))
	if cause != nil {
		msg += ": " + ErrorMessage(cause, w.server)
	} else {
		msg += " (received " + counts(infs, false) + "); a large cluster may need a longer timeout"
	}
	return &Error{Msg: msg, Err: cause}
}

// watchError records a broken list or watch. Expired watches and closed connections are routine
// (the informer relists or rewatches); anything else is a gap in what the timeline sees, so
// it is reported, at most once a minute per informer.
func (w *Watcher) watchError(in *informer, err error) {
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) || apierrors.IsResourceExpired(err) || apierrors.IsGone(err) {
		return
	}
	in.lastErr.Store(&err)
	if !in.isSynced.Load() {
		// Retrying will not help a 401/403; a list that keeps failing (500, 404, a proxy's
		// error page) is reported after MaxListFailures tries (client-go backs off 0.8 s, 1.6 s...).
		if apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err) || in.failures.Add(1) >= MaxListFailures {
			in.denied.Store(&err)
		}
		return // waitForSync reports it
	}
	if w.opts.OnWatchError != nil {
		w.opts.OnWatchError()
	}
	w.mu.Lock()
	now := time.Now()
	last, seen := w.warned[in.name]
	if seen && now.Sub(last) < time.Minute {
		w.mu.Unlock()
		return
	}
	w.warned[in.name] = now
	w.mu.Unlock()
	w.warn(fmt.Sprintf("watching %s failed, retrying (changes meanwhile are seen only after the relist): %s", in.name, ErrorMessage(err, w.server)))
}

func (w *Watcher) warn(msg string) {
	w.mu.Lock()
	w.warnings = append(w.warnings, msg)
	w.mu.Unlock()
	if w.opts.Warn != nil {
		w.opts.Warn(msg)
	}
}

func (w *Watcher) progress(msg string) {
	if w.opts.Progress != nil {
		w.opts.Progress(msg)
	}
}
