// Package timeline correlates stamped deltas of Pods, EndpointSlices and Events into one
// termination timeline per pod, with a verdict and findings. It is pure: no client-go, no
// goroutines, no wall clock; the same deltas always give the same timelines.
package timeline

import (
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/drainwatch/kubectl-drainwatch/pkg/textutil"
)

// DefaultDrainBudget is the time load balancers and kube-proxy are given to stop sending traffic
// to an endpoint after the EndpointSlice marks it not ready.
const DefaultDrainBudget = 5 * time.Second

// Limits on what is buffered for pods not yet seen or not yet terminating.
const (
	maxPendingPerPod = 16
	maxPendingPods   = 20000
)

// Config tunes the engine.
type Config struct {
	// DrainBudget defaults to DefaultDrainBudget.
	DrainBudget time.Duration
	// Budgets are drain budgets per Service (namespace/name, or */name for a name in any
	// namespace), from the flag or the traffic path; a pod is judged against the largest of
	// its Services', else DrainBudget.
	Budgets map[string]Budget
	// Paths are what routes traffic to each Service (namespace/name): the Summary shows them;
	// PathGaps what the traffic-path discovery could not look at.
	Paths    map[string][]PathEntry
	PathGaps []string
	// Forget drops each timeline once it is returned, for a watch that never ends (serve):
	// Snapshot and the final Summary then cover only terminations still open, and
	// recommendations are not made.
	Forget bool
	// SummaryOnly keeps of each finished timeline only what the Summary and the recommendations
	// read, for outputs that print a timeline once, when it finishes (JSON, text): Snapshot then
	// shows finished timelines without their marks, containers and findings. A finished
	// timeline then keeps half the memory (BenchmarkRetainedPerTimeline).
	SummaryOnly bool
	// Partial names resources that could not be watched ("events", "endpointslices"); timelines
	// and findings that depend on them are marked partial.
	Partial []string
}

// Snapshot is the state of every termination seen so far, for live displays.
type Snapshot struct {
	// Time is the time of the latest delta.
	Time time.Time
	// Pods are all pods that began terminating, in order of their deletion request. Live ones
	// have State terminating and a provisional verdict.
	Pods []PodTimeline
	// Owners counts pods per owner (e.g. old and new ReplicaSet of a rollout).
	Owners []OwnerProgress
	// Nodes lists the nodes seen (cordoned or not) for the drain view.
	Nodes   []NodeState
	Summary Summary
}

// OwnerProgress counts the pods of one owner by state.
type OwnerProgress struct {
	Owner       Owner `json:"owner"`
	Running     int   `json:"running"`
	Terminating int   `json:"terminating"`
	Terminated  int   `json:"terminated"`
}

// NodeState is a node as the drain view needs it.
type NodeState struct {
	Name          string `json:"name"`
	Unschedulable bool   `json:"unschedulable"`
}

// Engine turns deltas into timelines. It is not safe for concurrent use.
type Engine struct {
	cfg    Config
	start  time.Time
	now    time.Time
	pods   map[types.UID]*podState
	byName map[string]types.UID // namespace/name -> uid of the newest pod with that name
	done   map[types.UID]int    // index into finished
	// doneAt and goneAt are, with Forget, when each finished termination is to be forgotten
	// entirely, soonest first: goneAt those whose pod is removed, doneAt the others.
	doneAt  []doneEntry
	goneAt  []doneEntry
	order   []*podState // terminations in start order (live and finished)
	finish  []PodTimeline
	slices  map[string]*sliceState
	podEPs  map[types.UID][]*endpointState
	svc     map[string]*serviceState // namespace/name
	rs      map[string]rsInfo        // namespace/name
	nodes   map[string]*nodeState
	pending map[string][]pendingEvent // pod uid or namespace/name -> events seen before they could be used
	pendOrd []string
	dropped int
	pdbs    map[string]*pdbState // namespace/name
	// templates holds, per owner, the pod template as its pods showed it (recommend.go).
	templates map[string]*template
	deploys   map[string]*deployState // namespace/name
	// peers holds, per owner, the seconds from SIGTERM to exit of its pods that exited 0 in time.
	peers map[string][]float64
}

