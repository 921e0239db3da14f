// The event as the function sees it, one line per item, for the tests.
exports.handler = async (event, context) => {
    const lines = [
        `method: ${event.method}`,
        `path: ${event.path}`,
        `query: ${event.query}`
    ];

    for (const [name, value] of Object.entries(event.queryParameters)) {
        lines.push(`param ${name}: ${value}`);
    }

    for (const [name, value] of Object.entries(event.headers)) {
        lines.push(`header ${name}: ${value}`);
    }

    for (const [name, value] of event.rawHeaders) {
        lines.push(`raw ${name}: ${value}`);
    }

    lines.push(`remote: ${event.remoteAddr}`);
    lines.push(`request id: ${event.requestId === context.requestId
                              ? 'same' : 'differs'} ${event.requestId}`);
    lines.push(`body is a Buffer: ${Buffer.isBuffer(event.body)}`);
    lines.push(`body-length: ${event.body.length}`);
    lines.push(`body: ${event.body.toString()}`);

    return lines.join('\n') + '\n';
};
