// A status from the query, custom headers, a repeated one, a number value.
exports.handler = async (event) => {
    return {
        statusCode: Number(event.queryParameters.code || 201),
        headers: {
            'X-Faas-Test': 'yes',
            'X-Number': 42,
            'Set-Cookie': ['a=1', 'b=2']
        },
        body: 'created\n'
    };
};
