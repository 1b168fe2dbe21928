package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/mcp-bridge/mcp-bridge/tokenstore"
)

// secretPrefix starts the store keys of the secrets that ${keychain:NAME}
// references name.
const secretPrefix = "secret."

// secret returns the secret set under name with `mcp-bridge secret set`.
func (s credStore) secret(ctx context.Context, name string) (string, error) {
	v, err := s.store.Get(ctx, secretPrefix+name)
	if errors.Is(err, tokenstore.ErrNotFound) {
		return "", fmt.Errorf("${keychain:%s}: no such secret in %s; set it with: mcp-bridge secret set %s", name, s.store.Location(secretPrefix+name), name)
	}
	if err != nil {
		return "", fmt.Errorf("${keychain:%s}: %w", name, err)
	}
	return string(v), nil
}

// runSecret sets or deletes a secret that the configuration file or a
// flag refers to as ${keychain:NAME}. The value is read from stdin, never
// from the command line, which ps shows.
func runSecret(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	const use = "usage: mcp-bridge secret set|delete [--token-store KIND] NAME (set reads the value from stdin)"
	if len(args) == 0 || (args[0] != "set" && args[0] != "delete") {
		fmt.Fprintln(stderr, use)
		return exitUsage
	}
	verb := args[0]
	a, _, pos, code := openStoreFlags("secret "+verb, args[1:], nil, stderr)
	if a == nil {
		return code
	}
	if len(pos) != 1 || !ref.MatchString("${keychain:"+pos[0]+"}") {
		fmt.Fprintln(stderr, use+"; NAME is letters, digits, '.', '-' and '_'")
		return exitUsage
	}
	name := pos[0]
	log, closeLog, err := newLogger(stderr, nil, "warn", "")
	if err != nil {
		return exitError
	}
	defer closeLog()
	store, err := a.store(log)
	if err != nil {
		fmt.Fprintf(stderr, "mcp-bridge secret: %v\n", err)
		return exitError
	}
	key := secretPrefix + name
	if verb == "delete" {
		if err := store.store.Delete(ctx, key); err != nil {
			fmt.Fprintf(stderr, "mcp-bridge secret delete: %v\n", err)
			return exitError
		}
		fmt.Fprintf(stdout, "Deleted secret %s from %s.\n", name, store.store.Location(key))
		return exitOK
	}
	value, err := readSecret(stdin, stderr, name)
	if err != nil {
		fmt.Fprintf(stderr, "mcp-bridge secret set: %v\n", err)
		return exitError
	}
	if err := store.store.Set(ctx, key, []byte(value)); err != nil {
		fmt.Fprintf(stderr, "mcp-bridge secret set: %v\n", err)
		return exitError
	}
	fmt.Fprintf(stdout, "Stored secret %s in %s; refer to it as ${keychain:%s}.\n", name, store.store.Location(key), name)
	return exitOK
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
