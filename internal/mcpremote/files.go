package mcpremote

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/mcp-bridge/mcp-bridge/oauthclient"
)

// currentDir is the directory of mcp-remote's store layout since 0.1.3x
// (CONFIG_STORE_VERSION 1), under its base directory.
const currentDir = "mcp-remote-v1"

// BaseDir is where mcp-remote keeps its directories for a command that
// sees getenv: $MCP_REMOTE_CONFIG_DIR, else ~/.mcp-auth.
func BaseDir(getenv func(string) (string, bool)) (string, error) {
	if base, ok := getenv("MCP_REMOTE_CONFIG_DIR"); ok && base != "" {
		return base, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(home, ".mcp-auth"), nil
}

// Dirs are the directories under base that hold mcp-remote's files,
// newest layout first: mcp-remote-v1, then the directories of the
// releases before it (mcp-remote-0.1.29, ...), most recently changed
// first.
func Dirs(base string) []string {
	dirs := []string{filepath.Join(base, currentDir)}
	old, _ := filepath.Glob(filepath.Join(base, "mcp-remote-*"))
	mtime := func(p string) time.Time {
		fi, err := os.Stat(p)
		if err != nil {
			return time.Time{}
		}
		return fi.ModTime()
	}
	slices.SortFunc(old, func(a, b string) int { return mtime(b).Compare(mtime(a)) })
	for _, d := range old {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() && !slices.Contains(dirs, d) {
			dirs = append(dirs, d)
		}
	}
	return dirs
}

// keysIn are the keys to look for in dir: only the current one in the
// current layout, where an old key may be another command line's current
// one.
func (k Keys) keysIn(dir string) []string {
	if filepath.Base(dir) == currentDir {
		return []string{k.Current}
	}
	return k.All()
}

// Client is the OAuth client a command line names, for which mcp-remote
// keeps no registration of its own.
type Client struct {
	ID, Secret  string // --static-oauth-client-info, or --client-id
	MetadataURL string // --client-metadata-url
}

// Saved is what mcp-remote kept for one server.
type Saved struct {
	// Dir and Key locate the files: Dir/Key_tokens.json, ...
	Dir, Key string
	// TokensFile is Dir/Key_tokens.json.
	TokensFile string
	// Credentials are the tokens and the client, as mcp-bridge keeps
	// them; Server, Issuer, the endpoints and Resource are left to the
	// import, which discovers them.
	Credentials oauthclient.Credentials
}

// Unusable reports whether the tokens can do nothing at now: the access
// token has expired and there is no refresh token.
func (s *Saved) Unusable(now time.Time) bool {
	c := &s.Credentials
	return c.RefreshToken == "" && (c.AccessToken == "" || !c.Expiry.IsZero() && !now.Before(c.Expiry))
}

// Files are mcp-remote's files for the server that hold secrets or state
// about them: tokens, client registration, PKCE verifiers, discovery and
// refresh state. (Its debug log stays.)
func (s *Saved) Files() []string {
	all, _ := filepath.Glob(filepath.Join(s.Dir, s.Key+"_*"))
	var out []string
	for _, f := range all {
		rest := strings.TrimPrefix(filepath.Base(f), s.Key+"_")
		switch {
		case rest == "tokens.json", rest == "client_info.json", rest == "token_state.json", rest == "refresh_in_progress.json",
			strings.HasPrefix(rest, "code_verifier") && strings.HasSuffix(rest, ".txt"),
			strings.HasPrefix(rest, "discovery_state_") && strings.HasSuffix(rest, ".json"):
			out = append(out, f)
		}
	}
	return out
}

// Remove deletes the files and returns their names.
func (s *Saved) Remove() ([]string, error) {
	var names []string
	var errs []error
	for _, f := range s.Files() {
		if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
			continue
		}
		names = append(names, filepath.Base(f))
	}
	return names, errors.Join(errs...)
}

// mcp-remote's files, as it writes them (OAuthTokens with expires_at,
// OAuthClientInformationFull).
type (
	tokensFile struct {
		AccessToken  string  `json:"access_token"`
		TokenType    string  `json:"token_type"`
		ExpiresIn    float64 `json:"expires_in"`
		ExpiresAt    float64 `json:"expires_at"` // ms since the epoch (0.1.3x and later)
		RefreshToken string  `json:"refresh_token"`
		Scope        string  `json:"scope"`
	}
	clientInfoFile struct {
		ClientID     string   `json:"client_id"`
		ClientSecret string   `json:"client_secret"`
		AuthMethod   string   `json:"token_endpoint_auth_method"`
		RedirectURIs []string `json:"redirect_uris"`
	}
	// tokenStateFile is kept beside the tokens by older releases'
	// background refresher: when the access token expires, in ms.
	tokenStateFile struct {
		ExpiresAt float64 `json:"expiresAt"`
	}
)

