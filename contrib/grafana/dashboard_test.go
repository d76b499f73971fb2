// Package grafana_test holds the checks of the Grafana dashboard
// (mxdns.json): Grafana is not at hand to load it, so its structure is
// checked here, and every metric its queries name against what a real
// server exports.
package grafana_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mxdns/mxdns/server"
)

// leftOut are the mxdns families the dashboard deliberately does not
// graph, each with why. Every other family the server exports must be
// used by a panel: a new metric is either graphed or listed here.
var leftOut = map[string]string{
	// None today: every family has a panel.
}

// dashboard is the part of Grafana's dashboard JSON the checks read.
type dashboard struct {
	Inputs        []input                   `json:"__inputs"`
	Title         string                    `json:"title"`
	UID           string                    `json:"uid"`
	SchemaVersion *int                      `json:"schemaVersion"`
	Editable      *bool                     `json:"editable"`
	GraphTooltip  *int                      `json:"graphTooltip"`
	Time          *struct{}                 `json:"time"`
	Panels        []panel                   `json:"panels"`
	Templating    struct{ List []variable } `json:"templating"`
}

// input is what an import asks for: here, the Prometheus to read.
type input struct {
	Name     string `json:"name"`
	Type     string `json:"type"`
	PluginID string `json:"pluginId"`
}

type panel struct {
	ID         int         `json:"id"`
	Type       string      `json:"type"`
	Title      string      `json:"title"`
	Datasource *datasource `json:"datasource"`
	GridPos    *gridPos    `json:"gridPos"`
	Targets    []target    `json:"targets"`
	Panels     []panel     `json:"panels"` // a collapsed row's
}

type target struct {
	RefID      string      `json:"refId"`
	Expr       string      `json:"expr"`
	Datasource *datasource `json:"datasource"`
}

type datasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type gridPos struct{ H, W, X, Y int }

type variable struct {
	Name       string          `json:"name"`
	Type       string          `json:"type"`
	Query      json.RawMessage `json:"query"`
	Definition string          `json:"definition"`
	Current    struct {
		Value any `json:"value"`
	} `json:"current"`
	Datasource *datasource `json:"datasource"`
}

// dsVar is how every panel and query names the data source: the
// dashboard's variable, which the import sets from ${DS_PROMETHEUS}.
const dsVar = "${datasource}"

// minSchema is the schemaVersion of Grafana 10.4, the oldest the panels
// are written for (state timeline, options as they are).
const minSchema = 39

func load(t *testing.T) *dashboard {
	t.Helper()
	b, err := os.ReadFile("mxdns.json")
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("mxdns.json: %v", err)
	}
	return &d
}

// allPanels flattens rows, collapsed ones included.
func allPanels(ps []panel) []panel {
	var out []panel
	for _, p := range ps {
		out = append(out, p)
		out = append(out, allPanels(p.Panels)...)
	}
	return out
}

