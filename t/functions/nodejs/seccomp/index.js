// Calls that the nodejs runtime's allowlist leaves out, and ordinary code
// that it must not stop, for t/022-seccomp-runtime.t.
const childProcess = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const {Worker} = require('worker_threads');

const text = (body) => ({
    statusCode: 200,
    headers: {'Content-Type': 'text/plain'},
    body
});

// "exit 0" under the base filter; the child's execve() is killed (SIGSYS)
// under the allowlist
exports.runTrue = async () => {
    try {
        childProcess.execFileSync('/usr/bin/true');
        return text('true: exit 0\n');
    } catch (err) {
        return text(`true: ${err.signal || err.code || err.message}\n`);
    }
};

// the instance itself: allowed by the base filter (its own uid), killed
// under the allowlist
exports.setuid = async () => {
    process.setuid(process.getuid());
    return text('setuid: ok\n');
};

exports.ordinary = async () => {
    const out = [];
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'x-'));

    fs.writeFileSync(path.join(dir, 'a'), 'x'.repeat(1000));
    out.push(String(fs.readFileSync(path.join(dir, 'a')).length));
    await fs.promises.rename(path.join(dir, 'a'), path.join(dir, 'b'));
    out.push(JSON.stringify(await fs.promises.readdir(dir)));
    fs.rmSync(dir, {recursive: true});

    out.push(crypto.createHash('sha256').update('abc').digest('hex')
             .slice(0, 8));
    out.push(String(crypto.randomBytes(16).length));
    out.push(Buffer.from('hi').toString('base64'));
    out.push(await new Promise((resolve) => setTimeout(() => resolve('t'),
                                                       10)));
    out.push(await new Promise((resolve, reject) =>
        crypto.pbkdf2('p', 's', 1000, 16, 'sha256',
                      (err, key) => err ? reject(err)
                                        : resolve(String(key.length)))));
    out.push(String(os.cpus().length > 0));
    out.push(await new Promise((resolve, reject) => {
        const w = new Worker('require("worker_threads").parentPort'
                             + '.postMessage("w")', {eval: true});
        w.once('message', resolve);
        w.once('error', reject);
    }));
    return text(out.join(' ') + '\n');
};
