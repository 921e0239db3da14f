// Rejects after a timer, so the event loop runs in between.
exports.handler = async () => {
    await new Promise((resolve) => setTimeout(resolve, 10));
    throw new RangeError('rejected after 10 ms');
};
