//go:build (dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd

package tokenstore

import (
	"context"
	"strings"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/zalando/go-keyring"
)

// Names of the Secret Service D-Bus API, version 0.2:
// https://specifications.freedesktop.org/secret-service-spec/0.2/
const (
	ssName       = "org.freedesktop.secrets"
	ssPath       = "/org/freedesktop/secrets"
	ssLogin      = ssPath + "/collection/login"
	ssService    = "org.freedesktop.Secret.Service"
	ssItem       = "org.freedesktop.Secret.Item"
	ssSession    = "org.freedesktop.Secret.Session"
	ssCollection = "org.freedesktop.Secret.Collection"
)

// secretServiceGet reads the item that go-keyring's Get would read (the
// one with attributes service and username=user in the login collection)
// through the Secret Service API itself, in two round trips where
// go-keyring takes seven one after the other: Service.SearchItems, the
// login collection's Locked property and Service.OpenSession go out
// together, then Item.GetSecret; Session.Close expects no reply. A start
// with stored credentials pays for this read (issue 14).
//
// It never unlocks anything, so it never prompts: ok is false, and the
// caller should use go-keyring's Get, where anything is unusual (the login
// collection missing or locked, the item locked, an error).
func secretServiceGet(service, user string) (secret string, ok bool, err error) {
	conn, err := dbus.SessionBus() // the connection go-keyring shares
	if err != nil {
		return "", false, nil
	}
	svc := conn.Object(ssName, ssPath)
	attrs := map[string]string{"username": user, "service": service}
	search := svc.Go(ssService+".SearchItems", 0, nil, attrs)
	locked := conn.Object(ssName, ssLogin).Go("org.freedesktop.DBus.Properties.Get", 0, nil, ssCollection, "Locked")
	open := svc.Go(ssService+".OpenSession", 0, nil, "plain", dbus.MakeVariant(""))

	var session dbus.ObjectPath
	var output dbus.Variant
	if (<-open.Done).Store(&output, &session) == nil {
		defer conn.Object(ssName, session).Go(ssSession+".Close", dbus.FlagNoReplyExpected, nil)
	}
	var isLocked dbus.Variant
	var unlockedItems, lockedItems []dbus.ObjectPath
	if (<-locked.Done).Store(&isLocked) != nil || isLocked.Value() != any(false) {
		return "", false, nil
	}
	if (<-search.Done).Store(&unlockedItems, &lockedItems) != nil || session == "" {
		return "", false, nil
	}
	item, found := inLogin(unlockedItems)
	if _, l := inLogin(lockedItems); l {
		return "", false, nil
	}
	if !found {
		return "", true, keyring.ErrNotFound
	}
	var s struct {
		Session     dbus.ObjectPath
		Parameters  []byte
		Value       []byte
		ContentType string
	}
	if conn.Object(ssName, item).Call(ssItem+".GetSecret", 0, session).Store(&s) != nil {
		return "", false, nil
	}
	return string(s.Value), true, nil
}

// inLogin returns the first of items in the login collection.
func inLogin(items []dbus.ObjectPath) (dbus.ObjectPath, bool) {
	for _, it := range items {
		if strings.HasPrefix(string(it), ssLogin+"/") {
			return it, true
		}
	}
	return "", false
}

// keychainLocked reports whether the Secret Service's login collection is
// there and locked. It asks without unlocking, so it never prompts.
// A Secret Service that does not answer within a second is not.
func keychainLocked() bool {
	if sessionBusKnown() != nil {
		return false
	}
	conn, err := dbus.SessionBus()
	if err != nil {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	var locked dbus.Variant
	if conn.Object(ssName, ssLogin).CallWithContext(ctx, "org.freedesktop.DBus.Properties.Get", 0, ssCollection, "Locked").Store(&locked) != nil {
		return false
	}
	return locked.Value() == any(true)
}
