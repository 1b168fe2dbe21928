//lint:file-ignore SA1019 the demo server exercises the deprecated sampling, roots and logging features (SEP-2577) on purpose: hosts and servers still use them, and the relay must carry them.

package demoserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

const (
	// maxBigBytes bounds the `big` tool so a typo cannot exhaust memory.
	maxBigBytes = 64 << 20
	// maxCount bounds the `count` tool.
	maxCount = 10000
	// bigPattern is repeated to fill a `big` result.
	bigPattern = "abcdefghijklmnopqrstuvwxyz"
)

func (d *demo) addTools(s *mcp.Server) {
	mcp.AddTool(s, &mcp.Tool{Name: "echo", Description: "Return the given text."}, echo)
	mcp.AddTool(s, &mcp.Tool{Name: "add", Description: "Add two numbers; the sum is also returned as structured content."}, add)
	mcp.AddTool(s, &mcp.Tool{Name: "count", Description: "Count to n, sending one progress notification per step if the call has a progress token."}, count)
	mcp.AddTool(s, &mcp.Tool{Name: "big", Description: "Return one text content of exactly the given number of bytes."}, big)
	mcp.AddTool(s, &mcp.Tool{Name: "confirm", Description: "Ask the user a yes/no question (elicitation) and return the answer."}, confirm)
	mcp.AddTool(s, &mcp.Tool{Name: "sample", Description: "Ask the host's model (sampling) and return its reply."}, sample)
	mcp.AddTool(s, &mcp.Tool{Name: "roots", Description: "Return the client's root URIs, one per line."}, roots)
	mcp.AddTool(s, &mcp.Tool{Name: "notify", Description: "Return at once, then after delay_ms send the text to this session as a logging notification."}, d.notify)
	mcp.AddTool(s, &mcp.Tool{Name: "ping_host", Description: "Send a ping to the client."}, pingHost)
	mcp.AddTool(s, &mcp.Tool{Name: "slow", Description: "Sleep for delay_ms unless cancelled first."}, slow)
	mcp.AddTool(s, &mcp.Tool{Name: "fail", Description: "Return a tool error (isError: true)."}, fail)
}

// textResult returns a result holding one text content.
func textResult(text string) *mcp.CallToolResult {
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: text}}}
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

type echoIn struct {
	Text string `json:"text" jsonschema:"the text to return"`
}

func echo(_ context.Context, _ *mcp.CallToolRequest, in echoIn) (*mcp.CallToolResult, any, error) {
	return textResult(in.Text), nil, nil
}

type addIn struct {
	A float64 `json:"a" jsonschema:"the first addend"`
	B float64 `json:"b" jsonschema:"the second addend"`
}

type addOut struct {
	Sum float64 `json:"sum" jsonschema:"a + b"`
}

func add(_ context.Context, _ *mcp.CallToolRequest, in addIn) (*mcp.CallToolResult, addOut, error) {
	sum := in.A + in.B
	return textResult(strconv.FormatFloat(sum, 'g', -1, 64)), addOut{Sum: sum}, nil
}

type countIn struct {
	N       int `json:"n" jsonschema:"how many progress notifications to send, 0 to 10000"`
	DelayMS int `json:"delay_ms,omitempty" jsonschema:"milliseconds to wait before each step"`
}

func count(ctx context.Context, req *mcp.CallToolRequest, in countIn) (*mcp.CallToolResult, any, error) {
	if in.N < 0 || in.N > maxCount {
		return nil, nil, fmt.Errorf("n must be between 0 and %d, got %d", maxCount, in.N)
	}
	token := req.Params.GetProgressToken()
	for i := 1; i <= in.N; i++ {
		if err := sleep(ctx, time.Duration(in.DelayMS)*time.Millisecond); err != nil {
			return nil, nil, fmt.Errorf("cancelled at %d: %w", i, err)
		}
		if token == nil {
			continue
		}
		err := req.Session.NotifyProgress(ctx, &mcp.ProgressNotificationParams{
			ProgressToken: token,
			Progress:      float64(i),
			Total:         float64(in.N),
			Message:       fmt.Sprintf("%d/%d", i, in.N),
		})
		if err != nil {
			return nil, nil, fmt.Errorf("send progress %d: %w", i, err)
		}
	}
	return textResult(fmt.Sprintf("counted to %d", in.N)), nil, nil
}

