// Package secretref is the one grammar of the references that stand for
// secrets in mcp-bridge's flags and configuration file, so that a secret
// is never written where ps or a shared file shows it:
//
//   - ${VAR}: the environment variable VAR (letters, digits and '_', not
//     starting with a digit);
//   - ${keychain:NAME}: the secret set with `mcp-bridge secret set NAME`
//     (letters, digits, '.', '-' and '_').
//
// Validation ([IsReference], [ValidName]) and expansion ([Lookups.Expand])
// use the same pattern.
package secretref

import (
	"errors"
	"fmt"
	"regexp"
	"sync"
)

const (
	varName    = `[A-Za-z_][A-Za-z0-9_]*`
	secretName = `[A-Za-z0-9_.-]+`
)

// The patterns are compiled when first used, not when the program starts:
// most starts use none.
var (
	// ref matches ${VAR} (group 1) and ${keychain:NAME} (group 2).
	ref      = lazyRegexp(refPattern)
	whole    = lazyRegexp(`^` + refPattern + `$`)
	nameOnly = lazyRegexp(`^` + secretName + `$`)
)

const refPattern = `\$\{(?:(` + varName + `)|keychain:(` + secretName + `))\}`

func lazyRegexp(pattern string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(pattern) })
}

// IsReference reports whether s is exactly one reference and nothing else:
// what a client secret in a flag or the configuration file must be.
func IsReference(s string) bool { return whole().MatchString(s) }

// ValidName reports whether name may name a secret of ${keychain:NAME}.
func ValidName(name string) bool { return nameOnly().MatchString(name) }

// Lookups resolve references.
type Lookups struct {
	// Env looks up an environment variable.
	Env func(name string) (string, bool)
	// Secret returns the secret named; nil makes ${keychain:NAME} an error.
	Secret func(name string) (string, error)
}

// Expand replaces each reference in s with its value. An unset variable
// or a missing secret is an error that names it; a set but empty variable
// expands to "". Text that is not a reference is kept as it is.
func (l Lookups) Expand(s string) (string, error) {
	var errs []error
	out := ref().ReplaceAllStringFunc(s, func(r string) string {
		m := ref().FindStringSubmatch(r)
		if m[1] != "" {
			v, ok := l.Env(m[1])
			if !ok {
				errs = append(errs, fmt.Errorf("environment variable %s is not set", m[1]))
			}
			return v
		}
		if l.Secret == nil {
			errs = append(errs, fmt.Errorf("${keychain:%s}: no secret store here", m[2]))
			return ""
		}
		v, err := l.Secret(m[2])
		if err != nil {
			errs = append(errs, err)
		}
		return v
	})
	if len(errs) > 0 {
		return "", errors.Join(errs...)
	}
	return out, nil
}
