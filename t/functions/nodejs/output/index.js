// What a function prints goes to nginx's error log, line by line.
exports.handler = async () => {
    console.log('hello from stdout');
    console.error('hello from stderr');
    process.stdout.write('two\nlines\n');
    return 'printed\n';
};