// ErrNotFound says mcp-remote kept nothing for the server.
var ErrNotFound = errors.New("mcp-remote kept no tokens for this server")

// TokensFiles are the tokens files an mcp-remote command line with these
// keys may read in dirs (from [Dirs]), in the order [Find] tries them: a
// file another command line may still read must stay.
func (k Keys) TokensFiles(dirs []string) []string {
	var files []string
	for _, dir := range dirs {
		for _, key := range k.keysIn(dir) {
			files = append(files, filepath.Join(dir, key+"_tokens.json"))
		}
	}
	return files
}

// Find reads what mcp-remote kept in dirs for the server the keys name
// (the first of [Keys.TokensFiles] that exists), or returns ErrNotFound.
// client is the client the command line names.
func Find(dirs []string, keys Keys, client Client) (*Saved, error) {
	for _, path := range keys.TokensFiles(dirs) {
		data, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		dir, name := filepath.Split(path)
		return read(filepath.Clean(dir), strings.TrimSuffix(name, "_tokens.json"), path, data, client)
	}
	return nil, ErrNotFound
}

func read(dir, key, path string, data []byte, client Client) (*Saved, error) {
	var t tokensFile
	if err := json.Unmarshal(data, &t); err != nil {
		return nil, fmt.Errorf("%s: not mcp-remote's tokens: %w", path, err)
	}
	if t.AccessToken == "" && t.RefreshToken == "" {
		return nil, fmt.Errorf("%s: no token in it", path)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	s := &Saved{Dir: dir, Key: key, TokensFile: path, Credentials: oauthclient.Credentials{
		AccessToken: t.AccessToken, RefreshToken: t.RefreshToken, TokenType: t.TokenType,
		Scopes: strings.Fields(t.Scope), Obtained: fi.ModTime(),
	}}
	s.Credentials.Expiry = expiry(dir, key, t, fi.ModTime())
	infoPath := filepath.Join(dir, key+"_client_info.json")
	var info clientInfoFile
	if data, err := os.ReadFile(infoPath); err == nil {
		if err := json.Unmarshal(data, &info); err != nil {
			return nil, fmt.Errorf("%s: not mcp-remote's client registration: %w", infoPath, err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if s.Credentials.Client, err = clientOf(info, client); err != nil {
		return nil, fmt.Errorf("%s: %w (%s)", path, err, filepath.Base(infoPath))
	}
	return s, nil
}

// expiry is when the access token expires: expires_at, else the older
// token state file's expiresAt, else expires_in from when the file was
// written; zero if none says.
func expiry(dir, key string, t tokensFile, written time.Time) time.Time {
	if t.ExpiresAt > 0 {
		return time.UnixMilli(int64(t.ExpiresAt))
	}
	var st tokenStateFile
	if data, err := os.ReadFile(filepath.Join(dir, key+"_token_state.json")); err == nil && json.Unmarshal(data, &st) == nil && st.ExpiresAt > 0 {
		return time.UnixMilli(int64(st.ExpiresAt))
	}
	if t.ExpiresIn > 0 {
		return written.Add(time.Duration(t.ExpiresIn * float64(time.Second)))
	}
	return time.Time{}
}

// clientOf is the client the tokens were issued to.
func clientOf(info clientInfoFile, named Client) (oauthclient.Client, error) {
	switch {
	case named.ID != "":
		// A pre-registered client (--static-oauth-client-info): mcp-remote
		// keeps no registration for it, and the bridge signs in as it.
		return oauthclient.Client{ID: named.ID, Secret: named.Secret, Kind: oauthclient.KindPreregistered}, nil
	case named.MetadataURL != "" && info.ClientID == named.MetadataURL:
		return oauthclient.Client{ID: info.ClientID, Kind: oauthclient.KindMetadataDocument, AuthMethod: "none"}, nil
	case info.ClientID != "":
		c := oauthclient.Client{ID: info.ClientID, Secret: info.ClientSecret, Kind: oauthclient.KindDynamic, AuthMethod: info.AuthMethod}
		if c.AuthMethod == "none" && c.Secret != "" {
			c.AuthMethod = "client_secret_basic"
		}
		if len(info.RedirectURIs) > 0 {
			// A later sign-in reuses the registration, on its redirect URI.
			c.RedirectURI = info.RedirectURIs[0]
		}
		return c, nil
	}
	return oauthclient.Client{}, errors.New("no client registration beside it")
}