type bigIn struct {
	Bytes int `json:"bytes" jsonschema:"size of the text in bytes, up to 64 MiB"`
}

func big(_ context.Context, _ *mcp.CallToolRequest, in bigIn) (*mcp.CallToolResult, any, error) {
	if in.Bytes < 0 || in.Bytes > maxBigBytes {
		return nil, nil, fmt.Errorf("bytes must be between 0 and %d, got %d", maxBigBytes, in.Bytes)
	}
	return textResult(BigText(in.Bytes)), nil, nil
}

// BigText returns the text the `big` tool returns for n bytes:
// "abcdefghijklmnopqrstuvwxyz" repeated and cut to exactly n bytes.
func BigText(n int) string {
	return strings.Repeat(bigPattern, n/len(bigPattern)+1)[:n]
}

// The confirm, sample and roots tools need an answer from the client. They
// return it as a multi round-trip result (SEP-2322): the first call returns
// InputRequests, and the call is repeated with the answers in
// InputResponses. Clients on protocol 2026-07-28 do that themselves. For
// older clients, the SDK's server middleware turns each input request into a
// real server-to-client request (elicitation/create, sampling/createMessage,
// roots/list, sent with ServerSession.Elicit, CreateMessageWithTools and
// ListRoots) on the same stream as the tool call, and calls the tool again.
// On the wire an old client sees exactly what a direct ServerSession.Elicit
// would send. The SDK forbids that direct call on 2026-07-28 sessions.

// inputKey names the single input request of confirm, sample and roots.
const inputKey = "answer"

// inputRequired returns a result asking the client for r.
func inputRequired(r mcp.InputRequest) *mcp.CallToolResult {
	return &mcp.CallToolResult{InputRequests: mcp.InputRequestMap{inputKey: r}}
}

// answer returns the client's response to the input request of the call; ok
// is false if the client has not been asked yet.
func answer[T mcp.InputResponse](req *mcp.CallToolRequest) (T, bool, error) {
	var zero T
	resp, ok := req.Params.InputResponses[inputKey]
	if !ok {
		return zero, false, nil
	}
	v, ok := resp.(T)
	if !ok {
		return zero, false, fmt.Errorf("input response is a %T, want %T", resp, zero)
	}
	return v, true, nil
}

type confirmIn struct {
	Message string `json:"message,omitempty" jsonschema:"the question to ask; default \"Proceed?\""`
}

type confirmOut struct {
	Action    string `json:"action" jsonschema:"accept, decline or cancel"`
	Confirmed bool   `json:"confirmed" jsonschema:"the user's answer, if they accepted"`
}

// confirmSchema is the form shown to the user: one required boolean.
var confirmSchema = json.RawMessage(`{"type":"object","properties":{"confirmed":{"type":"boolean","title":"Confirm"}},"required":["confirmed"]}`)

func confirm(_ context.Context, req *mcp.CallToolRequest, in confirmIn) (*mcp.CallToolResult, confirmOut, error) {
	res, ok, err := answer[*mcp.ElicitResult](req)
	if err != nil {
		return nil, confirmOut{}, err
	}
	if !ok {
		msg := in.Message
		if msg == "" {
			msg = "Proceed?"
		}
		return inputRequired(&mcp.ElicitParams{Message: msg, RequestedSchema: confirmSchema}), confirmOut{}, nil
	}
	out := confirmOut{Action: res.Action}
	if res.Action == "accept" {
		confirmed, ok := res.Content["confirmed"].(bool)
		if !ok {
			return nil, confirmOut{}, fmt.Errorf("accepted elicitation has no boolean \"confirmed\": %v", res.Content)
		}
		out.Confirmed = confirmed
	}
	return textResult(fmt.Sprintf("action=%s confirmed=%t", out.Action, out.Confirmed)), out, nil
}

type sampleIn struct {
	Prompt    string `json:"prompt" jsonschema:"the user message sent to the model"`
	MaxTokens int64  `json:"max_tokens,omitempty" jsonschema:"maximum tokens to generate; default 100"`
}

