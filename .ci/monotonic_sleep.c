/* Sleeps on CLOCK_MONOTONIC go straight to the kernel, around libfaketime.

   libfaketime 0.9.10 (Debian 12) shifts clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, ...) by the
   fake offset even with FAKETIME_DONT_FAKE_MONOTONIC=1 (wolfcw/libfaketime#426): Python 3.11's
   time.sleep() then fails with EINVAL or returns at once. Preloaded before libfaketime, this keeps
   monotonic sleeps real while the wall clock stays faked. */
#define _GNU_SOURCE
#include <errno.h>
#include <dlfcn.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int clock_nanosleep(clockid_t clock_id, int flags, const struct timespec *request, struct timespec *remain) {
    if (clock_id == CLOCK_MONOTONIC) {
        long result = syscall(SYS_clock_nanosleep, clock_id, flags, request, remain);
        return result == 0 ? 0 : errno;  /* clock_nanosleep returns the error, it doesn't set errno */
    }
    static int (*next)(clockid_t, int, const struct timespec *, struct timespec *);
    if (!next) next = dlsym(RTLD_NEXT, "clock_nanosleep");
    return next(clock_id, flags, request, remain);
}