type rsInfo struct {
	revision   string
	deployment string
	// desired is the Deployment's replicas (the desired-replicas annotation), -1 when unknown.
	desired int
	// replicas is spec.replicas (-1 when unknown); shrinks are its latest decreases.
	replicas int32
	shrinks  []shrink
	// gone is set, with Forget, when the ReplicaSet was deleted while pods of it were still
	// known: the entry goes with the last of them.
	gone bool
}

// New returns an engine.
func New(cfg Config) *Engine {
	if cfg.DrainBudget <= 0 {
		cfg.DrainBudget = DefaultDrainBudget
	}
	return &Engine{
		cfg:       cfg,
		pods:      map[types.UID]*podState{},
		byName:    map[string]types.UID{},
		done:      map[types.UID]int{},
		slices:    map[string]*sliceState{},
		podEPs:    map[types.UID][]*endpointState{},
		svc:       map[string]*serviceState{},
		rs:        map[string]rsInfo{},
		nodes:     map[string]*nodeState{},
		deploys:   map[string]*deployState{},
		pending:   map[string][]pendingEvent{},
		peers:     map[string][]float64{},
		pdbs:      map[string]*pdbState{},
		templates: map[string]*template{},
	}
}

// Apply takes one delta and returns the timelines whose termination it completed.
func (e *Engine) Apply(d Delta) []PodTimeline {
	if e.start.IsZero() || d.Time.Before(e.start) {
		e.start = d.Time
	}
	if d.Time.After(e.now) {
		e.now = d.Time
		e.expireDone()
		e.expirePending()
	}
	switch {
	case d.Pod != nil:
		out := e.applyPod(d)
		if len(e.nodes) > 0 && (d.Type == Deleted || DrainKeeps(d.Pod)) {
			// A pod left the node's drain: was it the last one?
			e.checkEmpty(d.Pod.Spec.NodeName, d.Time)
		}
		return out
	case d.Slice != nil:
		e.applySlice(d)
	case d.Event != nil:
		if d.Type == Deleted {
			// The API server removes an Event when its TTL runs out: nothing happened to the
			// pod, and the pod may be long gone (held for it, it would wait for nothing).
			return nil
		}
		return e.applyEvent(d.Time, d.Event)
	case d.ReplicaSet != nil:
		rs := d.ReplicaSet
		info := rsInfo{revision: rs.Annotations["deployment.kubernetes.io/revision"], desired: -1}
		if n, err := strconv.Atoi(rs.Annotations["deployment.kubernetes.io/desired-replicas"]); err == nil && n >= 0 {
			info.desired = n
		}
		for _, ref := range rs.OwnerReferences {
			if ref.Kind == "Deployment" {
				info.deployment = ref.Name
			}
		}
		e.applyReplicaSet(d.Time, rs, info)
		if d.Type == Deleted && e.cfg.Forget {
			e.forgetReplicaSet(rs.Namespace, rs.Name)
		}
	case d.PDB != nil:
		e.applyPDB(d)
	case d.Node != nil:
		e.applyNode(d)
	case d.Deployment != nil:
		e.applyDeployment(d)
	}
	return nil
}

// Snapshot returns the current state of every termination.
func (e *Engine) Snapshot() Snapshot {
	s := Snapshot{Time: e.now, Pods: make([]PodTimeline, 0, len(e.order))}
	for _, p := range e.order {
		if i, ok := e.done[p.uid]; ok {
			s.Pods = append(s.Pods, e.finish[i])
		} else {
			s.Pods = append(s.Pods, e.build(p, false))
		}
	}
	s.Owners = e.ownerProgress()
	for i := range s.Owners {
		s.Owners[i].Owner = *s.Owners[i].Owner.cleaned()
	}
	for name, n := range e.nodes {
		s.Nodes = append(s.Nodes, NodeState{Name: textutil.Sanitize(name), Unschedulable: n.node.Spec.Unschedulable})
	}
	sort.Slice(s.Nodes, func(i, j int) bool { return s.Nodes[i].Name < s.Nodes[j].Name })
	s.Summary = e.summary(s.Pods, e.now, false)
	return s
}

// forgetDoneAfter is how long, with Forget, a finished termination whose pod still exists (one
// its kubelet ended) is remembered as done: the API server's default Event TTL, after which no
// relist can bring back an Event about it. The pod is then seen again as a pod, not as a new
// termination.
const forgetDoneAfter = time.Hour

