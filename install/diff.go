package install

import (
	"fmt"
	"strings"
)

// context is how many unchanged lines a diff shows around a change.
const context = 3

// Diff returns a unified diff from old to new, labelled with the two
// names, or "" if they are equal. An edit by Add or Remove touches one
// stretch of lines, so the diff is one hunk: the lines between the common
// head and the common tail, with context around them.
func Diff(oldName, newName string, old, new []byte) string {
	if string(old) == string(new) {
		return ""
	}
	a, b := splitLines(string(old)), splitLines(string(new))
	head := 0
	for head < len(a) && head < len(b) && a[head] == b[head] {
		head++
	}
	tail := 0
	for tail < len(a)-head && tail < len(b)-head && a[len(a)-1-tail] == b[len(b)-1-tail] {
		tail++
	}
	from := max(head-context, 0)
	aEnd, bEnd := len(a)-tail, len(b)-tail
	aTo, bTo := min(aEnd+context, len(a)), min(bEnd+context, len(b))

	var s strings.Builder
	fmt.Fprintf(&s, "--- %s\n+++ %s\n", oldName, newName)
	fmt.Fprintf(&s, "@@ -%s +%s @@\n", hunkRange(from, aTo-from), hunkRange(from, bTo-from))
	for _, l := range a[from:head] {
		writeLine(&s, " ", l)
	}
	for _, l := range a[head:aEnd] {
		writeLine(&s, "-", l)
	}
	for _, l := range b[head:bEnd] {
		writeLine(&s, "+", l)
	}
	for _, l := range a[aEnd:aTo] {
		writeLine(&s, " ", l)
	}
	return s.String()
}

// splitLines splits s after each "\n"; the last line may lack one.
func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	lines := strings.SplitAfter(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

func writeLine(s *strings.Builder, mark, line string) {
	s.WriteString(mark)
	s.WriteString(strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r"))
	s.WriteString("\n")
	if !strings.HasSuffix(line, "\n") {
		s.WriteString("\\ No newline at end of file\n")
	}
}

// hunkRange writes a unified diff range: the first line (1-based) and the
// count; an empty range starts at the line before.
func hunkRange(start, n int) string {
	if n == 0 {
		return fmt.Sprintf("%d,0", start)
	}
	if n == 1 {
		return fmt.Sprintf("%d", start+1)
	}
	return fmt.Sprintf("%d,%d", start+1, n)
}
