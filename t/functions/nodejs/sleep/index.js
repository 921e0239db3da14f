// Waits ?ms= milliseconds (default 3000), then answers.
exports.handler = async (event) => {
    const ms = Number(event.queryParameters.ms || 3000);

    await new Promise((resolve) => setTimeout(resolve, ms));

    return `slept ${ms}\n`;
};
