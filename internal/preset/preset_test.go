package preset_test

import (
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mcp-bridge/mcp-bridge/internal/config"
	"github.com/mcp-bridge/mcp-bridge/internal/preset"
	"github.com/mcp-bridge/mcp-bridge/oauthclient"
)

// knobs is the part of a Config a preset may set, for comparisons.
type knobs struct {
	NoResource      bool
	Scopes          []string
	AuthorizeParams url.Values
}

func knobsOf(c *oauthclient.Config) knobs {
	return knobs{c.NoResource, c.Scopes, c.AuthorizeParams}
}

func TestApply(t *testing.T) {
	const server = "https://MCP.example.com/mcp/"
	client := func(c *oauthclient.Config) { c.ClientID = "id" }
	secret := func(c *oauthclient.Config) { c.ClientID, c.ClientSecret = "id", "s" }
	port := func(c *oauthclient.Config) { c.ClientID, c.CallbackPort = "id", 8765 }
	tests := []struct {
		name   string
		preset string
		opts   preset.Options
		edit   func(*oauthclient.Config) // the user's settings
		want   knobs
	}{
		{"entra", "entra", preset.Options{}, client, knobs{NoResource: true}},
		{"entra API URI", "entra", preset.Options{API: "api://app/"}, client, knobs{NoResource: true, Scopes: []string{"api://app/.default"}}},
		{"entra API GUID", "entra", preset.Options{API: "1111-2222"}, client, knobs{NoResource: true, Scopes: []string{"1111-2222/.default"}}},
		{"entra API .default", "entra", preset.Options{API: "api://app/.default"}, client, knobs{NoResource: true, Scopes: []string{"api://app/.default"}}},
		{"entra user scopes win", "entra", preset.Options{API: "api://app"}, func(c *oauthclient.Config) { client(c); c.Scopes = []string{"api://app/mcp.read"} },
			knobs{NoResource: true, Scopes: []string{"api://app/mcp.read"}}},
		{"entra user resource wins", "entra", preset.Options{}, func(c *oauthclient.Config) { client(c); c.Resource = "api://app" }, knobs{}},
		{"google", "google", preset.Options{}, secret, knobs{AuthorizeParams: url.Values{"access_type": {"offline"}, "prompt": {"consent"}}}},
		{"google user params win", "google", preset.Options{}, func(c *oauthclient.Config) {
			secret(c)
			c.AuthorizeParams = url.Values{"prompt": {"select_account consent"}, "login_hint": {"me@example.com"}}
		}, knobs{AuthorizeParams: url.Values{"access_type": {"offline"}, "prompt": {"select_account consent"}, "login_hint": {"me@example.com"}}}},
		{"auth0 default audience", "auth0", preset.Options{}, nil, knobs{AuthorizeParams: url.Values{"audience": {"https://mcp.example.com/mcp"}}}},
		{"auth0 resource override", "auth0", preset.Options{}, func(c *oauthclient.Config) { c.Resource = "https://api.example.com/" },
			knobs{AuthorizeParams: url.Values{"audience": {"https://api.example.com"}}}},
		{"auth0 audience", "auth0", preset.Options{Audience: "https://api.example.com/"}, nil, knobs{AuthorizeParams: url.Values{"audience": {"https://api.example.com/"}}}},
		{"auth0 user audience wins", "auth0", preset.Options{Audience: "urn:other"}, func(c *oauthclient.Config) { c.AuthorizeParams = url.Values{"audience": {"urn:mine"}} },
			knobs{AuthorizeParams: url.Values{"audience": {"urn:mine"}}}},
		{"okta", "okta", preset.Options{}, port, knobs{}},
		{"okta device grant needs no port", "okta", preset.Options{}, func(c *oauthclient.Config) { client(c); c.Login = oauthclient.LoginDevice }, knobs{}},
		{"okta machine needs no port", "okta", preset.Options{}, func(c *oauthclient.Config) { secret(c); c.ClientCredentials = true }, knobs{}},
		{"keycloak", "keycloak", preset.Options{}, client, knobs{}},
		{"github", "github", preset.Options{}, secret, knobs{}},
		{"cognito", "cognito", preset.Options{}, port, knobs{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := &oauthclient.Config{ServerURL: server}
			if tt.edit != nil {
				tt.edit(cfg)
			}
			userParams := cfg.AuthorizeParams
			saved := cloneValues(userParams)
			if err := preset.Apply(tt.preset, cfg, tt.opts); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, knobsOf(cfg)); diff != "" {
				t.Errorf("knobs (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(saved, userParams); diff != "" {
				t.Errorf("the caller's AuthorizeParams were changed (-before +after):\n%s", diff)
			}
			if _, err := oauthclient.New(cfg); err != nil {
				t.Errorf("the result is no valid config: %v", err)
			}
		})
	}
}

