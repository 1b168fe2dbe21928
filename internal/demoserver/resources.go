package demoserver

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

const (
	// ReadmeURI is a static text/plain resource.
	ReadmeURI = "demo://readme"
	// NoticeURI is a text/plain resource holding the text of the last
	// [Server.NotifyAll] call ("" before the first).
	NoticeURI = "demo://notice"
	// EchoURITemplate is a resource template: reading demo://echo/{text}
	// returns the path-unescaped text.
	EchoURITemplate = "demo://echo/{text}"

	readmeText = "mcp-bridge demo server: an in-process MCP server for testing the bridge.\n"
	echoPrefix = "demo://echo/"
)

func isDemoURI(uri string) bool { return strings.HasPrefix(uri, "demo://") }

func addResources(s *mcp.Server) {
	s.AddResource(&mcp.Resource{
		URI:         ReadmeURI,
		Name:        "readme",
		Description: "What this server is.",
		MIMEType:    "text/plain",
	}, textResource(readmeText))
	setNotice(s, "")
	s.AddResourceTemplate(&mcp.ResourceTemplate{
		URITemplate: EchoURITemplate,
		Name:        "echo",
		Description: "Returns the text in the URI.",
		MIMEType:    "text/plain",
	}, readEcho)
}

// setNotice (re)registers [NoticeURI] with the given text. Registering a
// resource makes the SDK send notifications/resources/list_changed to every
// session, even when the list itself does not change.
func setNotice(s *mcp.Server, text string) {
	s.AddResource(&mcp.Resource{
		URI:         NoticeURI,
		Name:        "notice",
		Description: "The text of the last server-initiated notice.",
		MIMEType:    "text/plain",
	}, textResource(text))
}

func textResource(text string) mcp.ResourceHandler {
	return func(_ context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
		return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{
			{URI: req.Params.URI, MIMEType: "text/plain", Text: text},
		}}, nil
	}
}

func readEcho(ctx context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
	text, err := url.PathUnescape(strings.TrimPrefix(req.Params.URI, echoPrefix))
	if err != nil {
		return nil, fmt.Errorf("unescape %s: %w", req.Params.URI, err)
	}
	return textResource(text)(ctx, req)
}

func addPrompts(s *mcp.Server) {
	s.AddPrompt(&mcp.Prompt{
		Name:        "greet",
		Description: "Ask the model to greet someone.",
		Arguments:   []*mcp.PromptArgument{{Name: "name", Description: "who to greet", Required: true}},
	}, greet)
}

func greet(_ context.Context, req *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
	name := req.Params.Arguments["name"]
	if name == "" {
		return nil, fmt.Errorf("missing argument %q", "name")
	}
	return &mcp.GetPromptResult{
		Description: "A greeting",
		Messages: []*mcp.PromptMessage{
			{Role: "user", Content: &mcp.TextContent{Text: "Please greet " + name + "."}},
		},
	}, nil
}
