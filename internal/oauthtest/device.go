package oauthtest

import (
	"crypto/rand"
	"errors"
	"html/template"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// A deviceGrant is an RFC 8628 device authorization in progress.
type deviceGrant struct {
	grant
	deviceCode string
	userCode   string // normalized: 8 letters, no dash
	expiry     time.Time
	interval   time.Duration
	lastPoll   time.Time
	decision   int // 0 pending, 1 approved, -1 denied
}

// userCodeAlphabet avoids vowels and look-alikes (RFC 8628 §6.1).
const userCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ"

func newUserCode() string {
	var b strings.Builder
	for range 8 {
		n, _ := rand.Int(rand.Reader, big.NewInt(int64(len(userCodeAlphabet))))
		b.WriteByte(userCodeAlphabet[n.Int64()])
	}
	return b.String()
}

// normalizeUserCode drops dashes and spaces and upper-cases, so "wdjb-mjht"
// matches "WDJBMJHT".
func normalizeUserCode(s string) string {
	return strings.ToUpper(strings.NewReplacer("-", "", " ", "").Replace(s))
}

// handleDeviceAuthorization is the device authorization endpoint (RFC 8628
// §3.1). With AutoApprove the code is approved at once.
func (a *AuthServer) handleDeviceAuthorization(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		a.fail(w, r, "", errorf("invalid_request", "form: %v", err))
		return
	}
	c, err := a.authenticate(r)
	if err == nil {
		err = c.mayUse(GrantDeviceCode)
	}
	if err != nil {
		a.fail(w, r, r.PostForm.Get("client_id"), err)
		return
	}
	g, err := a.newGrant(c, a.opts.Subject, r.PostForm)
	if err != nil {
		a.fail(w, r, c.ID, err)
		return
	}
	d := &deviceGrant{
		grant:      g,
		deviceCode: newSecret(),
		userCode:   newUserCode(),
		expiry:     a.now().Add(a.opts.DeviceCodeTTL),
		interval:   a.opts.DevicePollInterval,
	}
	if a.opts.AutoApprove {
		d.decision = 1
	}
	a.mu.Lock()
	a.devices[d.deviceCode] = d
	a.userCodes[d.userCode] = d
	a.stats.DeviceAuthorizations++
	if a.opts.AutoApprove {
		a.stats.Consents++
	}
	a.mu.Unlock()
	verify := a.issuer + "/device"
	userCode := d.userCode[:4] + "-" + d.userCode[4:]
	writeJSON(w, http.StatusOK, map[string]any{
		"device_code":               d.deviceCode,
		"user_code":                 userCode,
		"verification_uri":          verify,
		"verification_uri_complete": verify + "?" + url.Values{"user_code": {userCode}}.Encode(),
		"expires_in":                int64(a.opts.DeviceCodeTTL / time.Second),
		"interval":                  int64(d.interval / time.Second),
	})
	a.emit(Event{Kind: EventDeviceAuthorization, Endpoint: r.URL.Path, ClientID: c.ID, Scope: strings.Join(g.scopes, " "), Resource: g.resource})
}

// deviceCodeGrant answers a device's poll (RFC 8628 §3.4, §3.5).
func (a *AuthServer) deviceCodeGrant(c *client, form url.Values) (*tokenResponse, grant, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	d, ok := a.devices[form.Get("device_code")]
	switch {
	case !ok:
		return nil, grant{}, errorf("invalid_grant", "unknown device_code")
	case d.clientID != c.ID:
		return nil, grant{}, errorf("invalid_grant", "device_code was issued to another client")
	case !now.Before(d.expiry):
		a.dropDeviceLocked(d)
		return nil, grant{}, errorf("expired_token", "device_code expired")
	case d.decision < 0:
		a.dropDeviceLocked(d)
		return nil, grant{}, errorf("access_denied", "the user denied the request")
	case d.decision > 0:
		if err := a.checkResource(form, d.grant); err != nil {
			return nil, grant{}, err
		}
		a.dropDeviceLocked(d)
		return a.issueLocked(d.grant, &d.grant), d.grant, nil
	}
	early := !d.lastPoll.IsZero() && now.Sub(d.lastPoll) < d.interval
	d.lastPoll = now
	if early {
		d.interval += 5 * time.Second
		return nil, grant{}, errorf("slow_down", "poll every %s", d.interval)
	}
	return nil, grant{}, errorf("authorization_pending", "the user has not answered yet")
}

func (a *AuthServer) dropDeviceLocked(d *deviceGrant) {
	delete(a.devices, d.deviceCode)
	delete(a.userCodes, d.userCode)
}

// ErrUnknownUserCode is returned by [AuthServer.ApproveDevice] and
// [AuthServer.DenyDevice] for a user code that is unknown, expired or
// already answered.
var ErrUnknownUserCode = errors.New("unknown user code")

// ApproveDevice approves the device authorization with userCode, as the user
// would on the verification page. Dashes, spaces and case do not matter.
func (a *AuthServer) ApproveDevice(userCode string) error { return a.decideDevice(userCode, true) }

// DenyDevice denies the device authorization with userCode.
func (a *AuthServer) DenyDevice(userCode string) error { return a.decideDevice(userCode, false) }

func (a *AuthServer) decideDevice(userCode string, approve bool) error {
	a.mu.Lock()
	d, ok := a.userCodes[normalizeUserCode(userCode)]
	ok = ok && d.decision == 0 && a.now().Before(d.expiry)
	if ok {
		if approve {
			d.decision = 1
			a.stats.Consents++
		} else {
			d.decision = -1
			a.stats.Denials++
		}
	}
	a.mu.Unlock()
	if !ok {
		return ErrUnknownUserCode
	}
	kind := EventDenied
	if approve {
		kind = EventConsent
	}
	a.emit(Event{Kind: kind, Endpoint: a.opts.IssuerPath + "/device", ClientID: d.clientID, Scope: strings.Join(d.scopes, " "), Resource: d.resource})
	return nil
}

// handleDevicePage is the verification page where the user enters the code.
func (a *AuthServer) handleDevicePage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = devicePage().Execute(w, map[string]string{"Action": r.URL.Path, "UserCode": r.URL.Query().Get("user_code")})
}

// handleDeviceApproval takes the verification page's answer.
func (a *AuthServer) handleDeviceApproval(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	approve := r.PostForm.Get("action") == "approve"
	msg := "Denied. You can close this page."
	if approve {
		msg = "Approved. Return to your device."
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := a.decideDevice(r.PostForm.Get("user_code"), approve); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		msg = "Unknown or expired code."
	}
	_ = deviceDonePage().Execute(w, msg)
}

var devicePage = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("device").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>Connect a device</title></head>
<body><h1>Connect a device</h1>
<form method="post" action="{{.Action}}">
<label>Code <input name="user_code" value="{{.UserCode}}" autocomplete="off"></label>
<button type="submit" name="action" value="approve">Approve</button>
<button type="submit" name="action" value="deny">Deny</button>
</form></body></html>
`))
})

var deviceDonePage = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("device-done").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>Connect a device</title></head>
<body><p>{{.}}</p></body></html>
`))
})
