package tokenstore

import (
	"testing"

	ss "github.com/zalando/go-keyring/secret_service"
)

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