// structureProblems lists what would keep Grafana from importing d
// anywhere, or show a panel empty.
func structureProblems(d *dashboard) []string {
	var bad []string
	add := func(format string, args ...any) { bad = append(bad, fmt.Sprintf(format, args...)) }
	if d.Title == "" || d.UID == "" {
		add("dashboard: title %q, uid %q: both are needed", d.Title, d.UID)
	}
	switch {
	case d.SchemaVersion == nil:
		add("dashboard: no schemaVersion")
	case *d.SchemaVersion < minSchema:
		add("dashboard: schemaVersion %d, want %d or later", *d.SchemaVersion, minSchema)
	}
	if d.Editable == nil || d.GraphTooltip == nil || *d.GraphTooltip < 0 || *d.GraphTooltip > 2 || d.Time == nil {
		add("dashboard: editable, graphTooltip (0, 1 or 2) and time are required")
	}
	if !slices.Contains(d.Inputs, input{"DS_PROMETHEUS", "datasource", "prometheus"}) {
		add("dashboard: no __inputs DS_PROMETHEUS for a Prometheus data source")
	}
	vars := map[string]variable{}
	for _, v := range d.Templating.List {
		vars[v.Name] = v
	}
	if v := vars["datasource"]; v.Type != "datasource" || string(v.Query) != `"prometheus"` || v.Current.Value != "${DS_PROMETHEUS}" {
		add("templating: want a datasource variable \"datasource\" of Prometheus data sources, set from ${DS_PROMETHEUS}")
	}
	if v := vars["instance"]; v.Type != "query" || v.Datasource == nil || v.Datasource.UID != dsVar {
		add("templating: want a query variable \"instance\" on %s", dsVar)
	}

	ids := map[int]string{}
	var cells [][24]string // y → x → the panel covering it
	for _, p := range allPanels(d.Panels) {
		name := fmt.Sprintf("panel %d %q", p.ID, p.Title)
		if prev, dup := ids[p.ID]; dup || p.ID <= 0 {
			add("%s: id not unique and positive (also %s)", name, prev)
		}
		ids[p.ID] = p.Title
		if strings.TrimSpace(p.Title) == "" {
			add("%s: no title", name)
		}
		if p.Type == "" {
			add("%s: no type", name)
		}
		g := p.GridPos
		if g == nil || g.W <= 0 || g.H <= 0 || g.X < 0 || g.Y < 0 || g.X+g.W > 24 {
			add("%s: gridPos %+v: want w, h > 0 within 24 columns", name, g)
		} else {
			for len(cells) < g.Y+g.H {
				cells = append(cells, [24]string{})
			}
			for y := g.Y; y < g.Y+g.H; y++ {
				for x := g.X; x < g.X+g.W; x++ {
					if cells[y][x] != "" {
						add("%s overlaps %s at x=%d y=%d", name, cells[y][x], x, y)
						y, x = g.Y+g.H, g.X+g.W // once per panel
						break
					}
					cells[y][x] = name
				}
			}
		}
		if p.Type == "row" {
			continue
		}
		if p.Datasource == nil || p.Datasource.Type != "prometheus" || p.Datasource.UID != dsVar {
			add("%s: datasource %+v, want prometheus %s", name, p.Datasource, dsVar)
		}
		if len(p.Targets) == 0 {
			add("%s: no targets", name)
		}
		refs := map[string]bool{}
		for _, tg := range p.Targets {
			if strings.TrimSpace(tg.Expr) == "" {
				add("%s: target %q has no expr", name, tg.RefID)
			}
			if tg.RefID == "" || refs[tg.RefID] {
				add("%s: refId %q empty or repeated", name, tg.RefID)
			}
			refs[tg.RefID] = true
			if tg.Datasource != nil && tg.Datasource.UID != dsVar {
				add("%s: target %s: datasource %+v, want %s", name, tg.RefID, tg.Datasource, dsVar)
			}
		}
	}
	return bad
}

func TestDashboardStructure(t *testing.T) {
	for _, p := range structureProblems(load(t)) {
		t.Error(p)
	}
}

// metricName finds the metric names in PromQL: ours, and the client
// library's process_ and go_ series. Label names and functions have
// none of these prefixes.
var metricName = regexp.MustCompile(`\b(?:mxdns|process|go)_[a-zA-Z0-9_:]*`)

// expression is one PromQL expression of the dashboard and where it is.
type expression struct{ where, expr string }

func expressions(d *dashboard) []expression {
	var out []expression
	for _, p := range allPanels(d.Panels) {
		for _, tg := range p.Targets {
			out = append(out, expression{fmt.Sprintf("panel %d %q %s", p.ID, p.Title, tg.RefID), tg.Expr})
		}
	}
	for _, v := range d.Templating.List {
		if v.Type == "query" {
			out = append(out, expression{"variable " + v.Name, v.Definition})
			var q struct{ Query string }
			if json.Unmarshal(v.Query, &q) == nil {
				out = append(out, expression{"variable " + v.Name + " query", q.Query})
			}
		}
	}
	return out
}

// metricProblems checks every metric named in d against families (name
// → type as /metrics gives it, "" when the server registers the family
// but the scrape had no sample of it): each must be exported, a
// histogram's _bucket, _sum and _count only of a histogram, and each
// selector must follow the instance variable. It returns the problems
// and the families used.
func metricProblems(d *dashboard, families map[string]string) (bad []string, used map[string]bool) {
	used = map[string]bool{}
	for _, e := range expressions(d) {
		for _, loc := range metricName.FindAllStringIndex(e.expr, -1) {
			name := e.expr[loc[0]:loc[1]]
			family, ok := name, false
			if _, ok = families[name]; !ok {
				for _, suffix := range []string{"_bucket", "_sum", "_count"} {
					base, cut := strings.CutSuffix(name, suffix)
					if !cut {
						continue
					}
					switch typ, known := families[base]; {
					case !known:
					case typ == "histogram" || (typ == "summary" && suffix != "_bucket"):
						family, ok = base, true
					case typ == "":
						bad = append(bad, fmt.Sprintf("%s: %s: the test's scrape has no sample of %s, so whether it is a histogram is unknown: exercise it", e.where, name, base))
						family, ok = base, true
					default:
						bad = append(bad, fmt.Sprintf("%s: %s: %s is a %s, not a histogram", e.where, name, base, typ))
						family, ok = base, true
					}
				}
			}
			if !ok {
				bad = append(bad, fmt.Sprintf("%s: %s is not a metric the server exports", e.where, name))
				continue
			}
			used[family] = true
			if strings.HasPrefix(e.where, "variable") {
				continue // the variables list the instances
			}
			sel, _, closed := strings.Cut(e.expr[loc[1]:], "}")
			if !strings.HasPrefix(sel, "{") || !closed || !strings.Contains(sel, `instance=~"$instance"`) {
				bad = append(bad, fmt.Sprintf("%s: %s is not filtered by instance=~\"$instance\"", e.where, name))
			}
		}
	}
	return bad, used
}

