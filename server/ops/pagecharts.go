package ops

import (
	"fmt"
	"time"
)

// The charts of the status page are inline SVG drawn here: bars whose
// height, and not only colour, tells a state, each with a title, beside
// a sentence or a table that says the same in words.

type stripCell struct {
	X, Y, H int
	Class   string
	Title   string
}

// stripOf draws a link's states of the last stripMinutes minutes, oldest
// first, as cells 4 wide and 5 apart in a box 20 high: up full height,
// forced two thirds, down a third, not known a line.
func stripOf(states [stripMinutes]uint8, now time.Time) ([]stripCell, string) {
	cells := make([]stripCell, 0, stripMinutes)
	var up, down, forced int
	for i, s := range states {
		c := stripCell{X: i * 5}
		at := clock(now.Add(-time.Duration(stripMinutes-1-i) * time.Minute).Truncate(time.Minute))[:5]
		switch s {
		case stateUp:
			c.Y, c.H, c.Class, c.Title = 0, 20, "up", at+" up"
			up++
		case stateForced:
			c.Y, c.H, c.Class, c.Title = 7, 13, "forced", at+" forced by state:"
			forced++
		case stateDown:
			c.Y, c.H, c.Class, c.Title = 13, 7, "down", at+" down"
			down++
		default:
			c.Y, c.H, c.Class, c.Title = 18, 2, "none", at+" not running"
		}
		cells = append(cells, c)
	}
	summary := fmt.Sprintf("last %d minutes: up %d, down %d, forced %d", stripMinutes, up, down, forced)
	if n := stripMinutes - up - down - forced; n > 0 {
		summary += fmt.Sprintf(", not known %d", n)
	}
	return cells, summary
}

type ratesView struct {
	Empty     bool
	Now, Peak string
	Bars      []stripCell
	Rows      []rateRow
}

type rateRow struct {
	Minute, Total string
	Kinds         []string
}

const rateRows = 15 // minutes in the table

// ratesOf draws the query rates of points, oldest first: a bar per
// interval, 3 wide and 4 apart in a box 60 high, the newest on the
// right, and a table of the rates per minute, newest first.
func ratesOf(points []ratePoint) ratesView {
	if len(points) == 0 {
		return ratesView{Empty: true}
	}
	peak := 0.0
	for _, p := range points {
		peak = max(peak, p.Total)
	}
	v := ratesView{Now: qps(points[len(points)-1].Total), Peak: qps(peak)}
	for i, p := range points {
		h := 0
		if peak > 0 {
			h = max(int(p.Total/peak*58+0.5), 1)
		}
		v.Bars = append(v.Bars, stripCell{X: (rateSamples - len(points) + i) * 4, Y: 60 - h, H: h, Class: "rate",
			Title: fmt.Sprintf("%s–%s %s", clock(p.Start), clock(p.End), qps(p.Total))})
	}
	// Per minute, weighting each interval by its length.
	type minute struct {
		at      time.Time
		secs    float64
		perKind [len(rateKinds)]float64 // queries
	}
	var mins []minute
	for _, p := range points {
		at := p.End.Truncate(time.Minute)
		if len(mins) == 0 || !mins[len(mins)-1].at.Equal(at) {
			mins = append(mins, minute{at: at})
		}
		m := &mins[len(mins)-1]
		secs := p.End.Sub(p.Start).Seconds()
		m.secs += secs
		for k := range rateKinds {
			m.perKind[k] += p.PerKind[k] * secs
		}
	}
	for i := len(mins) - 1; i >= 0 && len(v.Rows) < rateRows; i-- {
		m := mins[i]
		row := rateRow{Minute: clock(m.at)[:5]}
		total := 0.0
		for k := range rateKinds {
			row.Kinds = append(row.Kinds, qps(m.perKind[k]/m.secs))
			total += m.perKind[k]
		}
		row.Total = qps(total / m.secs)
		v.Rows = append(v.Rows, row)
	}
	return v
}

func qps(r float64) string {
	if r < 10 {
		return fmt.Sprintf("%.1f q/s", r)
	}
	return fmt.Sprintf("%.0f q/s", r)
}
