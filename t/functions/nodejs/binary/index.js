// The body back as it came, bytes and all, with its length and a checksum.
exports.handler = (event) => {
    let sum = 0;

    for (const b of event.body) {
        sum = (sum * 31 + b) % 1000000007;
    }

    return {
        headers: {'X-Length': event.body.length, 'X-Sum': sum},
        body: event.body
    };
};
