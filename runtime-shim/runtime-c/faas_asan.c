/*
 * Linked into the sanitizer build of faas-runtime-c only: a function that
 * crashes must die of its signal, as in the normal build, so that the
 * supervisor reports "killed by signal 11 (SIGSEGV)" and not ASan's exit.
 */

const char *__asan_default_options(void);


const char *
__asan_default_options(void)
{
    return "handle_segv=0:handle_sigbus=0:handle_sigfpe=0:handle_sigill=0";
}