// TestApplyNeeds: what a provider cannot be told by the bridge, the user
// must give; the error says what and why, and cfg is left as it was.
func TestApplyNeeds(t *testing.T) {
	tests := []struct {
		preset string
		edit   func(*oauthclient.Config)
		want   string
	}{
		{"entra", nil, "a registered client is needed: Entra ID offers no dynamic client registration"},
		{"google", nil, "a registered client is needed: Google"},
		{"google", func(c *oauthclient.Config) { c.ClientID = "id" }, "the client secret is needed: Google requires"},
		{"okta", nil, "registration endpoint needs an admin API token"},
		{"okta", func(c *oauthclient.Config) { c.ClientID = "id" }, "the callback port is needed: Okta matches sign-in redirect URIs exactly"},
		{"keycloak", nil, "Trusted Hosts"},
		{"github", nil, "a registered client is needed: GitHub"},
		{"github", func(c *oauthclient.Config) { c.ClientID = "id" }, "the client secret is needed: GitHub"},
		{"cognito", nil, "a registered client is needed: Cognito"},
		{"cognito", func(c *oauthclient.Config) { c.ClientID = "id" }, "the callback port is needed: Cognito"},
	}
	for _, tt := range tests {
		t.Run(tt.preset+" "+tt.want, func(t *testing.T) {
			cfg := &oauthclient.Config{ServerURL: "https://mcp.example.com/mcp"}
			if tt.edit != nil {
				tt.edit(cfg)
			}
			before := *cfg
			err := preset.Apply(tt.preset, cfg, preset.Options{})
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "preset "+tt.preset+": ") {
				t.Errorf("err = %v, want it to say %q", err, tt.want)
			}
			if cfg.NoResource != before.NoResource || cfg.AuthorizeParams != nil || cfg.Scopes != nil {
				t.Errorf("cfg changed on error: %+v", cfg)
			}
		})
	}
}

func cloneValues(v url.Values) url.Values {
	if v == nil {
		return nil
	}
	c := url.Values{}
	for k, vs := range v {
		c[k] = append([]string(nil), vs...)
	}
	return c
}

func TestUnknown(t *testing.T) {
	err := preset.Apply("azure", &oauthclient.Config{}, preset.Options{})
	if !errors.Is(err, preset.ErrUnknown) || !strings.Contains(err.Error(), "entra, google, auth0, okta, keycloak, github, cognito") {
		t.Errorf("err = %v", err)
	}
}

// TestNamesMatchConfig: the config file accepts exactly the presets there
// are.
func TestNamesMatchConfig(t *testing.T) {
	if diff := cmp.Diff(config.Presets, preset.Names()); diff != "" {
		t.Errorf("config.Presets and preset.Names() differ (-config +preset):\n%s", diff)
	}
}

// TestREADME: the project README names every preset, and docs/presets.md
// describes each, citing every source.
func TestREADME(t *testing.T) {
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join("..", "..", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	readme, doc := read("README.md"), read(filepath.Join("docs", "presets.md"))
	for _, name := range preset.Names() {
		p, err := preset.Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(readme, "- `"+name+"`: ") {
			t.Errorf("README.md does not list %s", name)
		}
		if !strings.Contains(doc, "## `"+name+"`: ") {
			t.Errorf("docs/presets.md has no section for %s", name)
		}
		for _, s := range p.Sources {
			if !strings.Contains(doc, "<"+s.URL+">") {
				t.Errorf("docs/presets.md does not cite %s's source %s", name, s.URL)
			}
		}
	}
}
