package cmd

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/drainwatch/kubectl-drainwatch/pkg/timeline"
)

// budgetFlag is --drain-budget: one duration for every Service, or svc/NAME=DURATION (also
// svc/NAMESPACE/NAME=DURATION) for one; repeatable.
type budgetFlag struct {
	global   time.Duration
	set      bool                     // the global duration was given
	services map[string]time.Duration // NAME or NAMESPACE/NAME
	values   []string
}

func (b *budgetFlag) String() string {
	if len(b.values) == 0 {
		return b.global.String()
	}
	return strings.Join(b.values, ",")
}

func (b *budgetFlag) Type() string { return "duration|svc/NAME=duration" }

func (b *budgetFlag) Set(v string) error {
	name, dur, perService := strings.Cut(v, "=")
	if !perService {
		dur = v
	}
	d, err := time.ParseDuration(strings.TrimSpace(dur))
	if err != nil {
		return fmt.Errorf("%q is not a duration (e.g. 5s, or svc/web=25s)", dur)
	}
	if perService {
		svc, ok := strings.CutPrefix(strings.TrimSpace(name), "svc/")
		if !ok {
			svc, ok = strings.CutPrefix(strings.TrimSpace(name), "service/")
		}
		if !ok || svc == "" || strings.Count(svc, "/") > 1 {
			return fmt.Errorf("%q: a per-Service budget is svc/NAME=DURATION or svc/NAMESPACE/NAME=DURATION", v)
		}
		if b.services == nil {
			b.services = map[string]time.Duration{}
		}
		b.services[svc] = d
	} else {
		b.global, b.set = d, true
	}
	b.values = append(b.values, v)
	return nil
}

// validate says what is wrong with the values given, in the words of the other flag errors.
func (b *budgetFlag) validate() error {
	if b.global <= 0 {
		return usageErr("--drain-budget must be greater than 0 (e.g. 5s): it is how long load balancers need after an endpoint turns not ready")
	}
	for svc, d := range b.services {
		if d <= 0 {
			return usageErr("--drain-budget svc/%s must be greater than 0 (e.g. svc/%s=25s)", svc, svc)
		}
	}
	return nil
}

// budgets is the drain budget of each Service (namespace/name): a svc/ flag, else the global
// flag when given, else the slowest traffic path found; Services with none of them get the
// engine's default (the global budget).
func (b *budgetFlag) budgets(paths map[string][]timeline.PathEntry) map[string]timeline.Budget {
	out := map[string]timeline.Budget{}
	if !b.set {
		for k, entries := range paths {
			if sb, ok := timeline.SlowestPath(entries); ok {
				out[k] = sb
			}
		}
	}
	keys := make([]string, 0, len(paths))
	for k := range paths {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for svc, d := range b.services {
		src := fmt.Sprintf("--drain-budget svc/%s=%s", svc, d)
		if strings.Contains(svc, "/") {
			out[svc] = timeline.Budget{Duration: d, Source: src}
			continue
		}
		// A bare name applies in every namespace; Services the traffic path did not list
		// are matched by the engine's pods through the namespace-less entries below.
		for _, k := range keys {
			if _, name, _ := strings.Cut(k, "/"); name == svc {
				out[k] = timeline.Budget{Duration: d, Source: src}
			}
		}
		out["*/"+svc] = timeline.Budget{Duration: d, Source: src}
	}
	return out
}
