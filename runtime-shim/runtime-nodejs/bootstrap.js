#!/usr/bin/node
'use strict';

/*
 * faas-runtime-nodejs: loads one JavaScript function and serves the
 * requests the supervisor hands over on fd 3, one at a time, or with
 * "concurrency" N in LOAD up to N at once on the event loop.
 *
 *   LOAD -> require(), initializer -> READY | ERROR and exit 1
 *   INVOKE+REQUEST with the nginx connection's fd -> handler -> DONE
 *   QUIT or end of fd 3 -> exit 0
 *
 * docs/protocol.md ("3. Instance channel") is the wire contract and
 * runtime-c/faas_runtime.c the reference runtime.  faas_node.node does
 * the I/O that Node cannot: receiving an fd and blocking reads and writes
 * on an fd whose O_NONBLOCK the supervisor shares.  Between two requests
 * the instance blocks in recv(): its event loop is frozen, like a Lambda's.
 *
 * With "direct" in LOAD (concurrency 1 only) a connection whose call ended
 * cleanly is held after DONE, and nginx writes the next REQUEST BODY* END
 * on it, served the same way but without DONE.  Between calls the
 * instance then blocks in wait() on fd 3 and the held connections.
 */

// Everything generic happens before LOAD: a pooled runtime waits for it.
const fs = require('fs');
const path = require('path');
const util = require('util');
// the runtime's own files are in PROGRAM.d/, bound beside it in the sandbox
const faas = require(`${__filename}.d/faas_node.node`);

const CHANNEL = 3;

// the supervisor's, not a child process's: child_process keeps other fds
faas.cloexec(CHANNEL);

const REQUEST = 0x01;
const BODY = 0x02;
const END = 0x03;
const RESPONSE = 0x04;
const ERROR = 0x05;
const LOAD = 0x20;
const READY = 0x21;
const INVOKE = 0x22;
const DONE = 0x23;
const QUIT = 0x24;
const FILTER = 0x26;

const HEADER_SIZE = 8;
const JSON_MAX = 64 * 1024;
const BODY_CHUNK = 64 * 1024;
const REASON_MAX = 1000;
const HELD_MAX = 64;

const END_FRAME = frameHeader(END, 0);

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const CTL = /[\r\n\0]/;
const RESULT_KEYS = new Set(['statusCode', 'status', 'headers', 'body',
                             'isBase64Encoded']);
const TEXT = 'text/plain; charset=utf-8';
const OCTETS = 'application/octet-stream';
const OURS = `${__filename}:`;

// Creating them costs ~7 ms (a pipe is a net.Socket: node loads "net"):
// pay it here, where a pooled runtime hides it, not in the first call that
// logs.  DONE waits until they are drained.
const outputs = [process.stdout, process.stderr];

// set from LOAD
let fn = {name: '?', instance: 0};

// direct calls: [{fd, rest}], rest what was read past END; oldest first
const held = [];


class LoadError extends Error {}
class ResultError extends Error {}


class Context {
    #deadline;

    constructor(requestId, deadline) {
        this.functionName = fn.name;
        this.functionVersion = fn.version;
        this.instanceId = fn.instance;
        this.requestId = requestId;
        this.memoryLimitInMB = fn.memoryMB;
        this.#deadline = deadline;
    }

