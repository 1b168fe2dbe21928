package main

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// printTable prints one line per scenario: its name, category, result,
// whether that was expected, its time and, for a failure, the failed checks.
func printTable(w io.Writer, ss []scenario, oc []outcome, expected map[string]string) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\nSCENARIO\tCATEGORY\tRESULT\tVERDICT\tTIME")
	for i, s := range ss {
		result := "pass"
		if !oc[i].Passed {
			result = "FAIL"
		}
		_, exp := expected[s.Name]
		verdict := "ok"
		switch {
		case oc[i].Passed && exp:
			verdict = "UNEXPECTED PASS"
		case !oc[i].Passed && exp:
			verdict = "expected"
		case !oc[i].Passed:
			verdict = "UNEXPECTED FAIL"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.Name, s.Category(), result, verdict,
			oc[i].Elapsed.Round(100*time.Millisecond))
	}
	tw.Flush()
	first := true
	for i, s := range ss {
		if oc[i].Passed {
			continue
		}
		if first {
			fmt.Fprintln(w, "\nWhy each failed:")
			first = false
		}
		fmt.Fprintf(w, "  %s\n", s.Name)
		if r, ok := expected[s.Name]; ok {
			fmt.Fprintf(w, "    expected: %s\n", r)
		}
		fmt.Fprintf(w, "    checks:   %s\n", clip(oc[i].Detail, 400))
		if oc[i].Client != "" {
			fmt.Fprintf(w, "    client:   %s\n", clip(oc[i].Client, 400))
		}
	}
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
