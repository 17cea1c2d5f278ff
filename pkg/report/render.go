package report

import (
	"io"
	"strconv"

	g "maragu.dev/gomponents"
	h "maragu.dev/gomponents/html"
)

// The page is built as gomponents nodes, which escape every text and attribute value they are
// given. Only the report's own stylesheet and script go in raw.

// nl keeps the source of the page readable: one block per line.
var nl = g.Raw("\n")

// svgEl is an SVG element; one without children is written self-closed (<path .../>).
func svgEl(name string, children ...g.Node) g.Node {
	for _, c := range flatten(children) {
		if !isAttr(c) {
			return g.El(name, children...)
		}
	}
	return short(name, "/>", children)
}

// open is an element written without its end tag, which HTML lets a page omit for td, th, tr,
// dt and dd: a report of thousands of pods has tens of thousands of them.
func open(name string, children ...g.Node) g.Node { return short(name, ">", children) }

// short writes <name, the attributes among children, end, then the other children.
func short(name, end string, children []g.Node) g.Node {
	return g.NodeFunc(func(w io.Writer) error {
		kids := flatten(children)
		if _, err := io.WriteString(w, "<"+name); err != nil {
			return err
		}
		for _, c := range kids {
			if isAttr(c) {
				if err := c.Render(w); err != nil {
					return err
				}
			}
		}
		if _, err := io.WriteString(w, end); err != nil {
			return err
		}
		for _, c := range kids {
			if !isAttr(c) {
				if err := c.Render(w); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

func flatten(nodes []g.Node) []g.Node {
	var out []g.Node
	for _, n := range nodes {
		switch n := n.(type) {
		case nil:
		case g.Group:
			out = append(out, flatten(n)...)
		default:
			out = append(out, n)
		}
	}
	return out
}

func isAttr(n g.Node) bool {
	t, ok := n.(interface{ Type() g.NodeType })
	return ok && t.Type() == g.AttributeType
}

func attr(name, value string) g.Node    { return g.Attr(name, value) }
func attrInt(name string, v int) g.Node { return g.Attr(name, strconv.Itoa(v)) }

// title is an SVG tooltip, when there is one.
func svgTitle(t string) g.Node {
	return g.If(t != "", svgEl("title", g.Text(t)))
}

// estClass is a shape's class, with "e" (estimated: striped or hollow) added when est is set.
func estClass(class string, est bool) g.Node {
	if est {
		return h.Class(class + " e")
	}
	return h.Class(class)
}

func (r *renderer) document(p *page) g.Node {
	return h.Doctype(h.HTML(h.Lang("en"), nl,
		h.Head(nl,
			h.Meta(h.Charset("utf-8")), nl,
			h.Meta(attr("http-equiv", "Content-Security-Policy"), h.Content(r.cspPolicy)), nl,
			h.Meta(h.Name("viewport"), h.Content("width=device-width, initial-scale=1")), nl,
			h.Meta(h.Name("color-scheme"), h.Content("light dark")), nl,
			h.Meta(h.Name("generator"), h.Content(withVersion("kubectl-drainwatch", p.Version))), nl,
			h.TitleEl(g.Text("drainwatch report: "+p.Title)), nl,
			h.Link(h.Rel("icon"), h.Href("data:,")), nl,
			h.StyleEl(g.Raw(r.css)), nl,
		), nl,
		h.Body(nl,
			g.Raw(symbols), nl,
			header(p), nl,
			h.Main(nl,
				summary(p), nl,
				capacity(p), nl,
				fixes(p), nl,
				pods(p), nl,
			), nl,
			h.Footer(g.Text(withVersion("Written by kubectl-drainwatch", p.Version)),
				g.If(p.Generated != "", g.Text(" at "+p.Generated)),
				g.Text(". Times are "+p.TimeZone+", stamped when drainwatch received each change; the cluster's own whole-second timestamps are shown where they differ by a second or more. Percentiles are nearest-rank.")), nl,
			h.Script(g.Raw(r.js)), nl,
		), nl,
	))
}

func withVersion(s, version string) string {
	if version != "" {
		return s + " " + version
	}
	return s
}

// symbols are the marks of the Gantt chart, drawn once and used by reference.
const symbols = `<svg class="defs" aria-hidden="true" width="0" height="0"><defs>
<path id="xo" d="M-4 0a4 4 0 1 0 8 0a4 4 0 1 0-8 0z"/>
<path id="xb" d="M-4 0a4 4 0 1 0 8 0a4 4 0 1 0-8 0z"/>
<path id="sk" d="M-4-4L4 4M4-4L-4 4"/>
<path id="ki" d="M0-5V5"/>
<path id="st" d="M-3-4.5L3.5 0L-3 4.5z"/>
<path id="rm" d="M0-5V5M-3-5H3M-3 5H3"/>
<path id="wa" d="M0-5.5L5.5 4.5H-5.5z"/>
</defs></svg>`

func dlRow(key, value string) g.Node {
	return h.Div(h.Dt(g.Text(key)), h.Dd(g.Text(value)))
}

func header(p *page) g.Node {
	return h.Header(nl,
		h.H1(g.Text("Termination report: "+p.Title)), nl,
		h.Dl(h.Class("meta"),
			g.Map(p.Meta, func(m kv) g.Node { return dlRow(m.Key, m.Value) }),
			g.If(p.WindowStart != "", dlRow("Window", p.WindowStart+" – "+p.WindowEnd+" "+p.TimeZone+" ("+p.WindowLength+")")),
			dlRow("Drain budget", p.DrainBudget),
			g.If(p.Generated != "", dlRow("Generated", p.Generated)),
		), nl,
		h.Nav(h.A(h.Href("#summary"), g.Text("Summary")), g.Text(" "), h.A(h.Href("#capacity"), g.Text("Ready endpoints")), g.Text(" "),
			h.A(h.Href("#fixes"), g.Text("Findings and fixes")), g.Text(" "), h.A(h.Href("#pods"), g.Text("Pods"))), nl,
	)
}

func empty(text string) g.Node {
	return g.Group{nl, h.P(h.Class("empty"), g.Text(text))}
}

func statsRow(label string, s statsView) g.Node {
	or := func(v string) string {
		if v == "" {
			return "–"
		}
		return v
	}
	return h.Tr(h.Th(g.Text(label)), h.Td(g.Text(strconv.Itoa(s.Count))), h.Td(g.Text(or(s.P50))), h.Td(g.Text(or(s.P95))), h.Td(g.Text(or(s.Max))))
}

func verdictBadges(vs []verdictCount) g.Node {
	return g.Map(vs, func(v verdictCount) g.Node {
		return g.Group{h.Span(h.Class("vb v-"+v.Verdict), g.Text(strconv.Itoa(v.Count)+" "+v.Verdict)), g.Text(" ")}
	})
}

// small is namespace text set off after a name.
func small(s string) g.Node {
	return g.If(s != "", g.Group{g.Text(" "), h.Small(g.Text(s))})
}

func summary(p *page) g.Node {
	live := ""
	if p.Live > 0 {
		live = " (" + strconv.Itoa(p.Live) + " still in progress)"
	}
	return h.Section(h.ID("summary"), nl,
		h.H2(g.Text("Summary")),
		g.If(len(p.Pods) == 0, empty("No pod terminations were seen in this window.")), nl,
		h.Div(h.Class("cards"), nl,
			h.Div(h.Class("card total"), h.B(g.Text(strconv.Itoa(p.Total))), h.Span(g.Text("pods terminating"+live))),
			g.Map(p.Verdicts, func(v verdictCount) g.Node {
				return g.Group{nl, h.Div(h.Class("card v-"+v.Verdict), h.B(g.Text(strconv.Itoa(v.Count))), h.Span(g.Text(v.Verdict)))}
			}), nl,
		), nl,
		h.Table(h.Class("stats"), nl,
			h.THead(h.Tr(h.Th(), h.Th(g.Text("pods")), h.Th(g.Text("p50")), h.Th(g.Text("p95")), h.Th(g.Text("max")))), nl,
			h.TBody(nl,
				statsRow("Shutdown (deletion → last exit)", p.Shutdown), nl,
				statsRow("Grace period used", p.GraceUsed), nl,
			), nl,
		),
		g.If(len(p.Owners) > 0, g.Group{nl,
			h.H3(g.Text("By owner")), nl,
			h.Table(h.Class("owners"), nl,
				h.THead(h.Tr(h.Th(g.Text("Owner")), h.Th(g.Text("terminated")), h.Th(g.Text("verdicts")),
					h.Th(g.Text("shutdown p50 / p95 / max")), h.Th(g.Text("grace used p50 / p95 / max")))), nl,
				h.TBody(g.Map(p.Owners, func(o groupView) g.Node {
					return g.Group{nl, h.Tr(
						h.Th(g.Text(o.Kind+"/"+o.Name), small(o.Namespace)),
						h.Td(g.Text(strconv.Itoa(o.Terminated))),
						h.Td(verdictBadges(o.Verdicts)),
						h.Td(g.Text(o.Shutdown.P50+" / "+o.Shutdown.P95+" / "+o.Shutdown.Max)),
						h.Td(g.Text(o.GraceUsed.P50+" / "+o.GraceUsed.P95+" / "+o.GraceUsed.Max)),
					)}
				}), nl),
			),
		}),
		g.If(len(p.Drains) > 0, g.Group{nl,
			h.H3(g.Text("Node drains")), nl,
			h.Ul(h.Class("drains"), g.Map(p.Drains, func(d string) g.Node { return g.Group{nl, h.Li(g.Text(d))} }), nl),
		}),
		g.If(len(p.Blockers) > 0, g.Group{nl,
			h.H3(g.Text("The drain is blocked")), nl,
			h.Ul(h.Class("warnings blockers"), g.Map(p.Blockers, func(b string) g.Node { return g.Group{nl, h.Li(g.Text(b))} }), nl),
		}),
		g.If(len(p.Warnings) > 0, g.Group{nl,
			h.H3(g.Text("What the watch could not see")), nl,
			h.Ul(h.Class("warnings"), g.Map(p.Warnings, func(w string) g.Node { return g.Group{nl, h.Li(g.Text(w))} }), nl),
		}), nl,
	)
}

func capacity(p *page) g.Node {
	return h.Section(h.ID("capacity"), nl,
		h.H2(g.Text("Ready endpoints per Service")),
		g.If(len(p.Services) == 0, empty("No Service selected these pods, or EndpointSlices were not watched.")),
		g.Map(p.Services, serviceFigure), nl,
	)
}

func serviceFigure(s serviceView) g.Node {
	var state g.Node
	switch {
	case s.Empty:
		state = h.Span(h.Class("muted"), g.Text("no samples"))
	case s.HasDip:
		text := "fewest ready: " + strconv.Itoa(s.Min) + " of " + strconv.Itoa(s.Capacity) + " (" + s.Dip
		if s.DipFor != "" {
			text += " for " + s.DipFor
		}
		state = h.Span(h.Class("dipnote"), g.Text(text+")"))
	default:
		state = h.Span(h.Class("muted"), g.Text("never below "+strconv.Itoa(s.Capacity)+" ready"))
	}
	caption := h.FigCaption(h.B(g.Text(s.Name)), small(s.Namespace), g.Text(" "), state)
	if s.Empty {
		return g.Group{nl, h.Figure(h.Class("svc"), nl, caption, nl)}
	}
	minMax := strconv.Itoa(s.Min) + " of " + strconv.Itoa(s.Max) + " ready"
	chart := h.Div(h.Class("chartrow"),
		h.Div(h.Class("lbl"), h.Span(g.Text(strconv.Itoa(s.Max)+" ready")), h.Span(g.Text("0"))), nl,
		h.SVG(h.Class("cap"), attr("height", "96"), h.Role("img"), h.Aria("label", "ready endpoints of "+s.Name+" over time"),
			g.If(s.HasDip, svgEl("rect", h.Class("dip"), attr("x", s.DipX+"%"), attr("width", s.DipW+"%"), attr("y", "0"), attr("height", "100%"),
				svgTitle("capacity dip: "+minMax))),
			svgEl("svg", attr("viewBox", "0 0 1000 100"), attr("preserveAspectRatio", "none"), attr("width", "100%"), attr("height", "100%"),
				svgEl("path", h.Class("area"), attr("d", s.Area)), svgEl("path", h.Class("line"), attr("d", s.Line))),
			svgEl("line", h.Class("max"), attr("x1", "0"), attr("x2", "100%"), attr("y1", s.MaxY+"%"), attr("y2", s.MaxY+"%")),
			g.If(s.HasDip, g.Group{
				svgEl("line", h.Class("min"), attr("x1", "0"), attr("x2", "100%"), attr("y1", s.DipY+"%"), attr("y2", s.DipY+"%")),
				svgEl("text", h.Class("dipl"), attr("x", s.DipX+"%"), attr("y", s.DipY+"%"), attr("dy", "-4"), g.Text("min "+strconv.Itoa(s.Min))),
			}),
		),
	)
	return g.Group{nl, h.Figure(h.Class("svc"), nl, caption, nl, chart, nl)}
}

// fixBlock is a fix's YAML with a copy button (which works only with script).
func fixBlock(elem, fix string) g.Node {
	return h.Div(h.Class("fixcode"),
		h.Button(h.Type("button"), h.Class("copy js-only"), h.Data("copy", elem), g.Text("Copy")),
		h.Pre(h.ID(elem), h.Code(g.Text(fix))))
}

func fixes(p *page) g.Node {
	return h.Section(h.ID("fixes"), nl,
		h.H2(g.Text("Findings and fixes")),
		g.If(len(p.Recommendations) > 0, h.H3(g.Text("Recommended changes, sized from this run"))),
		g.Map(p.Recommendations, func(r recView) g.Node {
			basis := make(g.Group, 0, len(r.Basis))
			for _, b := range r.Basis {
				basis = append(basis, h.Li(g.Text(b)))
			}
			return g.Group{nl, h.Div(h.Class("fix rec"), h.ID(r.Anchor), nl,
				h.H3(g.Text(r.Title)), nl,
				h.Ul(basis), nl,
				g.If(r.Patch != "", fixBlock(r.Anchor+"-p", r.Patch)),
				g.If(r.Note != "", fixBlock(r.Anchor+"-n", r.Note)), nl,
			)}
		}),
		g.If(len(p.Fixes) == 0, empty("No finding came with a fix.")),
		g.Map(p.Fixes, func(f fixView) g.Node {
			plural := "s"
			if f.Count == 1 {
				plural = ""
			}
			links := make(g.Group, 0, 2*len(f.Pods)+1)
			for i, pr := range f.Pods {
				if i > 0 {
					links = append(links, g.Text(", "))
				}
				links = append(links, h.A(h.Href("#"+pr.Anchor), g.Text(pr.Name)))
			}
			if f.More > 0 {
				links = append(links, g.Text(" and "+strconv.Itoa(f.More)+" more"))
			}
			return g.Group{nl, h.Div(h.Class("fix sev-"+f.Severity), h.ID(f.Anchor), nl,
				h.H3(h.Span(h.Class("fixnum"), g.Text("Fix "+strconv.Itoa(f.Num))), g.Text(" "), h.Code(g.Text(f.ID)), g.Text(" "),
					h.Span(h.Class("sev"), g.Text(f.Severity)), g.Text(" "), h.Span(h.Class("muted"), g.Text(strconv.Itoa(f.Count)+" pod"+plural))), nl,
				fixBlock(f.Anchor+"-y", f.Fix), nl,
				h.P(h.Class("fixpods"), g.Text("Pods: "), links, nl,
					h.Button(h.Type("button"), h.Class("show js-only"), h.Data("filter", f.ID), g.Text("Show only these"))), nl,
			)}
		}), nl,
	)
}

// legend explains the marks of the Gantt chart.
func legend(budget string) g.Node {
	bar := func(class, label string) g.Node {
		return h.Span(h.SVG(attr("width", "26"), attr("height", "10"), svgEl("path", h.Class(class), attr("d", "M0 5h26"))), g.Text(label))
	}
	sym := func(id, label string) g.Node {
		return h.Span(h.SVG(attr("width", "12"), attr("height", "12"), svgEl("use", h.Href("#"+id), attr("x", "6"), attr("y", "6"))), g.Text(label))
	}
	tick := func(class, label string) g.Node {
		return h.Span(h.SVG(attr("width", "12"), attr("height", "12"), svgEl("path", h.Class(class), attr("d", "M6 0v12"))), g.Text(label))
	}
	items := []g.Node{
		bar("rdy", "endpoint ready"),
		bar("nrd", "not ready (terminating)"),
		bar("nsv", "not serving"),
		bar("bud", "drain budget ("+budget+")"),
		sym("rm", "endpoint removed"),
		bar("pre", "preStop"),
		bar("trm", "running after SIGTERM"),
		sym("ki", "Killing event"),
		sym("st", "SIGTERM"),
		sym("xo", "exit 0"),
		sym("xb", "exit ≠ 0"),
		sym("sk", "SIGKILL"),
		sym("wa", "probe or hook failed"),
		tick("del", "deletion requested"),
		tick("dl", "grace deadline"),
		tick("gone", "pod removed"),
		h.Span(h.SVG(attr("width", "34"), attr("height", "12"), svgEl("path", h.Class("trm e"), attr("d", "M0 6h20")),
			svgEl("use", h.Href("#xo"), h.Class("e"), attr("x", "27"), attr("y", "6"))), g.Text("estimated (striped, hollow)")),
	}
	out := g.Group{}
	for _, it := range items {
		out = append(out, nl, it)
	}
	return h.P(h.Class("legend"), h.Aria("label", "legend"), out, nl)
}

const podsHelp = "Top lane: the pod's endpoint in its Services; below it one lane per container. Open a row for its details: every mark with the time after the deletion request and the local time of day (≈ estimated), then its findings. A mark's source is named only when it is not the usual one (EndpointSlices for endpoint marks, Events for killing and failures, the Pod for the rest, inference for SIGTERM and SIGKILL)."

const sortOptions = `<option value="start">deletion order</option><option value="name">name</option><option value="verdict">verdict (worst first)</option><option value="shutdown">shutdown (longest first)</option><option value="grace">grace used (most first)</option>`

func pods(p *page) g.Node {
	if len(p.Pods) == 0 {
		return h.Section(h.ID("pods"), nl, h.H2(g.Text("Pods")), empty("No pod began terminating."), nl)
	}
	tickLines := func(withLabels bool) g.Node {
		return g.Map(p.Ticks, func(t tick) g.Node {
			if withLabels {
				return g.Group{svgEl("line", attr("x1", t.X+"%"), attr("x2", t.X+"%"), attr("y1", "15"), attr("y2", "22")),
					svgEl("text", attr("x", t.X+"%"), attr("y", "11"), g.Text(t.Label))}
			}
			return svgEl("line", attr("x1", t.X+"%"), attr("x2", t.X+"%"), attr("y1", "0"), attr("y2", "100%"))
		})
	}
	return h.Section(h.ID("pods"), nl,
		h.H2(g.Text("Pods")), nl,
		legend(p.DrainBudget), nl,
		h.P(h.Class("muted"), g.Text(podsHelp)),
		g.If(len(p.Shared) > 0, g.Group{nl, h.Dl(h.Class("shared"), h.Div(h.Dt(g.Text("All pods:"))),
			g.Map(p.Shared, func(m kv) g.Node { return dlRow(m.Key, m.Value) }))}), nl,
		h.Input(h.Type("radio"), h.Name("vf"), h.ID("vf-all"), h.Class("vf"), h.Checked()),
		g.Map(p.Verdicts, func(v verdictCount) g.Node {
			return h.Input(h.Type("radio"), h.Name("vf"), h.ID("vf-"+v.Verdict), h.Class("vf"))
		}), nl,
		h.Div(h.Class("controls"), nl,
			h.Span(h.Class("filters"), h.Role("group"), h.Aria("label", "filter by verdict"),
				h.Label(h.For("vf-all"), g.Text("all "), h.B(g.Text(strconv.Itoa(p.Total)))),
				g.Map(p.Verdicts, func(v verdictCount) g.Node {
					return g.Group{g.Text(" "), h.Label(h.For("vf-"+v.Verdict), h.Class("v-"+v.Verdict), g.Text(v.Verdict+" "), h.B(g.Text(strconv.Itoa(v.Count))))}
				})), nl,
			h.Span(h.Class("js-only tools"),
				h.Input(h.Type("search"), h.ID("q"), h.Placeholder("filter: name, node, owner, finding, any text"), h.Aria("label", "filter pods")), nl,
				h.Label(g.Text("sort "), h.Select(h.ID("sort"), h.Aria("label", "sort pods"), g.Raw(sortOptions))), nl,
				h.Span(h.ID("shown"), h.Aria("live", "polite"))), nl,
		), nl,
		h.Div(h.Class("axis"), h.Div(h.Class("lbl"), g.Text("pod · verdict · shutdown · grace used")), nl,
			h.SVG(h.Class("ax"), attr("height", "22"), tickLines(true))), nl,
		h.Div(h.Class("pods"), nl,
			h.SVG(h.Class("grid"), h.Aria("hidden", "true"), tickLines(false)),
			g.Map(p.Pods, func(pv podView) g.Node { return g.Group{nl, podRow(pv, p.Small)} }), nl,
		), nl,
	)
}

func podRow(pv podView, smallReport bool) g.Node {
	class := "pod v-" + pv.Verdict
	if pv.Live {
		class += " live"
	}
	label := h.Span(h.Class("lbl"), h.B(g.Text(pv.Name)), g.Text(" "), h.I(h.Class("vb"), g.Text(pv.Verdict)),
		g.If(pv.Shutdown != "", g.Group{g.Text(" "), h.Span(h.Class("n"), g.Text(withSep(pv.Shutdown, pv.GraceUsed)))}))
	height := strconv.Itoa(pv.Height)
	shapes := g.Group{}
	for _, s := range pv.Segs {
		shapes = append(shapes, svgEl("path", estClass(s.Class, s.Est),
			attr("d", "M"+strconv.Itoa(s.X)+" "+strconv.Itoa(s.Y)+"h"+strconv.Itoa(s.W)), svgTitle(s.Title)))
	}
	for _, l := range pv.Lines {
		shapes = append(shapes, svgEl("path", estClass(l.Class, l.Est), attr("d", "M"+strconv.Itoa(l.X)+" 0V999"), svgTitle(l.Title)))
	}
	chart := h.SVG(h.Class("g"), attr("height", height),
		svgEl("svg", attr("viewBox", "0 0 1e4 "+height), attr("preserveAspectRatio", "none"), shapes),
		g.Map(pv.Dots, func(d dot) g.Node {
			return svgEl("use", h.Href("#"+d.Shape), g.If(d.Est, h.Class("e")), attr("x", d.X+"%"), attrInt("y", d.Y), svgTitle(d.Title))
		}),
		g.Map(pv.Notes, func(n note) g.Node {
			return svgEl("text", h.Class("note"), attr("x", "4"), attrInt("y", n.Y), g.Text(n.Text))
		}),
	)
	var head g.Node
	if smallReport {
		head = h.THead(open("tr", open("th", g.Text("after deletion")), open("th", g.Text("time")), open("th", g.Text("mark")), open("th", g.Text("detail"))))
	}
	marks := h.Table(h.Class("mk"), head, g.Map(pv.Marks, func(m markRow) g.Node {
		rel, typ := m.Rel, m.Type
		if m.Plus {
			rel = "+" + rel
		}
		if m.Estimated {
			typ += " ≈"
		}
		return open("tr", g.If(m.Estimated, h.Class("e")), open("td", g.Text(rel)), open("td", g.Text(m.Abs)), open("td", g.Text(typ)), open("td", g.Text(m.Detail)))
	}))
	return h.Details(h.Class(class), h.ID(pv.Anchor),
		h.Summary(label, chart), nl,
		h.Dl(g.Map(pv.Info, func(m kv) g.Node { return g.Group{open("dt", g.Text(m.Key)), open("dd", g.Text(m.Value))} })), nl,
		marks,
		g.If(len(pv.Findings) > 0, g.Group{nl, h.Ul(h.Class("fd"), g.Map(pv.Findings, finding), nl)}), nl,
	)
}

func withSep(a, b string) string {
	if b != "" {
		return a + " · " + b
	}
	return a
}

func finding(f findingView) g.Node {
	container := ""
	if f.Container != "" {
		container = " (" + f.Container + ")"
	}
	if f.Cause != "" {
		container += " [" + f.Cause + "]"
	}
	return g.Group{nl, h.Li(h.Class("sev-"+f.Severity), h.Span(h.Class("sev"), g.Text(f.Severity)), g.Text(" "), h.Code(g.Text(f.ID)),
		g.Text(container+": "+f.Message),
		g.If(f.FixAnchor != "", g.Group{g.Text(" "), h.A(h.Href("#"+f.FixAnchor), g.Text("Fix "+strconv.Itoa(f.FixNum)))}),
		g.If(f.Fix != "", fixBlock(f.FixElem, f.Fix)),
	)}
}
