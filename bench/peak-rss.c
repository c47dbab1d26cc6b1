/* peak-rss CMD...: runs CMD (its output to /dev/null) and prints its peak RSS
 * in KiB on stdout. A created container keeps CMD's stdio open, so only
 * /dev/null is given to it, never our pipe.
 * A small C parent keeps the child's pre-exec memory (counted in ru_maxrss)
 * negligible, unlike forking from Python. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
        execv(argv[1], argv + 1);
        _exit(127);
    }
    int status;
    struct rusage usage;
    if (wait4(pid, &status, 0, &usage) < 0) return 1;
    printf("%ld\n", usage.ru_maxrss);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
