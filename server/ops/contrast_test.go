package ops

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestPageContrast computes, from the embedded style sheet, the contrast
// ratio (WCAG 2.x) of every pair of colours the page puts together, in
// the light palette and the dark one: text at least 4.5:1 (AA), the
// bars of the charts at least 3:1 against the page (non-text contrast).
func TestPageContrast(t *testing.T) {
	css, err := pageFiles.ReadFile("statuspage.css")
	if err != nil {
		t.Fatal(err)
	}
	light, dark, ok := strings.Cut(string(css), "@media (prefers-color-scheme: dark)")
	if !ok {
		t.Fatal("no dark palette in the style sheet")
	}
	text := [][2]string{
		{"fg", "bg"}, {"muted", "bg"}, {"fg", "panel"}, {"muted", "panel"}, {"link", "bg"}, {"bg", "link"}, // the filter button
		{"up-fg", "up-bg"}, {"down-fg", "down-bg"}, {"forced-fg", "forced-bg"},
	}
	bars := [][2]string{{"up-bar", "bg"}, {"down-bar", "bg"}, {"forced-bar", "bg"}, {"none-bar", "bg"}, {"rate-bar", "bg"}, {"muted", "bg"}}
	for name, block := range map[string]string{"light": light, "dark": dark} {
		palette := colours(t, block)
		check := func(pairs [][2]string, least float64) {
			for _, p := range pairs {
				fg, ok1 := palette[p[0]]
				bg, ok2 := palette[p[1]]
				if !ok1 || !ok2 {
					t.Errorf("%s: --%s or --%s not in the palette", name, p[0], p[1])
					continue
				}
				if r := contrast(fg, bg); r < least {
					t.Errorf("%s: --%s on --%s has contrast %.2f:1, want at least %.1f:1", name, p[0], p[1], r, least)
				} else {
					t.Logf("%s: --%s on --%s %.2f:1", name, p[0], p[1], r)
				}
			}
		}
		check(text, 4.5)
		check(bars, 3)
	}
}

// TestContrastFormula holds contrast to the values WCAG's examples give.
func TestContrastFormula(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want float64
	}{{"000000", "ffffff", 21}, {"ffffff", "ffffff", 1}, {"777777", "ffffff", 4.48}, {"767676", "ffffff", 4.54}} {
		if got := contrast(c.a, c.b); math.Abs(got-c.want) > 0.01 {
			t.Errorf("contrast #%s on #%s: %.3f, want %.2f", c.a, c.b, got, c.want)
		}
	}
}

var colourDecl = regexp.MustCompile(`--([a-z-]+):\s*#([0-9a-fA-F]{6})\s*;`)

func colours(t *testing.T, block string) map[string]string {
	out := map[string]string{}
	for _, m := range colourDecl.FindAllStringSubmatch(block, -1) {
		out[m[1]] = m[2]
	}
	if len(out) == 0 {
		t.Fatal("no colours found")
	}
	return out
}

// contrast is (L1 + 0.05) / (L2 + 0.05) of two sRGB colours written
// "rrggbb", L1 the lighter's relative luminance.
func contrast(a, b string) float64 {
	la, lb := luminance(a), luminance(b)
	return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)
}

// luminance is the relative luminance of WCAG 2.x: each channel made
// linear, then weighted 0.2126, 0.7152, 0.0722.
func luminance(hex string) float64 {
	lin := func(i int) float64 {
		v, _ := strconv.ParseUint(hex[i:i+2], 16, 8)
		c := float64(v) / 255
		if c <= 0.04045 {
			return c / 12.92
		}
		return math.Pow((c+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(0) + 0.7152*lin(2) + 0.0722*lin(4)
}