func sample(_ context.Context, req *mcp.CallToolRequest, in sampleIn) (*mcp.CallToolResult, any, error) {
	res, ok, err := answer[*mcp.CreateMessageWithToolsResult](req)
	if err != nil {
		return nil, nil, err
	}
	if !ok {
		maxTokens := in.MaxTokens
		if maxTokens <= 0 {
			maxTokens = 100
		}
		return inputRequired(&mcp.CreateMessageParams{
			MaxTokens: maxTokens,
			Messages:  []*mcp.SamplingMessage{{Role: "user", Content: &mcp.TextContent{Text: in.Prompt}}},
		}), nil, nil
	}
	var reply strings.Builder
	for _, c := range res.Content {
		if t, ok := c.(*mcp.TextContent); ok {
			reply.WriteString(t.Text)
		}
	}
	return textResult(reply.String()), nil, nil
}

type rootsOut struct {
	URIs []string `json:"uris" jsonschema:"the client's root URIs"`
}

func roots(_ context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, rootsOut, error) {
	res, ok, err := answer[*mcp.ListRootsResult](req)
	if err != nil {
		return nil, rootsOut{}, err
	}
	if !ok {
		return inputRequired(&mcp.ListRootsParams{}), rootsOut{}, nil
	}
	out := rootsOut{URIs: []string{}}
	for _, r := range res.Roots {
		out.URIs = append(out.URIs, r.URI)
	}
	return textResult(strings.Join(out.URIs, "\n")), out, nil
}

type notifyIn struct {
	Text    string `json:"text" jsonschema:"the data of the logging notification"`
	DelayMS int    `json:"delay_ms,omitempty" jsonschema:"milliseconds to wait after returning"`
}

// notify returns at once and later, from a goroutine not tied to the call,
// sends a notifications/message (level "notice", logger [Name]) to the
// calling session. Because no request of the session is then in flight,
// Streamable HTTP delivers it on the standalone GET stream.
//
// The SDK drops logging notifications until the client has sent
// logging/setLevel, and those below the level it set.
func (d *demo) notify(_ context.Context, req *mcp.CallToolRequest, in notifyIn) (*mcp.CallToolResult, any, error) {
	ss := req.Session
	d.notifiers.Go(func() {
		// d.ctx, unlike the request context, carries no request ID, so the
		// SDK does not route the notification to the (finished) call's stream.
		if sleep(d.ctx, time.Duration(in.DelayMS)*time.Millisecond) != nil {
			return
		}
		err := ss.Log(d.ctx, &mcp.LoggingMessageParams{Level: "notice", Logger: Name, Data: in.Text})
		if err != nil {
			d.logger.Warn("notify: send logging notification", "session", ss.ID(), "err", err)
		}
	})
	return textResult("will notify"), nil, nil
}

func pingHost(ctx context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
	if err := req.Session.Ping(ctx, nil); err != nil {
		return nil, nil, fmt.Errorf("ping client: %w", err)
	}
	return textResult("pong received"), nil, nil
}

type slowIn struct {
	DelayMS int `json:"delay_ms" jsonschema:"milliseconds to sleep"`
}

// slow sleeps unless cancelled (notifications/cancelled, or the server
// closing). If the call has a progress token, it first sends a progress
// notification with progress 0 and message "started", so that a client can
// cancel a call it knows is running.
func slow(ctx context.Context, req *mcp.CallToolRequest, in slowIn) (*mcp.CallToolResult, any, error) {
	if token := req.Params.GetProgressToken(); token != nil {
		err := req.Session.NotifyProgress(ctx, &mcp.ProgressNotificationParams{ProgressToken: token, Message: "started"})
		if err != nil {
			return nil, nil, fmt.Errorf("send progress: %w", err)
		}
	}
	if err := sleep(ctx, time.Duration(in.DelayMS)*time.Millisecond); err != nil {
		return nil, nil, fmt.Errorf("cancelled: %w", err)
	}
	return textResult("done"), nil, nil
}

type failIn struct {
	Message string `json:"message,omitempty" jsonschema:"the error text; default \"failure requested\""`
}

func fail(_ context.Context, _ *mcp.CallToolRequest, in failIn) (*mcp.CallToolResult, any, error) {
	if in.Message == "" {
		return nil, nil, errors.New("failure requested")
	}
	return nil, nil, errors.New(in.Message)
}