// TestDashboardMetricsAreExported starts a server, exercises it so that
// most families have samples, scrapes its /metrics, and checks every
// metric the dashboard queries against them and against the families the
// server registers; then that every family of ours is graphed or in
// leftOut.
func TestDashboardMetricsAreExported(t *testing.T) {
	d := load(t)
	families, registered := exported(t)
	bad, used := metricProblems(d, families)
	for _, p := range bad {
		t.Error(p)
	}
	for _, name := range registered {
		if !strings.HasPrefix(name, "mxdns_") {
			continue
		}
		why, skipped := leftOut[name]
		switch {
		case used[name] && skipped:
			t.Errorf("%s is graphed and in leftOut (%s): take it out of leftOut", name, why)
		case !used[name] && !skipped:
			t.Errorf("%s is exported but no panel graphs it: add a panel, or add it to leftOut saying why", name)
		}
	}
	for name := range leftOut {
		if !slices.Contains(registered, name) {
			t.Errorf("leftOut names %s, which the server does not export", name)
		}
	}
}

// TestDashboardCheckFails: the checks above find a metric that does not
// exist, a histogram suffix on a counter, and a selector without the
// instance filter.
func TestDashboardCheckFails(t *testing.T) {
	families := map[string]string{
		"mxdns_queries_total":             "counter",
		"mxdns_response_duration_seconds": "histogram",
		"mxdns_reload_duration_seconds":   "",
	}
	d := &dashboard{}
	for i, expr := range []string{
		`sum(rate(mxdns_queries_total{instance=~"$instance"}[5m]))`,
		`histogram_quantile(0.9, sum by (le) (rate(mxdns_response_duration_seconds_bucket{instance=~"$instance"}[5m])))`,
		`sum(rate(mxdns_made_up_total{instance=~"$instance"}[5m]))`,
		`mxdns_queries_total_count{instance=~"$instance"}`,
		`rate(mxdns_queries_total[5m])`,
		`mxdns_reload_duration_seconds_sum{instance=~"$instance"}`,
	} {
		d.Panels = append(d.Panels, panel{ID: i + 1, Title: fmt.Sprint(i + 1), Targets: []target{{RefID: "A", Expr: expr}}})
	}
	bad, used := metricProblems(d, families)
	want := []string{
		`panel 3 "3" A: mxdns_made_up_total is not a metric the server exports`,
		`panel 4 "4" A: mxdns_queries_total_count: mxdns_queries_total is a counter, not a histogram`,
		`panel 5 "5" A: mxdns_queries_total is not filtered by instance=~"$instance"`,
		`panel 6 "6" A: mxdns_reload_duration_seconds_sum: the test's scrape has no sample of mxdns_reload_duration_seconds, so whether it is a histogram is unknown: exercise it`,
	}
	if !slices.Equal(bad, want) {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(bad, "\n"), strings.Join(want, "\n"))
	}
	if !used["mxdns_response_duration_seconds"] || used["mxdns_made_up_total"] {
		t.Errorf("used %v", used)
	}

	d = load(t)
	d.Panels[1].ID = d.Panels[0].ID
	d.Panels[2].Title = ""
	d.Panels[2].Datasource = nil
	d.SchemaVersion = nil
	if got := structureProblems(d); len(got) < 4 {
		t.Errorf("structure problems of a broken dashboard: %q, want at least 4", got)
	}
}

// grafanaRange are Grafana's range variables, which PromQL cannot parse
// as they are; the others ($instance, $job) are within strings.
var grafanaRange = regexp.MustCompile(`\$__(rate_interval|interval|range)\b`)

