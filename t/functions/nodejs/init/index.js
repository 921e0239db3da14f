// Counts initializer runs and calls: the initializer runs once per instance.
let inits = 0;
let calls = 0;
let seen = '';

exports.init = async (context) => {
    await new Promise((resolve) => setTimeout(resolve, 5));
    inits++;
    seen = `${context.functionName} "${context.requestId}" `
           + `${context.getRemainingTimeInMillis() > 0}`;
};

exports.handler = () => `inits=${inits} calls=${++calls} init saw ${seen}\n`;
