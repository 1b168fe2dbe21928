//go:build !unix

package main

import (
	"io"
	"os"
)

// pollableStdin returns stdin: on this system reads block a thread.
func pollableStdin() io.Reader { return os.Stdin }

// pollableStdout returns stdout.
func pollableStdout() io.Writer { return os.Stdout }