// forgetRemovedAfter is how long, with Forget, a finished termination is remembered once its
// pod is removed. A removed pod never comes back (a new pod has a new UID), and a relist
// repeats no Event the watch layer already passed on (unchanged objects are not passed on);
// what can still come is an Event the Events watch delivers late, behind the pods watch, and
// is then held and let go like any Event about an unknown pod. (With a label selector, a pod
// that leaves it looks removed: one still terminating that comes back into it later is seen
// as a termination joined midway.) Memory then follows the terminations of the last minutes,
// not of the last hour.
const forgetRemovedAfter = 5 * time.Minute

type doneEntry struct {
	uid types.UID
	at  time.Time // when to forget it
}

func (e *Engine) expireDone() {
	for _, list := range []*[]doneEntry{&e.doneAt, &e.goneAt} {
		i := 0
		for i < len(*list) && e.now.After((*list)[i].at) {
			delete(e.done, (*list)[i].uid)
			i++
		}
		if i > 0 {
			*list = (*list)[i:]
		}
	}
}

// rememberDone keeps, with Forget, only that a termination is done, until it may be forgotten.
func (e *Engine) rememberDone(uid types.UID, removed bool) {
	e.done[uid] = -1
	if removed {
		e.goneAt = append(e.goneAt, doneEntry{uid, e.now.Add(forgetRemovedAfter)})
	} else {
		e.doneAt = append(e.doneAt, doneEntry{uid, e.now.Add(forgetDoneAfter)})
	}
}

// maxPeers bounds, with Config.Forget, the shutdown times kept per owner: past twice as many,
// every other one is dropped.
const maxPeers = 1000

func everyOther(v []float64) []float64 {
	out := v[:0]
	for i := 0; i < len(v); i += 2 {
		out = append(out, v[i])
	}
	return out
}

// Dropped is how many Events were dropped at the buffer limit so far.
func (e *Engine) Dropped() int { return e.dropped }

// Finish ends the stream at time end: it returns the timelines still open (as incomplete or
// with whatever verdict their marks already justify) and the final summary.
func (e *Engine) Finish(end time.Time) ([]PodTimeline, Summary) {
	if end.Before(e.now) {
		end = e.now
	}
	e.now = end
	var open []PodTimeline
	for _, p := range slices.Clone(e.order) {
		if _, ok := e.done[p.uid]; !ok {
			open = append(open, e.complete(p))
		}
	}
	return open, e.summary(e.finish, end, true)
}

// complete evaluates a termination for the last time and keeps only its timeline.
func (e *Engine) complete(p *podState) PodTimeline {
	tl := e.build(p, true)
	if m := tl.Measured; m != nil && m.AfterSIGTERMSeconds != nil && !m.AfterSIGTERMAtLeast && p.term.mainExitedZero() {
		k := ownerKey(&tl)
		// Kept sorted: every later finding of the owner reads their p95.
		v := *m.AfterSIGTERMSeconds
		i, _ := slices.BinarySearch(e.peers[k], v)
		e.peers[k] = slices.Insert(e.peers[k], i, v)
		if e.cfg.Forget && len(e.peers[k]) > 2*maxPeers {
			// Every other one: the same distribution, in half the memory.
			e.peers[k] = everyOther(e.peers[k])
		}
	}
	if e.cfg.Forget {
		// Kept: only that the pod is done, so late deltas for it are recognised.
		e.rememberDone(p.uid, p.removed)
		e.notePDBs(p)
		e.forget(p)
		if i := slices.Index(e.order, p); i >= 0 {
			e.order = slices.Delete(e.order, i, i+1)
		}
		return tl
	}
	e.done[p.uid] = len(e.finish)
	kept := tl
	if e.cfg.SummaryOnly {
		kept.Marks, kept.Containers, kept.Findings = nil, nil, nil
	}
	e.finish = append(e.finish, kept)
	e.notePDBs(p)
	// What remains is needed only to recognise late or repeated deltas for this pod.
	p.pod = nil
	p.term = nil
	delete(e.podEPs, p.uid)
	delete(e.pending, string(p.uid))
	return tl
}

func podKey(ns, name string) string { return ns + "/" + name }

