// The checks every interop host runs, in order, against whatever it is
// connected to (the bridge over stdio, or a server directly). Both SDKs'
// Client classes share the calls used here (listTools, callTool with
// signal and onprogress, readResource, getPrompt, close); what differs (how
// a client is built, how handlers are registered) is the host's part.
//
// Each check prints one JSON line on stdout: {"check", "ok", "detail"}.

import { appendFileSync } from 'node:fs';

import * as fx from './fixtures.mjs';

/** CHECKS names the checks in the order they run; interop_test.go reads the lines. */
export const CHECKS = [
    'connect',
    'tools/list',
    'call',
    'param-header',
    'progress',
    'user-input',
    'result-1mib',
    'result-iserror',
    'resources/read',
    'prompts/get',
    'concurrent-20',
    'cancel',
    'list-changed',
    'clean-exit'
];

/** TIMEOUTS are the checks' own limits in ms; the others get 10 s. */
const TIMEOUTS = { connect: 30_000, 'list-changed': 5_000 };

/**
 * parseArgs reads the transport spec: `--url URL` (Streamable HTTP straight
 * to a server) or `--stdio COMMAND ARG...` (spawn it, e.g. mcp-bridge; it
 * must come last), and `--record FILE` (append every JSON-RPC message the
 * host sends and receives to FILE, one JSON line each).
 */
export function parseArgs(argv) {
    const spec = { record: '' };
    for (let i = 0; i < argv.length; i++) {
        if (argv[i] === '--url') spec.url = argv[++i];
        else if (argv[i] === '--record') spec.record = argv[++i];
        else if (argv[i] === '--stdio') {
            spec.command = argv[i + 1];
            spec.args = argv.slice(i + 2);
            break;
        }
    }
    if (!spec.url && !spec.command) throw new Error('usage: host [--record FILE] (--url URL | --stdio COMMAND ARG...)');
    return spec;
}

/** stdioParams are the StdioClientTransport parameters for spec: the host's whole environment reaches the child. */
export function stdioParams(spec) {
    return { command: spec.command, args: spec.args, env: process.env, stderr: 'inherit' };
}

/**
 * Wire is what tap saw on the host's transport: the protocolVersion of an
 * initialize result, and the progress notifications that came in for each
 * tools/call before its response.
 */
class Wire {
    protocolVersion = '';
    #calls = []; // {id, name, token, progress: [], answered}

    sent(m) {
        if (m.method === 'tools/call') {
            this.#calls.push({ id: m.id, name: m.params?.name, token: m.params?._meta?.progressToken, progress: [], answered: false });
        }
    }

    received(m) {
        if (m.result?.protocolVersion && m.result?.serverInfo) this.protocolVersion = m.result.protocolVersion;
        if (m.method === 'notifications/progress') {
            const call = this.#calls.find(c => !c.answered && c.token !== undefined && c.token === m.params?.progressToken);
            call?.progress.push(m.params.progress);
        }
        if (m.id !== undefined && !m.method) for (const c of this.#calls) if (c.id === m.id) c.answered = true;
    }

    /** progressOf returns the progress values the last call of tool name got before its response. */
    progressOf(name) {
        return this.#calls.findLast(c => c.name === name)?.progress ?? [];
    }
}

/**
 * tap patches transport (an instance, so that its class stays what the SDK
 * expects) to call rewrite on each outgoing message and, with a record
 * file, to log each message both ways. It returns the transport's [Wire].
 */
export function tap(transport, record, rewrite = m => m) {
    const wire = new Wire();
    const log = (dir, message) => record && appendFileSync(record, JSON.stringify({ dir, message }) + '\n');
    const send = transport.send.bind(transport);
    transport.send = (message, options) => {
        message = rewrite(message);
        log('send', message);
        wire.sent(message);
        return send(message, options);
    };
    let onmessage = transport.onmessage;
    Object.defineProperty(transport, 'onmessage', {
        configurable: true,
        get: () =>
            onmessage &&
            ((message, extra) => {
                log('recv', message);
                wire.received(message);
                onmessage(message, extra);
            }),
        set: fn => (onmessage = fn)
    });
    return wire;
}

/** Hooks is what runChecks learns from the host; the host calls them from its handlers. */
export class Hooks {
    elicitations = 0;
    #toolsChanged = [];

