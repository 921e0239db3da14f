// A syntax error on line 3.
exports.handler = async () => {
    return 'never'; }}
};