    getRemainingTimeInMillis() {
        return Math.max(0, Math.floor(this.#deadline - now()));
    }
}


main().catch((err) => {
    log(`internal error: ${err && err.stack}`);
    process.exit(1);
});


async function main() {
    await load();

    if (fn.concurrency > 1) {
        faas.watch(CHANNEL, receive);
        return;
    }

    for (;;) {
        if (fn.direct && !(await waitHeld())) {
            continue;
        }

        const msg = faas.recv(CHANNEL);

        if (msg === null) {
            process.exit(0);
        }

        const arrival = now();
        const frames = parse(msg.packet);

        if (frames !== null && frames[0].type === QUIT) {
            process.exit(0);
        }

        if (frames === null || frames.length !== 2 || msg.fd === -1
            || frames[0].type !== INVOKE || frames[1].type !== REQUEST)
        {
            log('unexpected packet from the supervisor');
            process.exit(1);
        }

        await serve(msg.fd, json(frames[0].payload), frames[1].payload,
                    arrival);
    }
}


async function load() {
    let frames;

    for (;;) {
        const msg = faas.recv(CHANNEL);

        if (msg === null) {
            process.exit(0);
        }

        if (msg.fd !== -1) {
            faas.close(msg.fd);
        }

        frames = parse(msg.packet);

        // FILTER alone: a pooled runtime loads it while it waits for LOAD
        if (frames === null || frames.length !== 1
            || frames[0].type !== FILTER)
        {
            break;
        }

        try {
            faas.seccomp(frames[0].payload);
        } catch (err) {
            await loadFailed(err.message);
        }
    }

    // in a sandbox, the runtime's seccomp allowlist comes first
    const filter = frames !== null && frames.length > 1
                   && frames[0].type === FILTER ? frames.shift() : null;

    const conf = frames !== null && frames[0].type === LOAD
                 ? json(frames[0].payload) : null;

    if (frames === null || frames[0].type !== LOAD) {
        await loadFailed('the first packet is not LOAD');
    }

    if (conf === null) {
        await loadFailed('LOAD is not a JSON object');
    }

    // before the require(): the module's top level is the function's code
    if (filter !== null) {
        try {
            faas.seccomp(filter.payload);
        } catch (err) {
            await loadFailed(err.message);
        }
    }

    const start = process.hrtime.bigint();
    let initUs = 0n;

    fn = {
        name: String(conf.function ?? '?'),
        version: String(conf.version ?? ''),
        instance: Number.isInteger(conf.instance) ? conf.instance : 0,
        timeout: Number.isFinite(conf.timeout_ms) ? conf.timeout_ms : 0,
        memoryMB: Number.isFinite(conf.memory)
                  ? Math.floor(conf.memory / 1048576) : 0,
        debug: conf.debug === 1 || conf.debug === true,
        concurrency: Number.isInteger(conf.concurrency)
                     && conf.concurrency > 1 && conf.concurrency <= 1000
                     ? conf.concurrency : 1,
        direct: false,
        handlerName: typeof conf.handler === 'string' ? conf.handler
                                                      : 'index.handler',
        handler: null
    };

    try {
        setup(conf);

        fn.handler = resolve('handler', fn.handlerName, conf.code);

        if (typeof conf.initializer === 'string' && conf.initializer !== '') {
            const init = resolve('initializer', conf.initializer, conf.code);
            const t0 = process.hrtime.bigint();

            try {
                await init(new Context('', now() + fn.timeout));
            } catch (err) {
                process.stderr.write(stackOf(err) + '\n');
                throw new LoadError(`initializer "${conf.initializer}" `
                                    + `failed: ${describe(err)}`);
            }

            initUs = (process.hrtime.bigint() - t0) / 1000n;
        }

    } catch (err) {
        if (err instanceof LoadError) {
            await loadFailed(err.message);
        }

        // thrown while the code was required: a syntax error, a throw
        process.stderr.write(stackOf(err) + '\n');
        await loadFailed(describe(err));
    }

    // several calls at once would need a held connection each
    fn.direct = conf.direct === true && fn.concurrency === 1;

    const ready = {
        init_us: Number((process.hrtime.bigint() - start) / 1000n),
        initializer_us: Number(initUs)
    };

    if (fn.direct) {
        ready.direct = true;
    }

    send(READY, ready);
}


function setup(conf) {
    if (typeof conf.code !== 'string' || conf.code === '') {
        throw new LoadError('LOAD has no "code"');
    }

    for (const pair of Array.isArray(conf.env) ? conf.env : []) {
        if (Array.isArray(pair) && typeof pair[0] === 'string'
            && typeof pair[1] === 'string')
        {
            process.env[pair[0]] = pair[1];
        }
    }

    // relative paths in the function are relative to its code
    try {
        process.chdir(conf.code);
    } catch (err) {
        // "ENOENT: no such file or directory, chdir ..." -> its first part
        throw new LoadError(`chdir: ${conf.code}: `
                            + err.message.split(',')[0]);
    }

    // require("x") also finds code/x.js and code/node_modules/x
    const paths = process.env.NODE_PATH;

    process.env.NODE_PATH = paths ? `${conf.code}:${paths}` : conf.code;
    module.constructor._initPaths();
}


/* "file.function": code/file.js (or .cjs), its export "function" */
function resolve(what, spec, code) {
    const dot = spec.lastIndexOf('.');

    if (dot <= 0 || dot === spec.length - 1) {
        throw new LoadError(`${what} "${spec}": expected FILE.FUNCTION`);
    }

    const file = spec.slice(0, dot);
    const name = spec.slice(dot + 1);
    let filename = null;

    for (const ext of ['.js', '.cjs']) {
        const f = path.resolve(code, file + ext);

        if (fs.existsSync(f)) {
            filename = f;
            break;
        }
    }

    if (filename === null) {
        throw new LoadError(`${what} "${spec}": no file ${file}.js or `
                            + `${file}.cjs in ${code}`);
    }

    const exported = require(filename);
    const f = exported == null ? undefined : exported[name];

    if (f === undefined) {
        throw new LoadError(`${what} "${spec}": module ${file} has no `
                            + `export ${name}`);
    }

    if (typeof f !== 'function') {
        throw new LoadError(`${what} "${spec}": ${file}.${name} is `
                            + `${article(f)}, not a function`);
    }

    return f;
}


async function loadFailed(reason) {
    await drainOutput();
    send(ERROR, {reason: oneLine(reason)});
    process.exit(1);
}


async function serve(fd, invoke, payload, arrival) {
    // null would tell call() of a direct call, an INVOKE not in JSON too
    const status = await call(fd, invoke ?? {}, payload, null, arrival);

    // what the function printed reaches the log before the next request
    await drainOutput();

    // the id names the call among those in flight (concurrency)
    const requestId = invoke && typeof invoke.request_id === 'string'
                      ? invoke.request_id : undefined;

    send(DONE, requestId === undefined ? {status}
                                       : {status, request_id: requestId});
}


/*
 * concurrency: every packet waiting on the channel, each call started and
 * not awaited; the supervisor sends no more than N at once.
 */
function receive() {
    for (;;) {
        const msg = faas.recv(CHANNEL);

        if (msg === undefined) {
            return;
        }

        if (msg === null) {
            process.exit(0);
        }

        const arrival = now();
        const frames = parse(msg.packet);

        if (frames !== null && frames[0].type === QUIT) {
            process.exit(0);
        }

        if (frames === null || frames.length !== 2 || msg.fd === -1
            || frames[0].type !== INVOKE || frames[1].type !== REQUEST)
        {
            log('unexpected packet from the supervisor');
            process.exit(1);
        }

        serve(msg.fd, json(frames[0].payload), frames[1].payload, arrival)
            .catch((err) => {
                log(`internal error: ${err && err.stack}`);
                process.exit(1);
            });
    }
}


/*
 * One call on fd, rest the bytes of its body read already (or null);
 * invoke is null for a direct call.  fd is then held for the next direct
 * call if this one ended cleanly, closed otherwise.
 */
async function call(fd, invoke, payload, rest, arrival) {
    // at HELD_MAX, an INVOKE call's fd is not held and its RESPONSE says
    // "close"; a direct call's keeps its place (waitHeld() lifted it for
    // the call only)
    const close = fn.direct && invoke !== null && held.length >= HELD_MAX;
    const state = {rest, clean: false, close};
    let status;

    try {
        status = await respond(fd, invoke, payload, arrival, state);
    } finally {
        if (fn.direct && state.clean && !close) {
            hold(fd, state.rest);
        } else {
            faas.close(fd);
        }
    }

    return status;
}


/*
 * The status sent to nginx, 502 when the connection failed.  state.clean:
 * the call read END and wrote RESPONSE BODY* END, state.rest then what
 * was read past END.  state.close puts "close" in the RESPONSE.
 */
async function respond(fd, invoke, payload, arrival, state) {
    const req = json(payload);

    if (req === null) {
        log('invalid REQUEST');
        return fail(fd, 502, 'invalid REQUEST');
    }

    let body;

    try {
        ({body, rest: state.rest} = faas.readBody(fd, state.rest));
    } catch (err) {
        return fail(fd, 502, `invalid request body: ${err.message}`);
    }

    const requestId = str(req.request_id) || str(invoke && invoke.request_id);
    const timeout = invoke && Number.isFinite(invoke.timeout_ms)
                    ? invoke.timeout_ms : fn.timeout;
    let result;

    try {
        result = fn.handler(event(req, body, requestId),
                            new Context(requestId, arrival + timeout));

        if (result != null && typeof result.then === 'function') {
            result = await result;
        }

    } catch (err) {
        return thrown(fd, err, state);
    }

    let res;

    try {
        res = response(result, state.close);
    } catch (err) {
        if (!(err instanceof ResultError)) {
            // a getter or a Proxy of the result threw
            return thrown(fd, err, state);
        }

        return fail(fd, 502,
                    `invalid result from "${fn.handlerName}": ${err.message}`);
    }

    return reply(fd, res.status, res.headers, res.body, res.head, state);
}


/* the function threw: the stack to the log, or with debug to the client */
function thrown(fd, err, state) {
    const stack = stackOf(err);

    process.stderr.write(stack + '\n');

    if (fn.debug) {
        return reply(fd, 502, [['Content-Type', TEXT]],
                     Buffer.from(stack + '\n'), null, state);
    }

    return fail(fd, 502, describe(err));
}


function event(req, body, requestId) {
    const rawHeaders = Array.isArray(req.headers) ? req.headers : [];
    const headers = {};

    for (const pair of rawHeaders) {
        if (!Array.isArray(pair) || typeof pair[0] !== 'string'
            || typeof pair[1] !== 'string')
        {
            continue;
        }

        const name = pair[0].toLowerCase();

        set(headers, name, Object.hasOwn(headers, name)
                           ? `${headers[name]}, ${pair[1]}` : pair[1]);
    }

    const query = str(req.args);

    return {
        method: str(req.method),
        path: str(req.uri),
        query,
        queryParameters: queryParameters(query),
        headers,
        rawHeaders,
        body,
        remoteAddr: str(req.remote_addr),
        requestId
    };
}


/* "a=1&b=2&a=3" -> {a: "1,3", b: "2"}: the function URL convention */
function queryParameters(query) {
    const params = {};

    if (query === '') {
        return params;
    }

    for (const part of query.split('&')) {
        if (part === '') {
            continue;
        }

        const eq = part.indexOf('=');
        const name = decodeQuery(eq === -1 ? part : part.slice(0, eq));
        const value = eq === -1 ? '' : decodeQuery(part.slice(eq + 1));

        set(params, name, Object.hasOwn(params, name)
                          ? `${params[name]},${value}` : value);
    }

    return params;
}


function decodeQuery(s) {
    if (s.includes('+')) {
        s = s.replaceAll('+', ' ');
    }

    if (!s.includes('%')) {
        return s;
    }

    try {
        return decodeURIComponent(s);
    } catch {
        // a stray "%" or bad UTF-8: decode what is valid, as Python does
        return require('querystring').unescape(s);
    }
}


/* a name from the request is no reason to change an object's prototype */
function set(obj, name, value) {
    if (name === '__proto__') {
        Object.defineProperty(obj, name, {value, writable: true,
                                          enumerable: true,
                                          configurable: true});
    } else {
        obj[name] = value;
    }
}


/* the handler's result as {status, headers, body, head}, or ResultError */
function response(result, close) {
    if (result == null) {
        return {status: 204, headers: [], body: null, head: null};
    }

    if (typeof result === 'string') {
        return finish(200, [], Buffer.from(result), TEXT, close);
    }

    if (result instanceof Uint8Array) {
        return finish(200, [], bytes(result), OCTETS, close);
    }

    if (typeof result !== 'object' || Array.isArray(result)) {
        throw new ResultError(`${article(result)} is not a valid result `
                              + '(return an object, a string, a Buffer or '
                              + 'undefined)');
    }

    for (const key of Object.keys(result)) {
        if (!RESULT_KEYS.has(key)) {
            throw new ResultError(`unknown key "${key}"`);
        }
    }

    if (result.statusCode !== undefined && result.status !== undefined) {
        throw new ResultError('both statusCode and status');
    }

    const key = result.status !== undefined ? 'status' : 'statusCode';
    const status = result[key] ?? 200;

    if (!Number.isInteger(status)) {
        throw new ResultError(`${key} must be an integer, not `
                              + article(status));
    }

    if (status < 200 || status > 599) {
        throw new ResultError(`${key} ${status} is not in 200..599`);
    }

    const headers = [];
    const h = result.headers;

    if (h != null) {
        if (typeof h !== 'object' || Array.isArray(h) || isBytes(h)) {
            throw new ResultError(`headers must be an object, not `
                                  + article(h));
        }

        for (const name of Object.keys(h)) {
            if (!TOKEN.test(name)) {
                throw new ResultError(`header name "${name}" is not an `
                                      + 'HTTP token');
            }

            for (let v of Array.isArray(h[name]) ? h[name] : [h[name]]) {
                if (typeof v === 'number' || typeof v === 'boolean'
                    || typeof v === 'bigint')
                {
                    v = String(v);
                }

                if (typeof v !== 'string') {
                    throw new ResultError(`header "${name}" must be a string `
                                          + `or an array of strings, not `
                                          + article(v));
                }

                if (CTL.test(v)) {
                    throw new ResultError(`header "${name}" contains CR, LF `
                                          + 'or NUL');
                }

                headers.push([name, v]);
            }
        }
    }

    const b64 = result.isBase64Encoded;

    if (b64 !== undefined && typeof b64 !== 'boolean') {
        throw new ResultError(`isBase64Encoded must be a boolean, not `
                              + article(b64));
    }

    let body = result.body;
    let type = null;

    if (body == null) {
        body = null;

    } else if (b64) {
        if (typeof body !== 'string') {
            throw new ResultError(`isBase64Encoded needs a string body, not `
                                  + article(body));
        }

        const s = body.replace(/\s+/g, '');

        if (s.length % 4 === 1 || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(s)) {
            throw new ResultError('body is not valid base64');
        }

        body = Buffer.from(s, 'base64');
        type = OCTETS;

    } else if (typeof body === 'string') {
        body = Buffer.from(body);
        type = TEXT;

    } else if (body instanceof Uint8Array) {
        body = bytes(body);
        type = OCTETS;

    } else {
        throw new ResultError(`body must be a string or a Buffer, not `
                              + article(body));
    }

    return finish(status, headers, body, type, close);
}


/* the default Content-Type and a Content-Length: nginx need not chunk */
function finish(status, headers, body, type, close) {
    let hasType = false;
    let hasLength = false;
    const len = body === null ? 0 : body.length;

    for (const [name, value] of headers) {
        const lc = name.toLowerCase();

        if (lc === 'content-type') {
            hasType = true;

        } else if (lc === 'content-length') {
            if (!/^[0-9]+$/.test(value) || Number(value) !== len) {
                throw new ResultError(`Content-Length "${value}" does not `
                                      + `match the body (${len} bytes)`);
            }

            hasLength = true;
        }
    }

    if (!hasType && type !== null) {
        headers.push(['Content-Type', type]);
    }

    if (!hasLength && status !== 204 && status !== 304) {
        headers.push(['Content-Length', String(len)]);
    }

    const head = responseHead(status, headers, close);

    if (head.length - HEADER_SIZE > JSON_MAX) {
        throw new ResultError(`headers too large (${head.length} bytes, `
                              + `at most ${JSON_MAX})`);
    }

    return {status, headers, body, head};
}


/* RESPONSE BODY* END in as few writes as possible */
function reply(fd, status, headers, body, head, state) {
    const out = [head ?? responseHead(status, headers, state.close)];
    const len = body === null ? 0 : body.length;

    for (let off = 0; off < len; off += BODY_CHUNK) {
        const n = Math.min(BODY_CHUNK, len - off);

        out.push(frameHeader(BODY, n), body.subarray(off, off + n));
    }

    out.push(END_FRAME);

    try {
        faas.writeAll(fd, out);
    } catch {
        // the client went away: nothing to tell anyone
        return 502;
    }

    state.clean = true;

    return status;
}


/* "close" only when true: nginx must not keep the connection */
function responseHead(status, headers, close) {
    return jsonFrame(RESPONSE, close ? {status, headers, close: true}
                                     : {status, headers});
}


/* ERROR before any RESPONSE: nginx answers with the status */
function fail(fd, status, reason) {
    try {
        faas.writeAll(fd, [jsonFrame(ERROR, {status,
                                             reason: oneLine(reason)})]);
    } catch {
        // as in reply()
    }

    return status;
}


/*
 * Direct calls, between two calls: true when fd 3 has a packet, false when
 * a held connection was served or dropped instead.
 */
async function waitHeld() {
    // what was read past an END already: poll() would not report it
    let i = held.findIndex((h) => h.rest !== null);

    if (i === -1) {
        i = faas.wait([CHANNEL, ...held.map((h) => h.fd)]);

        // the supervisor's packets first: QUIT, INVOKE
        if (i === 0) {
            return true;
        }

        if (i === -1) {
            return false;
        }

        i--;
    }

    const [h] = held.splice(i, 1);
    let r;

    try {
        r = faas.readRequest(h.fd, h.rest);
    } catch (err) {
        // nginx closed it with bytes unread: dropped all the same
        if (err.code !== 'ECONNRESET' || h.rest) {
            log(`held connection: ${err.message}`);
        }

        faas.close(h.fd);
        return false;
    }

    if (r === undefined) {
        hold(h.fd, null);

    } else if (r === null) {
        // nginx dropped it
        faas.close(h.fd);

    } else {
        await call(h.fd, null, r.request, r.rest, now());
        await drainOutput();
    }

    return false;
}


/*
 * fd's call ended cleanly: it waits.  Never more than HELD_MAX: call()
 * said "close" instead of holding another, as nginx may keep any
 * connection it was not told to drop.
 */
function hold(fd, rest) {
    held.push({fd, rest});
}


async function drainOutput() {
    for (const s of outputs) {
        if (s.writableLength > 0 && !s.destroyed) {
            await new Promise((done) => {
                s.once('drain', done);
                s.once('error', done);
            });
        }
    }
}


/*
 * What was thrown, for the log: the stack without our frames and without
 * the node internals that called the function's code.
 */
function stackOf(err) {
    if (!isError(err) || typeof err.stack !== 'string') {
        return `Uncaught ${util.inspect(err)}`;
    }

    const lines = err.stack.split('\n')
                  .filter((line) => !isFrame(line) || !line.includes(OURS));

    while (lines.length > 1 && isFrame(lines[lines.length - 1])
           && lines[lines.length - 1].includes('node:internal/'))
    {
        lines.pop();
    }

    return lines.join('\n');
}


function isFrame(line) {
    return /^\s+at /.test(line);
}


/*
 * "Error: boom (/srv/fn/x/index.js:4)": the message and where it was
 * thrown.  A SyntaxError from require() has "file:line" as the first line
 * of its stack; otherwise the innermost frame in a file, not ours.
 */
function describe(err) {
    if (!isError(err)) {
        return `a non-Error was thrown: ${util.inspect(err)}`;
    }

    const message = String(err.message ?? '').split('\n')[0];
    const head = message === '' ? String(err.name)
                                : `${err.name}: ${message}`;
    const stack = typeof err.stack === 'string' ? err.stack.split('\n') : [];
    let at = null;

    const m = /^(\/.*):(\d+)$/.exec(stack[0] ?? '');

    if (m !== null) {
        at = `${m[1]}:${m[2]}`;

    } else {
        for (const line of stack) {
            const f = /^\s+at (?:.* \()?(?:file:\/\/)?(\/.*?):(\d+):\d+\)?$/
                      .exec(line);

            if (f !== null && f[1] !== __filename) {
                at = `${f[1]}:${f[2]}`;
                break;
            }
        }
    }

    return at === null ? head : `${head} (${at})`;
}


function isError(v) {
    return v instanceof Error
           || (v !== null && typeof v === 'object'
               && typeof v.name === 'string' && 'message' in v
               && 'stack' in v);
}


function oneLine(s) {
    s = String(s).replace(/\s*[\r\n]+\s*/g, ' ').trim();

    return s.length > REASON_MAX ? `${s.slice(0, REASON_MAX)}...` : s;
}


function article(v) {
    if (v === null) {
        return 'null';
    }

    if (Array.isArray(v)) {
        return 'an array';
    }

    if (isBytes(v)) {
        return 'a Buffer';
    }

    const t = typeof v;

    return (/^[aeiou]/.test(t) ? 'an ' : 'a ') + t;
}


function isBytes(v) {
    return v instanceof Uint8Array;
}


/* a Buffer on the same memory: a Uint8Array is sent as it is */
function bytes(u8) {
    return Buffer.isBuffer(u8) ? u8
                               : Buffer.from(u8.buffer, u8.byteOffset,
                                             u8.byteLength);
}


function str(v) {
    return typeof v === 'string' ? v : '';
}


function json(payload) {
    try {
        const v = JSON.parse(payload.toString());

        return v !== null && typeof v === 'object' && !Array.isArray(v)
               ? v : null;
    } catch {
        return null;
    }
}


/* the frames of a packet, or null when it is not whole frames */
function parse(packet) {
    const frames = [];
    let pos = 0;

    while (pos < packet.length) {
        if (packet.length - pos < HEADER_SIZE || packet[pos] !== 1
            || packet.readUInt16BE(pos + 2) !== 0)
        {
            return null;
        }

        const type = packet[pos + 1];
        const len = packet.readUInt32BE(pos + 4);

        pos += HEADER_SIZE;

        if (packet.length - pos < len) {
            return null;
        }

        frames.push({type, payload: packet.subarray(pos, pos + len)});
        pos += len;
    }

    return frames.length > 0 ? frames : null;
}


function frameHeader(type, len) {
    const h = Buffer.allocUnsafe(HEADER_SIZE);

    h[0] = 1;
    h[1] = type;
    h[2] = 0;
    h[3] = 0;
    h.writeUInt32BE(len, 4);

    return h;
}


function jsonFrame(type, obj) {
    const s = JSON.stringify(obj);
    const len = Buffer.byteLength(s);
    const f = Buffer.allocUnsafe(HEADER_SIZE + len);

    f[0] = 1;
    f[1] = type;
    f[2] = 0;
    f[3] = 0;
    f.writeUInt32BE(len, 4);
    f.write(s, HEADER_SIZE);

    return f;
}


function send(type, obj) {
    faas.send(CHANNEL, jsonFrame(type, obj));
}


/* milliseconds, monotonic */
function now() {
    const t = process.hrtime();

    return t[0] * 1e3 + t[1] / 1e6;
}


function log(msg) {
    process.stderr.write(`faas-runtime-nodejs[${process.pid}]: function `
                         + `"${fn.name}" instance ${fn.instance}: ${msg}\n`);
}
