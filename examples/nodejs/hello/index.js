// The hello function for the nodejs runtime: nginx.conf declares it with
//
//     faas_function hello-js {
//         runtime nodejs;
//         code    /srv/functions/hello-js;    # this directory
//         handler index.handler;
//         env     GREETING Hello;
//     }
//
// GET /hello-js?name=nginx answers "Hello, nginx!".

const greeting = process.env.GREETING || 'Hello';

exports.handler = async (event, context) => {
    const name = event.queryParameters.name || 'world';

    console.log(`greeting ${name} in request ${context.requestId}`);

    return {
        statusCode: 200,
        headers: {'Content-Type': 'text/plain; charset=utf-8'},
        body: `${greeting}, ${name}!\n`
    };
};
