package report

import (
	"strconv"
	"strings"
	"time"
)

// pct formats a percentage of the chart width with two decimals: enough for a 5,000-pixel
// chart, and short, since a large report holds tens of thousands of them.
func pct(v float64) string { return trimFloat(v, 2) }

// trimFloat formats v with at most prec decimals and no trailing zeros.
func trimFloat(v float64, prec int) string {
	s := strconv.FormatFloat(v, 'f', prec, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if s == "-0" {
		s = "0"
	}
	return s
}

// fmtSeconds shows a duration with the precision that matters at its size.
func fmtSeconds(s float64) string {
	switch {
	case s < 10:
		return strconv.FormatFloat(s, 'f', 2, 64) + "s"
	case s < 120:
		return strconv.FormatFloat(s, 'f', 1, 64) + "s"
	}
	return time.Duration(s * float64(time.Second)).Round(time.Second).String()
}

func fmtPercent(f float64) string { return strconv.FormatFloat(f*100, 'f', 0, 64) + "%" }

// fmtOffset labels an axis tick.
func fmtOffset(d time.Duration) string {
	switch {
	case d == 0:
		return "0"
	case d < time.Second:
		return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
	case d < time.Minute:
		return trimFloat(d.Seconds(), 1) + "s"
	case d%time.Hour == 0:
		return strconv.Itoa(int(d.Hours())) + "h"
	case d < time.Hour && d%time.Minute == 0:
		return strconv.Itoa(int(d.Minutes())) + "m"
	}
	return d.Round(time.Second).String()
}

// rel is t relative to base in seconds with milliseconds. A plus sign would cost four bytes
// once escaped, so only negative values carry a sign.
func rel(t, base time.Time) string {
	d := t.Sub(base)
	sign := ""
	if d < 0 {
		sign, d = "−", -d
	}
	return sign + strconv.FormatFloat(d.Seconds(), 'f', 3, 64) + "s"
}

// clock formats absolute times in the report's time zone, with the date only when the window
// crosses midnight.
type clock struct {
	loc      *time.Location
	multiDay bool
}

func (c clock) abs(t time.Time) string {
	if c.multiDay {
		return t.In(c.loc).Format("01-02 15:04:05.000")
	}
	return t.In(c.loc).Format("15:04:05.000")
}

// server formats the cluster's whole-second timestamps.
func (c clock) server(t time.Time) string {
	if c.multiDay {
		return t.In(c.loc).Format("01-02 15:04:05")
	}
	return t.In(c.loc).Format("15:04:05")
}

func sameDay(a, b time.Time) bool {
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	return ay == by && am == bm && ad == bd
}

func zoneName(loc *time.Location, t time.Time) string {
	name, off := t.In(loc).Zone()
	if off == 0 && (name == "UTC" || name == "") {
		return "UTC"
	}
	return name + " (UTC" + t.In(loc).Format("-07:00") + ")"
}

func itoa(v int32) string { return strconv.Itoa(int(v)) }
