package oauthtest

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

func TestDeviceFlow(t *testing.T) {
	c := NewClock()
	var rec EventLog
	a := startAS(t, &ASOptions{Now: c.Now, OnEvent: rec.Record})
	cfg := config(a)
	da, err := cfg.DeviceAuth(ctxFor(t, a), oauth2.SetAuthURLParam("resource", resource))
	if err != nil {
		t.Fatal(err)
	}
	if len(da.UserCode) != 9 || da.VerificationURI != a.Issuer()+"/device" ||
		!strings.HasPrefix(da.VerificationURIComplete, da.VerificationURI+"?user_code=") || da.Interval != 5 {
		t.Errorf("device authorization %+v", da)
	}
	poll := func() (int, map[string]any) {
		return post(t, a, "/token", url.Values{"grant_type": {GrantDeviceCode}, "device_code": {da.DeviceCode}, "client_id": {publicID}})
	}
	status, m := poll()
	wantError(t, status, m, http.StatusBadRequest, "authorization_pending")
	status, m = poll() // at once: too fast
	wantError(t, status, m, http.StatusBadRequest, "slow_down")
	c.Advance(9 * time.Second) // the interval is now 10s
	status, m = poll()
	wantError(t, status, m, http.StatusBadRequest, "slow_down")
	c.Advance(15 * time.Second)
	status, m = poll()
	wantError(t, status, m, http.StatusBadRequest, "authorization_pending")

	if err := a.ApproveDevice(strings.ToLower(da.UserCode)); err != nil {
		t.Fatal(err)
	}
	if err := a.ApproveDevice(da.UserCode); err != ErrUnknownUserCode {
		t.Errorf("second approval: %v, want ErrUnknownUserCode", err)
	}
	status, m = poll()
	if status != 200 || m["refresh_token"] == nil {
		t.Fatalf("after approval: %d %v", status, m)
	}
	if info, err := a.Verify(t.Context(), m["access_token"].(string), nil); err != nil || info.Extra["aud"] != resource {
		t.Errorf("Verify: %+v %v", info, err)
	}
	status, m = poll()
	wantError(t, status, m, http.StatusBadRequest, "invalid_grant")
	if s := a.Stats(); s.DeviceAuthorizations != 1 || s.Consents != 1 || s.TokenRequests[GrantDeviceCode] != 6 {
		t.Errorf("Stats %+v", s)
	}
	if k := kinds(&rec); k[0] != EventDeviceAuthorization {
		t.Errorf("events %v", k)
	}
}

func TestDeviceDenyExpireAndPage(t *testing.T) {
	c := NewClock()
	a := startAS(t, &ASOptions{Now: c.Now, DeviceCodeTTL: time.Minute})
	start := func() (deviceCode, userCode string) {
		status, m := post(t, a, "/device_authorization", url.Values{"client_id": {publicID}, "scope": {"read"}})
		if status != 200 {
			t.Fatalf("device authorization: %d %v", status, m)
		}
		if m["expires_in"] != float64(60) {
			t.Errorf("expires_in %v", m["expires_in"])
		}
		return m["device_code"].(string), m["user_code"].(string)
	}
	poll := func(dc string) (int, map[string]any) {
		return post(t, a, "/token", url.Values{"grant_type": {GrantDeviceCode}, "device_code": {dc}, "client_id": {publicID}})
	}

	dc, uc := start()
	if err := a.DenyDevice(uc); err != nil {
		t.Fatal(err)
	}
	status, m := poll(dc)
	wantError(t, status, m, http.StatusBadRequest, "access_denied")

	dc, _ = start()
	c.Advance(time.Minute)
	status, m = poll(dc)
	wantError(t, status, m, http.StatusBadRequest, "expired_token")

	// The verification page, as a user would use it.
	dc, uc = start()
	resp, err := a.Client().Get(a.Issuer() + "/device?user_code=" + url.QueryEscape(uc))
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), `value="`+uc+`"`) {
		t.Errorf("verification page lacks the code:\n%s", page)
	}
	resp, err = a.Client().PostForm(a.Issuer()+"/device", url.Values{"user_code": {uc}, "action": {"approve"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("approve on the page: %s", resp.Status)
	}
	if status, m := poll(dc); status != 200 {
		t.Errorf("after page approval: %d %v", status, m)
	}
	resp, err = a.Client().PostForm(a.Issuer()+"/device", url.Values{"user_code": {"BBBB-BBBB"}, "action": {"approve"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown code on the page: %s", resp.Status)
	}
	// Another client cannot poll for it.
	dc, _ = start()
	status, m = post(t, a, "/token", url.Values{"grant_type": {GrantDeviceCode}, "device_code": {dc}}, func(r *http.Request) { r.SetBasicAuth(confidential, secret) })
	wantError(t, status, m, http.StatusBadRequest, "invalid_grant")
}

func TestDeviceAutoApprove(t *testing.T) {
	a := startAS(t, &ASOptions{AutoApprove: true})
	status, m := post(t, a, "/device_authorization", url.Values{"client_id": {publicID}})
	if status != 200 {
		t.Fatalf("%d %v", status, m)
	}
	status, m = post(t, a, "/token", url.Values{"grant_type": {GrantDeviceCode}, "device_code": {m["device_code"].(string)}, "client_id": {publicID}})
	if status != 200 {
		t.Errorf("first poll: %d %v", status, m)
	}
}
