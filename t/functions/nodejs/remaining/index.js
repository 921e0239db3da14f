// The remaining time, before and after a 200 ms wait.
exports.handler = async (event, context) => {
    const first = context.getRemainingTimeInMillis();

    await new Promise((resolve) => setTimeout(resolve, 200));

    const second = context.getRemainingTimeInMillis();

    return `first=${first} second=${second} `
           + `decreasing=${second <= first - 150 && second > 0}\n`
           + `function=${context.functionName} `
           + `instance=${context.instanceId} `
           + `memory=${context.memoryLimitInMB} `
           + `version=${context.functionVersion.length > 0}\n`;
};