// ownerOf names the controller of a pod and, for ReplicaSets, the Deployment behind it.
func (e *Engine) ownerOf(pod *corev1.Pod) *Owner {
	for _, ref := range pod.OwnerReferences {
		if ref.Controller == nil || !*ref.Controller {
			continue
		}
		o := &Owner{Kind: ref.Kind, Name: ref.Name}
		if ref.Kind == "ReplicaSet" {
			if info, ok := e.rs[podKey(pod.Namespace, ref.Name)]; ok {
				o.Revision = info.revision
				if info.deployment != "" {
					o.Controller = &OwnerRef{Kind: "Deployment", Name: info.deployment}
				}
			} else if h := pod.Labels["pod-template-hash"]; h != "" && strings.HasSuffix(ref.Name, "-"+h) {
				o.Controller = &OwnerRef{Kind: "Deployment", Name: strings.TrimSuffix(ref.Name, "-"+h)}
			}
		}
		return o
	}
	return nil
}

func (e *Engine) ownerProgress() []OwnerProgress {
	idx := map[string]int{}
	var out []OwnerProgress
	for _, p := range e.pods {
		o := p.owner
		if o == nil {
			continue
		}
		k := p.ns + "/" + o.Kind + "/" + o.Name
		i, ok := idx[k]
		if !ok {
			i = len(out)
			idx[k] = i
			out = append(out, OwnerProgress{Owner: *o})
		}
		switch {
		case p.removed || e.isDone(p):
			out[i].Terminated++
		case p.term != nil:
			out[i].Terminating++
		default:
			out[i].Running++
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].Owner, out[j].Owner
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		return a.Name < b.Name
	})
	return out
}

func (e *Engine) isDone(p *podState) bool { _, ok := e.done[p.uid]; return ok }

// pend keeps an event until its pod is seen terminating, within fixed bounds. pendOrd may hold
// keys already taken; they are skipped when the oldest entry is evicted.
func (e *Engine) pend(key string, ev pendingEvent) {
	list, ok := e.pending[key]
	if !ok {
		for len(e.pending) >= maxPendingPods && len(e.pendOrd) > 0 {
			old := e.pendOrd[0]
			e.pendOrd = e.pendOrd[1:]
			e.dropped += len(e.pending[old])
			delete(e.pending, old)
		}
		if len(e.pendOrd) > 2*len(e.pending)+1024 {
			e.pendOrd = slices.DeleteFunc(e.pendOrd, func(k string) bool { _, ok := e.pending[k]; return !ok })
		}
		e.pendOrd = append(e.pendOrd, key)
	}
	// An update of an Event held already (a probe failing again: count++) replaces it, so a
	// pod whose probe keeps failing holds one Event, the latest.
	id := eventID(ev.ev)
	list = slices.DeleteFunc(list, func(p pendingEvent) bool { return eventID(p.ev) == id })
	if len(list) >= maxPendingPerPod {
		e.dropped++
		list = list[1:]
	}
	e.pending[key] = append(list, ev)
}

// eventID names an Event: its UID, else its name.
func eventID(ev *corev1.Event) string { return firstNonEmpty(string(ev.UID), ev.Name) }

// pendingFor is how long an Event about a pod not (yet) seen terminating is held. Holding is
// for watch races: the Events watch delivers a Killing or an Evicted before the pods watch
// shows the pod terminating, seconds apart. An Event still held after minutes is about a pod
// that runs on (a failing probe, a restarted container) or one already forgotten: it is let
// go, and not counted as dropped, since no termination needed it.
const pendingFor = 5 * time.Minute

// expirePending lets go of the Events held longer than pendingFor, oldest key first. A key
// whose oldest Event is let go but whose later ones are not goes to the back of the order.
func (e *Engine) expirePending() {
	for len(e.pendOrd) > 0 {
		k := e.pendOrd[0]
		list, ok := e.pending[k]
		if ok && e.now.Sub(list[0].t) <= pendingFor {
			return
		}
		e.pendOrd = e.pendOrd[1:]
		if !ok {
			continue
		}
		i := 0
		for i < len(list) && e.now.Sub(list[i].t) > pendingFor {
			i++
		}
		if i == len(list) {
			delete(e.pending, k)
			continue
		}
		e.pending[k] = slices.Delete(list, 0, i)
		e.pendOrd = append(e.pendOrd, k)
	}
}

func (e *Engine) takePending(keys ...string) []pendingEvent {
	var out []pendingEvent
	for _, k := range keys {
		if list, ok := e.pending[k]; ok {
			out = append(out, list...)
			delete(e.pending, k)
		}
	}
	return out
}
