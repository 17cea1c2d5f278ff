package timeline

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/drainwatch/kubectl-drainwatch/pkg/textutil"
)

// summary totals the finished timelines among pods and groups them per owner and Service.
func (e *Engine) summary(pods []PodTimeline, end time.Time, final bool) Summary {
	s := Summary{APIVersion: APIVersion, Kind: "Summary", Start: e.start, End: end, Verdicts: map[Verdict]int{}, Warnings: []string{}}
	if s.Start.IsZero() || s.Start.After(end) {
		s.Start = end // nothing was received: the watch covered no time
	}
	owners := map[string]*groupAcc{}
	services := map[string]*groupAcc{}
	var ownerKeys, serviceKeys []string
	var shutdown, grace []float64
	acc := func(m map[string]*groupAcc, keys *[]string, kind, ns, name string) *groupAcc {
		k := ns + "/" + kind + "/" + name
		g := m[k]
		if g == nil {
			g = &groupAcc{Group: Group{Kind: kind, Name: name, Namespace: ns, Verdicts: map[Verdict]int{}}}
			m[k] = g
			*keys = append(*keys, k)
		}
		return g
	}
	for i := range pods {
		tl := &pods[i]
		if tl.End == nil {
			continue
		}
		if tl.State == StateTerminating {
			s.Unfinished++ // still terminating when the watch ended
			continue
		}
		s.Terminated++
		s.Verdicts[tl.Verdict]++
		if tl.ShutdownSeconds != nil {
			shutdown = append(shutdown, *tl.ShutdownSeconds)
		}
		if tl.GraceUsed != nil {
			grace = append(grace, *tl.GraceUsed)
		}
		kind, name := ownerOfTimeline(tl)
		acc(owners, &ownerKeys, kind, tl.Namespace, name).add(tl)
		for _, svc := range tl.Services {
			acc(services, &serviceKeys, "Service", tl.Namespace, svc).add(tl)
		}
	}
	s.Shutdown, s.GraceUsed = StatsOf(shutdown), StatsOf(grace)
	for _, k := range ownerKeys {
		s.Owners = append(s.Owners, owners[k].finish())
	}
	for _, k := range serviceKeys {
		g := services[k]
		if st := e.svc[g.Namespace+"/"+g.Name]; st != nil {
			g.ReadyEndpoints = append([]Point(nil), st.series...)
			lo, hi := window(st.series, g.from, end)
			g.MinReadyEndpoints, g.MaxReadyEndpoints = &lo, &hi
		}
		if !g.other {
			g.DesiredEndpoints = e.desired(g.deployments)
		}
		e.routeService(&g.Group)
		s.Services = append(s.Services, g.finish())
	}
	if final {
		// Sized once from every finished pod; live snapshots (a TUI frame each) skip it.
		s.Recommendations = recommend(e.finish, e.templates)
	}
	s.Blockers = e.blockers()
	s.Drains = e.drains(pods, end)
	s.TrafficPathGaps = slices.Clone(e.cfg.PathGaps)
	sort.Slice(s.Owners, func(i, j int) bool { return s.Owners[i].Name < s.Owners[j].Name })
	sort.Slice(s.Services, func(i, j int) bool { return s.Services[i].Name < s.Services[j].Name })
	if e.dropped > 0 {
		s.Warnings = append(s.Warnings, fmt.Sprintf("%d events for pods never seen terminating were dropped (buffer limit)", e.dropped))
	}
	for _, r := range e.cfg.Partial {
		s.Warnings = append(s.Warnings, fmt.Sprintf("%s could not be watched: timelines are partial", r))
	}
	s.clean()
	return s
}

// AddWarnings appends the warnings of the watch or the recording (restarted watches, clamped
// times...) to the summary, each once.
func (s *Summary) AddWarnings(ws ...string) {
	for _, w := range ws {
		w = textutil.Sanitize(w)
		if !slices.Contains(s.Warnings, w) {
			s.Warnings = append(s.Warnings, w)
		}
	}
}

type groupAcc struct {
	Group
	from            time.Time
	shutdown, grace []float64
	// deployments are namespace/name of the Deployments whose pods the group holds; known
	// is false once a pod of any other owner is seen (desired capacity is then unknown).
	deployments map[string]bool
	other       bool
}

func (g *groupAcc) add(tl *PodTimeline) {
	if o := tl.Owner; o != nil && o.Controller != nil && o.Controller.Kind == "Deployment" {
		if g.deployments == nil {
			g.deployments = map[string]bool{}
		}
		g.deployments[tl.Namespace+"/"+o.Controller.Name] = true
	} else {
		g.other = true
	}
	g.Terminated++
	g.Verdicts[tl.Verdict]++
	if g.from.IsZero() || tl.Start.Before(g.from) {
		g.from = tl.Start
	}
	if tl.ShutdownSeconds != nil {
		g.shutdown = append(g.shutdown, *tl.ShutdownSeconds)
	}
	if tl.GraceUsed != nil {
		g.grace = append(g.grace, *tl.GraceUsed)
	}
}

func (g *groupAcc) finish() Group {
	g.Shutdown, g.GraceUsed = StatsOf(g.shutdown), StatsOf(g.grace)
	return g.Group
}

// StatsOf gives the count, nearest-rank p50 and p95, and maximum of values, so every figure is
// one that was measured. values is not modified.
func StatsOf(values []float64) Stats {
	if len(values) == 0 {
		return Stats{}
	}
	v := slices.Clone(values)
	sort.Float64s(v)
	return statsOfSorted(v)
}

// statsOfSorted is StatsOf for values already in ascending order.
func statsOfSorted(v []float64) Stats {
	if len(v) == 0 {
		return Stats{}
	}
	rank := func(p float64) float64 {
		i := int(math.Ceil(p*float64(len(v)))) - 1
		return v[max(0, min(i, len(v)-1))]
	}
	return Stats{Count: len(v), P50: rank(0.5), P95: rank(0.95), Max: v[len(v)-1]}
}

// window gives the fewest and most values of a series in effect between from and to.
func window(series []Point, from, to time.Time) (lo, hi int) {
	lo, hi = math.MaxInt, math.MinInt
	for i, p := range series {
		if p.Time.After(to) {
			break
		}
		next := i+1 < len(series) && !series[i+1].Time.After(from)
		if next {
			continue // superseded before the window opened
		}
		lo, hi = min(lo, p.Value), max(hi, p.Value)
	}
	if lo == math.MaxInt {
		return 0, 0
	}
	return lo, hi
}

// desired is the replicas the Deployments want in all, from their ReplicaSets' desired-replicas
// annotation; nil when any of them is unknown.
func (e *Engine) desired(deployments map[string]bool) *int {
	if len(deployments) == 0 {
		return nil
	}
	total := 0
	for d := range deployments {
		n := -1
		for key, info := range e.rs {
			ns, _, _ := strings.Cut(key, "/")
			if info.desired >= 0 && ns+"/"+info.deployment == d {
				n = max(n, info.desired)
			}
		}
		if n < 0 {
			return nil
		}
		total += n
	}
	return &total
}

// Dip is how far ready endpoints fell below capacity while pods terminated: below the
// Deployments' desired replicas when known (so the end of a surge is no dip), else below the
// most seen. 0 when they never fell.
func (g Group) Dip() int {
	if g.MinReadyEndpoints == nil {
		return 0
	}
	top := 0
	if g.MaxReadyEndpoints != nil {
		top = *g.MaxReadyEndpoints
	}
	if g.DesiredEndpoints != nil {
		top = *g.DesiredEndpoints
	}
	return max(0, top-*g.MinReadyEndpoints)
}
