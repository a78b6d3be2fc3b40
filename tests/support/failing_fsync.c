/* A disk that refuses to sync, for end-to-end tests of the journal:
 * LD_PRELOAD this library into roost and fdatasync() fails with EIO while
 * the file named by ROOST_FAIL_FSYNC exists (create it to make the disk
 * fail, remove it to make it work again). Nothing else changes. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

int fdatasync(int fd) {
    static int (*real)(int);
    const char *flag = getenv("ROOST_FAIL_FSYNC");
    if (flag != NULL && access(flag, F_OK) == 0) {
        errno = EIO;
        return -1;
    }
    if (real == NULL) {
        real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    }
    return real(fd);
}