    /** elicit answers an elicitation/create request. */
    elicit(params) {
        this.elicitations++;
        if (params?.message !== fx.ASK.message) return { action: 'decline' };
        return { action: 'accept', content: fx.ASK.answer };
    }

    /** toolsChanged is the listChanged.tools.onChanged callback. */
    toolsChanged(error, tools) {
        for (const waiter of this.#toolsChanged) waiter(error, tools);
    }

    /** waitTool resolves when a tools list_changed brings a list holding name. */
    waitTool(name) {
        return new Promise((resolve, reject) => {
            this.#toolsChanged.push((error, tools) => {
                if (error) reject(error);
                else if (tools?.some(t => t.name === name)) resolve(`list has ${name}`);
            });
        });
    }
}

/**
 * runChecks runs CHECKS in order, each under its own timeout. host has
 * client (an SDK Client, not yet connected), hooks (a Hooks the client's
 * handlers call), wire (tap's [Wire] for the client's transport),
 * callTool(params, options) (the SDKs differ there: 1.x
 * takes a result schema before the options), connect() → detail and
 * close() → detail.
 */
export async function runChecks(host) {
    const { client, hooks } = host;
    const run = Math.random().toString(36).slice(2, 8);
    let connected = false;
    const call = async (name, args, options) => {
        const r = await host.callTool({ name, arguments: args }, { timeout: 10_000, ...options });
        return { text: r.content?.map(c => c.text ?? '').join(''), isError: r.isError === true };
    };
    const expectText = async (name, args, want) => {
        const r = await call(name, args);
        if (r.isError || r.text !== want) throw new Error(`${name} returned ${JSON.stringify(r).slice(0, 200)}`);
        return r.text;
    };
    const checks = {
        connect: async () => {
            const detail = await host.connect();
            connected = true;
            const info = client.getServerVersion();
            if (info?.name !== fx.SERVER_NAME) throw new Error(`serverInfo ${JSON.stringify(info)}`);
            return detail;
        },
        'tools/list': async () => {
            const { tools } = await client.listTools();
            const names = tools.map(t => t.name);
            const missing = Object.values(fx.TOOLS).filter(n => !names.includes(n));
            if (missing.length) throw new Error(`missing ${missing.join(', ')} in ${names.join(', ')}`);
            return `${tools.length} tools`;
        },
        call: () => expectText(fx.TOOLS.add, { a: 2, b: 3 }, '5'),
        'param-header': () => expectText(fx.TOOLS.region, { region: 'eu-west-1' }, 'eu-west-1'),
        progress: async () => {
            // Passes when the three notifications reach the host's transport
            // before the result. The SDKs' onprogress can still miss those
            // that arrive in the same read as the result: they dispatch
            // notifications a microtask late, after the response retired the
            // token (typescript-sdk issue 2580); the detail then starts "note:".
            const seen = [];
            const r = await call(fx.TOOLS.progress, { steps: 3 }, { onprogress: p => seen.push(p.progress) });
            const wire = host.wire.progressOf(fx.TOOLS.progress);
            if (r.text !== 'done' || wire.join() !== '1,2,3') throw new Error(`result ${r.text}, progress [${wire}] before it`);
            return seen.join() === '1,2,3' ? 'progress 1,2,3' : `note: progress 1,2,3 reached the transport but onprogress got [${seen}] (typescript-sdk#2580)`;
        },
        'user-input': async () => {
            const before = hooks.elicitations;
            const r = await call(fx.TOOLS.ask, {});
            if (r.text !== fx.ASK.result || r.isError) throw new Error(`ask returned ${JSON.stringify(r)}`);
            return `${hooks.elicitations - before} elicitation(s) answered`;
        },
        'result-1mib': async () => {
            const r = await call(fx.TOOLS.big, {});
            if (r.text !== fx.BIG_TEXT) throw new Error(`got ${r.text?.length} bytes, want ${fx.BIG_TEXT.length}`);
            return `${r.text.length} bytes`;
        },
        'result-iserror': async () => {
            const r = await call(fx.TOOLS.fail, {});
            if (!r.isError || r.text !== fx.FAIL_TEXT) throw new Error(`fail returned ${JSON.stringify(r)}`);
            return 'isError: true';
        },
        'resources/read': async () => {
            const r = await client.readResource({ uri: fx.RESOURCE.uri }, { timeout: 10_000 });
            if (r.contents?.[0]?.text !== fx.RESOURCE.text) throw new Error(`read ${JSON.stringify(r)}`);
            return fx.RESOURCE.uri;
        },
        'prompts/get': async () => {
            const r = await client.getPrompt({ name: fx.PROMPT.name, arguments: { name: 'interop' } }, { timeout: 10_000 });
            const got = r.messages?.[0]?.content?.text;
            if (got !== fx.PROMPT.text('interop')) throw new Error(`prompt ${JSON.stringify(r)}`);
            return got;
        },
        'concurrent-20': async () => {
            const rs = await Promise.all(Array.from({ length: 20 }, (_, i) => call(fx.TOOLS.add, { a: i, b: 1000 })));
            const wrong = rs.filter((r, i) => r.text !== String(i + 1000));
            if (wrong.length) throw new Error(`${wrong.length} wrong: ${JSON.stringify(wrong[0])}`);
            return '20 answers';
        },
        cancel: async () => {
            // Cancel once the server has started (its first progress), then
            // ask the server whether its handler saw the cancellation.
            const id = `cancel-${run}`;
            const abort = new AbortController();
            let outcome;
            try {
                outcome = await call(fx.TOOLS.slow, { id }, { signal: abort.signal, onprogress: () => abort.abort('interop cancel') });
            } catch (e) {
                outcome = e;
            }
            if (!(outcome instanceof Error)) throw new Error(`the call completed: ${JSON.stringify(outcome)}`);
            const seen = await call(fx.TOOLS.cancelSeen, { id });
            if (seen.text !== 'seen') throw new Error(`host got "${outcome.message}" but the server says: ${seen.text}`);
            return `host got "${outcome.message}"; server saw the cancel`;
        },
        'list-changed': async () => {
            const name = `extra_${run}`;
            const changed = hooks.waitTool(name);
            await expectText(fx.TOOLS.addTool, { name }, `added ${name}`);
            return changed;
        },
        'clean-exit': () => host.close()
    };
    process.stdout.write(JSON.stringify({ plan: CHECKS }) + '\n');
    for (const name of CHECKS) {
        if (!connected && name !== 'connect') {
            report(name, false, 'not run: no connection');
            continue;
        }
        const timeoutMs = TIMEOUTS[name] ?? 10_000;
        let timer;
        try {
            const detail = await Promise.race([
                checks[name](),
                new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs)))
            ]);
            report(name, true, String(detail ?? ''));
        } catch (e) {
            report(name, false, errorText(e));
        } finally {
            clearTimeout(timer);
        }
    }
}

