package oauthtest

import (
	"crypto"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"
)

// TestWorkloadJWTBearer: the token endpoint takes a workload JWT from a
// trusted issuer with no client at all, for the token endpoint or the
// issuer as audience, and refuses every other JWT with invalid_grant.
func TestWorkloadJWTBearer(t *testing.T) {
	const cluster = "https://kubernetes.default.svc"
	c := NewClock()
	wi := NewWorkloadIssuer(cluster)
	wi.Now = c.Now
	stranger := NewWorkloadIssuer(cluster) // same iss, another key
	stranger.Now = c.Now
	untrusted := NewWorkloadIssuer("https://evil.example.com")
	untrusted.Now = c.Now
	a := startAS(t, &ASOptions{WorkloadIssuers: map[string]crypto.PublicKey{cluster: wi.Public()}, Now: c.Now})
	grant := func(assertion string) (int, map[string]any) {
		return post(t, a, "/token", url.Values{"grant_type": {GrantJWTBearer}, "assertion": {assertion}, "resource": {resource}})
	}

	_, meta := getJSON(t, a.Client(), a.Issuer()+"/.well-known/oauth-authorization-server")
	if gs, _ := meta["grant_types_supported"].([]any); !slices.Contains(gs, any(GrantJWTBearer)) {
		t.Errorf("grant_types_supported = %v, want the jwt-bearer grant", gs)
	}
	for name, aud := range map[string]string{"token endpoint": a.TokenEndpoint(), "issuer": a.Issuer()} {
		status, m := grant(wi.Sign("system:serviceaccount:ci:agent", aud, 10*time.Minute))
		if status != 200 {
			t.Fatalf("%s as audience: %d %v", name, status, m)
		}
		info, err := a.Verify(t.Context(), m["access_token"].(string), nil)
		if err != nil || info.UserID != "system:serviceaccount:ci:agent" || info.Extra["aud"] != resource || m["refresh_token"] != nil {
			t.Errorf("%s as audience: Verify: %+v %v; response %v", name, info, err, m)
		}
	}
	// A platform hands out one JWT for many requests.
	again := wi.Sign("agent", a.TokenEndpoint(), 10*time.Minute)
	for range 2 {
		if status, m := grant(again); status != 200 {
			t.Errorf("the same JWT again: %d %v", status, m)
		}
	}
	if got := a.Stats().WorkloadGrants; got != 4 {
		t.Errorf("WorkloadGrants = %d, want 4", got)
	}

	for name, as := range map[string]string{
		"expired":          wi.Sign("agent", a.TokenEndpoint(), -time.Second),
		"wrong audience":   wi.Sign("agent", "https://other.example.com/token", 10*time.Minute),
		"wrong signature":  stranger.Sign("agent", a.TokenEndpoint(), 10*time.Minute),
		"untrusted issuer": untrusted.Sign("agent", a.TokenEndpoint(), 10*time.Minute),
		"no sub":           wi.Sign("", a.TokenEndpoint(), 10*time.Minute),
		"not a JWT":        "garbage",
	} {
		status, m := grant(as)
		wantError(t, status, m, http.StatusBadRequest, "invalid_grant")
		if t.Failed() {
			t.Logf("case %s", name)
		}
	}
	status, m := post(t, a, "/token", url.Values{"grant_type": {GrantJWTBearer}})
	wantError(t, status, m, http.StatusBadRequest, "invalid_request")

	// Without workload issuers the grant needs a client, as before.
	a2 := startAS(t, nil)
	status, m = post(t, a2, "/token", url.Values{"grant_type": {GrantJWTBearer}, "assertion": {wi.Sign("agent", a2.TokenEndpoint(), time.Minute)}})
	wantError(t, status, m, http.StatusUnauthorized, "invalid_client")
}
