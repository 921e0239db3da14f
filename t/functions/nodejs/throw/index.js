// Throws on line 4.
exports.handler = (event) => {
    if (event.method !== 'OPTIONS') {
        throw new Error('boom');
    }
};