// TestDashboardPromQLParses has Prometheus's promtool parse every
// expression, as recording rules. Skipped where promtool (Debian's
// prometheus package) is missing, unless MXDNS_REQUIRE_PROMTOOL is set.
func TestDashboardPromQLParses(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("MXDNS_REQUIRE_PROMTOOL") != "" {
			t.Fatal("promtool is not installed (apt-get install prometheus), and MXDNS_REQUIRE_PROMTOOL is set")
		}
		t.Skip("promtool is not installed (apt-get install prometheus)")
	}
	type rule struct {
		Record string `json:"record"`
		Expr   string `json:"expr"`
	}
	var rules []rule
	var where []string
	for _, e := range expressions(load(t)) {
		if strings.HasPrefix(e.where, "variable") {
			continue // label_values() is Grafana's, not PromQL
		}
		rules = append(rules, rule{fmt.Sprintf("dashboard_expr_%d", len(rules)), grafanaRange.ReplaceAllString(e.expr, "5m")})
		where = append(where, e.where)
	}
	// JSON is YAML: promtool reads the rules file as it is.
	b, err := json.Marshal(map[string]any{"groups": []any{map[string]any{"name": "mxdns-dashboard", "rules": rules}}})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(promtool, "check", "rules", path).CombinedOutput()
	if err != nil {
		msg := string(out)
		for i, w := range where { // name the panels, not the rules
			msg = strings.ReplaceAll(msg, fmt.Sprintf("dashboard_expr_%d", i), w)
		}
		t.Fatalf("promtool check rules: %v\n%s", err, msg)
	}
	if !strings.Contains(string(out), fmt.Sprintf("%d rules found", len(rules))) {
		t.Errorf("promtool did not check %d rules:\n%s", len(rules), out)
	}
}

// testConfig has a link with a check, so that its series appear, and a
// link without.
const testConfig = `listen: ["127.0.0.1:0"]
admin: "127.0.0.1:0"
links:
  wan1: {check: {tcp: "CHECK", interval: 1s, timeout: 1s}}
  wan2: {}
zones:
  example.com:
    ns: [ns1]
    records:
      "@": {mx: ["10;mx1"]}
      mx1: {a: {wan1: 192.0.2.25, wan2: 198.51.100.25}}
      ns1: {a: 192.0.2.53}
`

// exported starts a server, queries it over UDP and TCP, waits for its
// link check, and scrapes its admin endpoint. It returns the families
// with their types (those the scrape lacks, registered all the same,
// with none) and the names of every family the server registers.
func exported(t *testing.T) (map[string]string, []string) {
	t.Helper()
	checked, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer checked.Close()
	go func() {
		for {
			c, err := checked.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	path := filepath.Join(t.TempDir(), "config.yaml")
	config := strings.Replace(testConfig, "CHECK", checked.Addr().String(), 1)
	if err := os.WriteFile(path, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := server.New(server.Options{Logger: slog.New(slog.DiscardHandler), ConfigPath: path})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	addr := s.Addrs()[0]
	for _, c := range []struct {
		net string
		to  net.Addr
	}{{"udp", addr.UDP}, {"tcp", addr.TCP}} {
		m := new(dns.Msg)
		m.SetQuestion("example.com.", dns.TypeMX)
		client := &dns.Client{Net: c.net, Timeout: 10 * time.Second}
		if _, _, err := client.Exchange(m, c.to.String()); err != nil {
			t.Fatalf("%s query: %v", c.net, err)
		}
	}

	url := "http://" + s.AdminAddr().String() + "/metrics"
	var types map[string]string
	for deadline := time.Now().Add(30 * time.Second); ; {
		types = scrape(t, url)
		if _, ok := types["mxdns_link_check_duration_seconds"]; ok {
			if _, ok := types["mxdns_check_ok"]; ok {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no link check on /metrics within 30s: %v", types)
		}
		time.Sleep(50 * time.Millisecond) // polling /metrics, with the deadline above
	}
	for _, want := range []string{"mxdns_queries_total", "mxdns_response_duration_seconds", "mxdns_link_up", "mxdns_reload_duration_seconds"} {
		if _, ok := types[want]; !ok {
			t.Errorf("the scrape lacks %s", want)
		}
	}
	registered := s.MetricFamilies()
	for name := range types {
		// promhttp's own error count is not the server's to name.
		if metricName.FindString(name) == name && !slices.Contains(registered, name) {
			t.Errorf("/metrics has %s, which MetricFamilies does not name", name)
		}
	}
	families := map[string]string{}
	for _, name := range registered {
		families[name] = types[name]
	}
	return families, registered
}

// scrape reads the families and their types from the TYPE lines of the
// text format.
func scrape(t *testing.T, url string) map[string]string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s: %s: %s", url, resp.Status, b)
	}
	types := map[string]string{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 4 && f[0] == "#" && f[1] == "TYPE" {
			types[f[2]] = f[3]
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return types
}