function report(check, ok, detail) {
    process.stdout.write(JSON.stringify({ check, ok, detail }) + '\n');
}

function errorText(e) {
    const s = e instanceof Error ? `${e.constructor.name}: ${e.message}` : String(e);
    return s.replace(/\s+/g, ' ').slice(0, 300);
}

/**
 * closeStdio closes a client whose transport spawned a process and reports
 * how that process ended: the check passes if it exited 0 by itself once
 * its stdin closed (the SDK waits 2 s before SIGTERM).
 */
export async function closeStdio(client, transport) {
    const proc = transport._process; // the SDKs keep the child here; there is no public handle
    const start = Date.now();
    await client.close();
    if (!proc) throw new Error('no child process to watch');
    if (proc.exitCode === null && proc.signalCode === null) await new Promise(resolve => proc.once('exit', resolve));
    const took = Date.now() - start;
    if (proc.exitCode !== 0) throw new Error(`child ended with ${proc.signalCode ?? `exit ${proc.exitCode}`} after ${took} ms`);
    return `exit 0 after ${took} ms`;
}

/** closeHTTP ends the session (DELETE, if the server issued one) and closes the client. */
export async function closeHTTP(client, transport) {
    const session = transport.sessionId;
    await transport.terminateSession();
    await client.close();
    return session ? 'session ended with DELETE' : 'closed (no session)';
}
