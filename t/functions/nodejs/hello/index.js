// The smallest function: a greeting, from the environment when set.
exports.handler = async (event, context) => {
    return {
        statusCode: 200,
        headers: {'Content-Type': 'text/plain'},
        body: `Hello, ${process.env.GREETING || 'world'}!\n`
    };
};
