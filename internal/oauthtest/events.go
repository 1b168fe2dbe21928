package oauthtest

import (
	"fmt"
	"maps"
	"sync"
	"time"
)

// An EventKind names what an [Event] reports.
type EventKind string

// The kinds of [Event].
const (
	// EventAuthorizationRequest reports a request to the authorization
	// endpoint, before validation.
	EventAuthorizationRequest EventKind = "authorization_request"
	// EventConsent reports that the user (or AutoApprove) approved an
	// authorization request or a device code.
	EventConsent EventKind = "consent"
	// EventDenied reports that the user denied an authorization request or
	// a device code.
	EventDenied EventKind = "denied"
	// EventTokenIssued reports that the token endpoint issued an access
	// token; GrantType tells how.
	EventTokenIssued EventKind = "token_issued"
	// EventRegistered reports a dynamic client registration (RFC 7591).
	EventRegistered EventKind = "registered"
	// EventClientMetadataFetched reports a fetch of a Client ID Metadata
	// Document; ClientID is its URL.
	EventClientMetadataFetched EventKind = "client_metadata_fetched"
	// EventDeviceAuthorization reports an issued device code (RFC 8628).
	EventDeviceAuthorization EventKind = "device_authorization"
	// EventRevoked reports a revoked token (RFC 7009).
	EventRevoked EventKind = "revoked"
	// EventRejected reports a refused request; Error holds the OAuth error
	// code and Description why.
	EventRejected EventKind = "rejected"
)

// An Event reports something the [AuthServer] did, for tests and for the
// demo's narration. It never holds a token, code, secret or verifier.
type Event struct {
	Kind EventKind
	// Endpoint is the path of the endpoint that produced the event.
	Endpoint string
	// ClientID is the client concerned, if known.
	ClientID string
	// GrantType is the grant_type of a token request.
	GrantType string
	// Scope is the requested or granted scope, space-separated.
	Scope string
	// Resource is the RFC 8707 resource (or Auth0-style audience) the grant
	// is bound to.
	Resource string
	// ExpiresIn is the lifetime of an issued access token.
	ExpiresIn time.Duration
	// RefreshToken reports whether a refresh token was issued too.
	RefreshToken bool
	// Error is the OAuth error code of a rejected request.
	Error string
	// Description says more about a rejection.
	Description string
	// ApplicationType is the application_type a dynamic registration asked
	// for (OpenID Connect Dynamic Client Registration 1.0 §2), "" if none.
	ApplicationType string
}

// String describes e in one line, e.g. "registered client X".
func (e Event) String() string {
	switch e.Kind {
	case EventAuthorizationRequest:
		return fmt.Sprintf("authorization request from client %s (scope %q, resource %q)", e.ClientID, e.Scope, e.Resource)
	case EventConsent:
		return fmt.Sprintf("user approved client %s", e.ClientID)
	case EventDenied:
		return fmt.Sprintf("user denied client %s", e.ClientID)
	case EventTokenIssued:
		what := "issued access token"
		if e.GrantType == grantRefresh {
			what = "refreshed access token"
		}
		s := fmt.Sprintf("%s for client %s via %s, valid %s", what, e.ClientID, e.GrantType, e.ExpiresIn)
		if e.RefreshToken {
			s += ", with refresh token"
		}
		return s
	case EventRegistered:
		return fmt.Sprintf("registered client %s", e.ClientID)
	case EventClientMetadataFetched:
		return fmt.Sprintf("fetched client metadata document %s", e.ClientID)
	case EventDeviceAuthorization:
		return fmt.Sprintf("issued device code to client %s", e.ClientID)
	case EventRevoked:
		return fmt.Sprintf("revoked a token of client %s", e.ClientID)
	case EventRejected:
		return fmt.Sprintf("%s refused (client %s): %s: %s", e.Endpoint, e.ClientID, e.Error, e.Description)
	}
	return string(e.Kind)
}

// Stats counts what an [AuthServer] has done since it started.
type Stats struct {
	// AuthorizationRequests counts requests to the authorization endpoint
	// that were not consent-form submissions.
	AuthorizationRequests int
	// Consents counts approvals, including those made by AutoApprove and
	// device-code approvals.
	Consents int
	// Denials counts refusals by the user.
	Denials int
	// TokenRequests counts token endpoint requests by grant_type, refused
	// ones included.
	TokenRequests map[string]int
	// Refreshes counts successful refresh_token grants.
	Refreshes int
	// Registrations counts successful dynamic client registrations.
	Registrations int
	// MetadataDocumentFetches counts fetches of Client ID Metadata Documents.
	MetadataDocumentFetches int
	// DeviceAuthorizations counts issued device codes.
	DeviceAuthorizations int
	// Revocations counts revocation requests that revoked a token.
	Revocations int
	// WorkloadGrants counts tokens issued for workload assertions.
	WorkloadGrants int
}

func (s Stats) clone() Stats {
	s.TokenRequests = maps.Clone(s.TokenRequests)
	return s
}

// An EventLog collects an [AuthServer]'s events: pass its Record method as
// [ASOptions].OnEvent. It is safe for concurrent use.
type EventLog struct {
	mu     sync.Mutex // guards events
	events []Event
}

// Record adds e to the log.
func (l *EventLog) Record(e Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
}

// All returns the events recorded so far, in order.
func (l *EventLog) All() []Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Event(nil), l.events...)
}

// Of returns the events of the given kind recorded so far, in order.
func (l *EventLog) Of(kind EventKind) []Event {
	var out []Event
	for _, e := range l.All() {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}
