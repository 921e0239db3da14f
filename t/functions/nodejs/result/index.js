// Every shape of a valid result, picked by ?r=.
const results = {
    string: () => 'plain string\n',
    buffer: () => Buffer.from([0x62, 0x79, 0x74, 0x65, 0x73, 0x0a]),
    undefined: () => undefined,
    null: () => null,
    base64: () => ({body: Buffer.from('decoded\n').toString('base64'),
                    isBase64Encoded: true}),
    alias: () => ({status: 202, body: 'accepted\n'}),
    typed: () => ({headers: {'Content-Type': 'application/json'},
                   body: '{"ok":true}\n'}),
    empty: () => ({statusCode: 200})
};

exports.handler = async (event) => results[event.queryParameters.r]();
