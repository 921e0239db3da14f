// Every way a result can be wrong, picked by ?bad=.
const results = {
    key: {stat: 200},
    status: {statusCode: 99},
    headers: {headers: 'X-A: 1'},
    name: {headers: {'Bad Name': 'x'}},
    crlf: {headers: {'X-A': 'a\r\nX-Injected: 1'}},
    body: {body: 42},
    type: 42,
    length: {headers: {'Content-Length': '5'}, body: 'abc'}
};

exports.handler = async (event) => results[event.queryParameters.bad];
