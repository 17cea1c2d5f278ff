package timeline

import "github.com/drainwatch/kubectl-drainwatch/pkg/textutil"

// The engine's output is the one place where text from the cluster (names, reasons, event and
// status messages, commands) is sanitized: control characters, escape sequences and bidi
// overrides become visible escapes (textutil.Sanitize). JSON consumers, the text output, the
// TUI and the report all receive the same, already safe text.

func clean(s *string) { *s = textutil.Sanitize(*s) }

func cleanAll(lists ...[]string) {
	for _, l := range lists {
		for i := range l {
			clean(&l[i])
		}
	}
}

func (o *Owner) cleaned() *Owner {
	if o == nil {
		return nil
	}
	c := *o
	clean(&c.Kind)
	clean(&c.Name)
	clean(&c.Revision)
	if o.Controller != nil {
		ctl := *o.Controller
		clean(&ctl.Kind)
		clean(&ctl.Name)
		c.Controller = &ctl
	}
	return &c
}

// clean sanitizes every cluster string of a timeline built by the engine (its slices are its
// own copies).
func (tl *PodTimeline) clean() {
	for _, s := range []*string{&tl.Namespace, &tl.Name, &tl.UID, &tl.Node, &tl.Reason, &tl.State, &tl.BudgetSource} {
		clean(s)
	}
	tl.Owner = tl.Owner.cleaned()
	if in := tl.Initiator; in != nil {
		for _, s := range []*string{&in.By, &in.Via, &in.Message, &in.Preemptor} {
			clean(s)
		}
		cleanAll(in.Taints, in.Events)
		if c := in.Cordon; c != nil {
			clean(&c.Node)
			clean(&c.By)
		}
		if sc := in.Scale; sc != nil {
			for _, s := range []*string{&sc.ReplicaSet, &sc.Deployment, &sc.DeploymentBy} {
				clean(s)
			}
		}
	}
	for i := range tl.Services {
		clean(&tl.Services[i])
	}
	for i := range tl.Marks {
		m := &tl.Marks[i]
		for _, s := range []*string{&m.Container, &m.Service, &m.Slice, &m.Reason, &m.Detail} {
			clean(s)
		}
	}
	for i := range tl.Containers {
		c := &tl.Containers[i]
		for _, s := range []*string{&c.Name, &c.PreStop, &c.Reason} {
			clean(s)
		}
	}
	for i := range tl.Findings {
		f := &tl.Findings[i]
		clean(&f.Container)
		clean(&f.Message)
		f.Fix = textutil.SanitizeMultiline(f.Fix)
		for j := range f.Basis {
			clean(&f.Basis[j])
		}
	}
}

// clean sanitizes the cluster strings of a summary.
func (s *Summary) clean() {
	for _, gs := range [][]Group{s.Owners, s.Services} {
		for i := range gs {
			clean(&gs[i].Kind)
			clean(&gs[i].Name)
			clean(&gs[i].Namespace)
			clean(&gs[i].BudgetSource)
			for j := range gs[i].TrafficPath {
				p := &gs[i].TrafficPath[j]
				for _, x := range []*string{&p.Kind, &p.Name, &p.Namespace, &p.Class, &p.Controller, &p.BudgetSource} {
					clean(x)
				}
			}
		}
	}
	for i := range s.Warnings {
		clean(&s.Warnings[i])
	}
	cleanAll(s.TrafficPathGaps)
	for i := range s.Blockers {
		b := &s.Blockers[i]
		clean(&b.Name)
		clean(&b.Namespace)
		cleanAll(b.Waiting, b.Pods)
	}
	for i := range s.Drains {
		d := &s.Drains[i]
		clean(&d.Node)
		clean(&d.CordonedBy)
		cleanAll(d.Taints, d.Remaining)
		for j := range d.WaitedOn {
			w := &d.WaitedOn[j]
			for _, x := range []*string{&w.Name, &w.Namespace, &w.Detail} {
				clean(x)
			}
		}
		for j := range d.Marks {
			clean(&d.Marks[j].Pod)
			clean(&d.Marks[j].Detail)
		}
	}
	for i := range s.Recommendations {
		r := &s.Recommendations[i]
		for _, x := range []*string{&r.Kind, &r.Name, &r.Namespace, &r.Container, &r.Patch} {
			clean(x)
		}
		r.Note = textutil.SanitizeMultiline(r.Note)
		for j := range r.Basis {
			clean(&r.Basis[j])
		}
	}
}
