//go:build !unix

package main

import (
	"io"
	"os"
)

// pollableStdio returns stdin and stdout: on this system reads block a
// thread.
func pollableStdio() (in io.Reader, out io.Writer, restore func()) {
	return os.Stdin, os.Stdout, func() {}
}
