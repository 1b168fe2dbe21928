// What the interop servers expose and the hosts expect, shared so that the
// two sides cannot drift apart, and the small server plumbing every server
// kind needs (listen on 127.0.0.1, print the URL, record the HTTP wire).

import { appendFileSync } from 'node:fs';
import { createServer } from 'node:http';

/** The server's name in serverInfo; the hosts check it after connecting. */
export const SERVER_NAME = 'interop-fixtures';

/** The tools every server kind registers. */
export const TOOLS = {
    add: 'add', // {a, b} → "a+b"
    progress: 'progress', // {steps} → steps progress notifications, then "done"
    ask: 'ask', // needs user input: the name of the user → "hello NAME"
    big: 'big', // 1 MiB of text
    fail: 'fail', // isError: true
    slow: 'slow', // {id} → waits until cancelled (one progress notification when it starts)
    cancelSeen: 'cancel_seen', // {id} → "seen" once slow{id} was cancelled, "not seen" after 3 s
    addTool: 'add_tool', // {name} → registers a tool of that name; the tool list changes
    region: 'region' // {region} → region; region is an x-mcp-header parameter (Mcp-Param-Region)
};

/** The header name of region's x-mcp-header parameter. */
export const REGION_HEADER = 'Region';

/** The elicitation the ask tool sends and what the host answers. */
export const ASK = {
    message: 'What is your name?',
    schema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
    answer: { name: 'interop' },
    result: 'hello interop'
};

/** The 1 MiB text big returns: a 16-byte pattern, so a cut or a reorder shows. */
export const BIG_TEXT = 'abcdefghijklmno\n'.repeat(65536);

export const FAIL_TEXT = 'failed on purpose';

export const RESOURCE = { name: 'greeting', uri: 'fixture://greeting', text: 'hello from the resource' };

export const PROMPT = { name: 'greet', text: name => `Hello, ${name}!` };

/**
 * cancellations remembers which slow calls were cancelled. It lives at module
 * scope because a 2026 server builds a fresh McpServer per request.
 */
const cancellations = new Map(); // id → {seen: boolean, resolve}

function cancellation(id) {
    let c = cancellations.get(id);
    if (!c) {
        c = { seen: false };
        c.promise = new Promise(resolve => (c.resolve = resolve));
        cancellations.set(id, c);
    }
    return c;
}

/**
 * slowUntilCancelled is the slow tool's body: it resolves when signal aborts
 * (and remembers that id was cancelled) or after 30 s.
 */
export function slowUntilCancelled(id, signal) {
    return new Promise(resolve => {
        const timer = setTimeout(() => resolve({ content: [{ type: 'text', text: 'not cancelled' }] }), 30_000);
        signal.addEventListener('abort', () => {
            clearTimeout(timer);
            const c = cancellation(id);
            c.seen = true;
            c.resolve();
            resolve({ content: [{ type: 'text', text: 'cancelled' }] });
        });
    });
}

/** cancelSeen is cancel_seen's body: "seen" once slow{id} was cancelled, "not seen" after 3 s. */
export async function cancelSeen(id) {
    const c = cancellation(id);
    let timer;
    await Promise.race([c.promise, new Promise(resolve => (timer = setTimeout(resolve, 3_000)))]);
    clearTimeout(timer);
    return { content: [{ type: 'text', text: c.seen ? 'seen' : 'not seen' }] };
}

/** text is a CallToolResult holding one text block. */
export function text(s, isError) {
    return isError ? { content: [{ type: 'text', text: s }], isError: true } : { content: [{ type: 'text', text: s }] };
}

/**
 * serve listens on 127.0.0.1 on a free port and prints the endpoint URL as
 * the first line of stdout. handle(req, res, body) is a Node handler of
 * either SDK; a POST's body is read here and handed on parsed, which both
 * SDKs accept (a body that is not JSON gets 400 -32700 here). With
 * --record FILE in argv every HTTP exchange is appended to FILE as one JSON
 * line: request headers and body, status, response headers and body (SSE
 * streams as text), in the order the exchanges ended.
 */
export function serve(handle) {
    const i = process.argv.indexOf('--record');
    const record = i > 0 ? process.argv[i + 1] : '';
    const server = createServer(async (req, res) => {
        if (req.url !== '/mcp') {
            res.writeHead(404).end();
            return;
        }
        const chunks = [];
        for await (const chunk of req) chunks.push(chunk);
        const raw = Buffer.concat(chunks).toString();
        if (record) recordExchange(record, req, res, raw);
        let body;
        try {
            body = raw ? JSON.parse(raw) : undefined;
        } catch {
            res.writeHead(400, { 'content-type': 'application/json' });
            res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32700, message: 'Parse error' }, id: null }));
            return;
        }
        await handle(req, res, body);
    });
    server.listen(0, '127.0.0.1', () => {
        process.stdout.write(`http://127.0.0.1:${server.address().port}/mcp\n`);
    });
    const stop = () => process.exit(0);
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    return server;
}

let exchanges = 0;

function recordExchange(file, req, res, body) {
    const entry = { seq: ++exchanges, method: req.method, headers: req.headers, body: body ? tryJSON(body) : undefined };
    const out = [];
    const writeHead = res.writeHead.bind(res);
    res.writeHead = (status, ...rest) => {
        const headers = rest.find(h => h && typeof h === 'object');
        entry.status = status;
        entry.responseHeaders = { ...res.getHeaders(), ...headers };
        return writeHead(status, ...rest);
    };
    for (const name of ['write', 'end']) {
        const orig = res[name].bind(res);
        res[name] = (chunk, ...rest) => {
            if (chunk && typeof chunk !== 'function') out.push(Buffer.from(chunk).toString());
            return orig(chunk, ...rest);
        };
    }
    res.on('close', () => {
        entry.status ??= res.statusCode;
        entry.responseHeaders ??= res.getHeaders();
        entry.responseBody = tryJSON(out.join(''));
        appendFileSync(file, JSON.stringify(entry) + '\n');
    });
}

function tryJSON(s) {
    try {
        return JSON.parse(s);
    } catch {
        return s;
    }
}
