package tokenstore

import (
	"errors"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/zalando/go-keyring"
	ss "github.com/zalando/go-keyring/secret_service"
)

// checkDirect checks that secretServiceGet, the read a start makes, reads
// account here without go-keyring (this session's login collection is
// unlocked) and finds what go-keyring's Get finds.
func checkDirect(t *testing.T, account string) {
	t.Helper()
	start := time.Now()
	got, ok, err := secretServiceGet(Service, account)
	took := time.Since(start)
	want, wantErr := keyring.Get(Service, account)
	if !ok || got != want || !errors.Is(err, wantErr) {
		t.Errorf("secretServiceGet(%q) = %d bytes, %v, %v; go-keyring's Get: %d bytes, %v", account, len(got), err, ok, len(want), wantErr)
	}
	t.Logf("direct read of %q: %v", account, took)
}

// realAccounts lists the accounts (username attributes) of the items of
// service Service in the Secret Service's login collection, through its
// D-Bus API rather than go-keyring's Get.
func realAccounts(t *testing.T) ([]string, bool) {
	t.Helper()
	svc, err := ss.NewSecretService()
	if err != nil {
		t.Fatalf("Secret Service: %v", err)
	}
	items, err := svc.SearchItems(svc.GetLoginCollection(), map[string]string{"service": Service})
	if err != nil {
		t.Fatalf("Secret Service: search items: %v", err)
	}
	var accounts []string
	for _, item := range items {
		v, err := svc.Object("org.freedesktop.secrets", item).GetProperty("org.freedesktop.Secret.Item.Attributes")
		if err != nil {
			t.Fatalf("Secret Service: attributes of %s: %v", item, err)
		}
		attrs, ok := v.Value().(map[string]string)
		if !ok {
			t.Fatalf("Secret Service: attributes of %s are %T", item, v.Value())
		}
		accounts = append(accounts, attrs["username"])
	}
	return accounts, true
}

// lockLogin locks the Secret Service's login collection, as a screen lock
// or a keyring timeout does.
func lockLogin(t *testing.T) bool {
	t.Helper()
	conn, err := dbus.SessionBus()
	if err != nil {
		t.Fatalf("Secret Service: %v", err)
	}
	var locked []dbus.ObjectPath
	var prompt dbus.ObjectPath
	if err := conn.Object(ssName, ssPath).Call(ssService+".Lock", 0, []dbus.ObjectPath{ssLogin}).Store(&locked, &prompt); err != nil {
		t.Fatalf("Secret Service: lock the login collection: %v", err)
	}
	return len(locked) == 1 && prompt == "/"
}
