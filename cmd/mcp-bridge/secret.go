package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/mcp-bridge/mcp-bridge/internal/secretref"
)

// runSecret sets or deletes a secret that the configuration file or a
// flag refers to as ${keychain:NAME}. The value is read from stdin, never
// from the command line, which ps shows.
func runSecret(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || (args[0] != "set" && args[0] != "delete") {
		printShortUsage(stderr, "secret")
		return exitUsage
	}
	verb := args[0]
	o := &bridgeOptions{}
	pos, code, ok := parseFlags("secret "+verb, secretFlags(o), args[1:], stderr)
	if !ok {
		return code
	}
	if len(pos) != 1 || !secretref.ValidName(pos[0]) {
		fmt.Fprintln(stderr, "mcp-bridge secret: want one NAME, of letters, digits, '.', '-' and '_'")
		printShortUsage(stderr, "secret")
		return exitUsage
	}
	name := pos[0]
	log, closeLog, err := newLogger(stderr, nil, "warn", "")
	if err != nil {
		return exitError
	}
	defer closeLog()
	w, err := wire(o, process{log: log})
	if err != nil {
		fmt.Fprintf(stderr, "mcp-bridge secret: %v\n", err)
		return exitError
	}
	if verb == "delete" {
		if err := w.store.DeleteSecret(ctx, name); err != nil {
			fmt.Fprintf(stderr, "mcp-bridge secret delete: %v\n", err)
			return exitError
		}
		fmt.Fprintf(stdout, "Deleted secret %s from %s.\n", name, w.store.SecretLocation(name))
		return exitOK
	}
	value, err := readSecret(stdin, stderr, name)
	if err != nil {
		fmt.Fprintf(stderr, "mcp-bridge secret set: %v\n", err)
		return exitError
	}
	if err := w.store.SetSecret(ctx, name, value); err != nil {
		fmt.Fprintf(stderr, "mcp-bridge secret set: %v\n", err)
		return exitError
	}
	fmt.Fprintf(stdout, "Stored secret %s in %s; refer to it as ${keychain:%s}.\n", name, w.store.SecretLocation(name), name)
	return exitOK
}

// secretFlags are secret's flags: which store keeps the secret.
func secretFlags(o *bridgeOptions) *flag.FlagSet {
	return subset(bridgeFlags(o), "token-store")
}

// readSecret reads one line: without echo from a terminal, else from the
// pipe.
func readSecret(stdin io.Reader, prompt io.Writer, name string) (string, error) {
	var line string
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprintf(prompt, "Value of %s (not shown): ", name)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(prompt)
		if err != nil {
			return "", err
		}
		line = string(b)
	} else {
		s, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && (err != io.EOF || s == "") {
			return "", errors.New("no value on stdin")
		}
		line = s
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("the value is empty")
	}
	return line, nil
}
