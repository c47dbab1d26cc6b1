/* trace-functions BINARY SYMBOLS ORDER -- COMMAND [ARG...]
 *
 * Runs COMMAND (a script that calls BINARY, say) under ptrace and writes to
 * ORDER the names of BINARY's functions in the order they first ran, in any
 * process of the tree. SYMBOLS lists the functions as "hex-address name"
 * lines (nm's t/T symbols of BINARY, a position-independent executable).
 * Each time a process execs BINARY, an int3 goes on the first byte of every
 * function; a hit records the function, puts the byte back and resumes the
 * process. The list feeds the linker's --symbol-ordering-file: what runs
 * lies together, so a command maps fewer pages (docs/decisions.md,
 * "Start-up and footprint"). Used by update.sh; x86-64 only. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

struct function { uint64_t address; char *name; unsigned char byte; int seen; };
static struct function *functions;
static size_t count;
static char binary[4096];
static FILE *order;

static int by_address(const void *a, const void *b) {
    uint64_t x = ((const struct function *)a)->address, y = ((const struct function *)b)->address;
    return x < y ? -1 : x > y;
}

static void load_symbols(const char *path) {
    FILE *file = fopen(path, "r");
    if (!file) { perror(path); exit(2); }
    size_t room = 1 << 16;
    functions = calloc(room, sizeof *functions);
    char line[8192];
    while (fgets(line, sizeof line, file)) {
        char *name = strchr(line, ' ');
        if (!name) continue;
        *name++ = 0;
        name[strcspn(name, "\n")] = 0;
        if (count == room) functions = realloc(functions, (room *= 2) * sizeof *functions);
        functions[count].address = strtoull(line, NULL, 16);
        functions[count].name = strdup(name);
        count++;
    }
    fclose(file);
    qsort(functions, count, sizeof *functions, by_address);
}

static struct function *find(uint64_t address) {
    size_t low = 0, high = count;
    while (low < high) {
        size_t mid = (low + high) / 2;
        if (functions[mid].address < address) low = mid + 1; else high = mid;
    }
    return low < count && functions[low].address == address ? &functions[low] : NULL;
}

/* Where BINARY is mapped in `pid` (its mapping at file offset 0), or 0. */
static uint64_t load_base(pid_t pid) {
    char path[64], line[8192];
    snprintf(path, sizeof path, "/proc/%d/maps", pid);
    FILE *maps = fopen(path, "r");
    if (!maps) return 0;
    uint64_t base = 0;
    while (fgets(line, sizeof line, maps)) {
        unsigned long start, offset;
        char file[4096] = "";
        if (sscanf(line, "%lx-%*x %*s %lx %*s %*s %4095s", &start, &offset, file) >= 2
            && offset == 0 && strcmp(file, binary) == 0) { base = start; break; }
    }
    fclose(maps);
    return base;
}

static int memory(pid_t pid) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/mem", pid);
    return open(path, O_RDWR | O_CLOEXEC);
}

/* After an exec of BINARY: an int3 on every function not seen yet. */
static void arm(pid_t pid) {
    uint64_t base = load_base(pid);
    int mem = memory(pid);
    if (!base || mem < 0) { if (mem >= 0) close(mem); return; }
    unsigned char trap = 0xcc;
    for (size_t i = 0; i < count; i++) {
        if (functions[i].seen || (i > 0 && functions[i].address == functions[i - 1].address)) continue;
        off_t at = (off_t)(base + functions[i].address);
        if (pread(mem, &functions[i].byte, 1, at) == 1) pwrite(mem, &trap, 1, at);
    }
    close(mem);
}

/* A SIGTRAP at rip-1 == a function of ours: record it, restore, step back. */
static int hit(pid_t pid) {
    struct user_regs_struct regs;
    if (ptrace(PTRACE_GETREGS, pid, 0, &regs) != 0) return 0;
    uint64_t base = load_base(pid);
    if (!base || regs.rip - 1 < base) return 0;
    struct function *function = find(regs.rip - 1 - base);
    if (!function) return 0;
    while (function > functions && function[-1].address == function->address) function--;
    int mem = memory(pid);
    if (mem < 0) return 0;
    pwrite(mem, &function->byte, 1, (off_t)(regs.rip - 1));
    close(mem);
    regs.rip -= 1;
    ptrace(PTRACE_SETREGS, pid, 0, &regs);
    if (!function->seen) {
        function->seen = 1;
        fprintf(order, "%s\n", function->name);
    }
    return 1;
}

static int is_binary(pid_t pid) {
    char path[64], target[4096];
    snprintf(path, sizeof path, "/proc/%d/exe", pid);
    ssize_t n = readlink(path, target, sizeof target - 1);
    if (n < 0) return 0;
    target[n] = 0;
    return strcmp(target, binary) == 0;
}

int main(int argc, char **argv) {
    if (argc < 6 || strcmp(argv[4], "--") != 0) {
        fprintf(stderr, "usage: trace-functions BINARY SYMBOLS ORDER -- COMMAND [ARG...]\n");
        return 2;
    }
    if (!realpath(argv[1], binary)) { perror(argv[1]); return 2; }
    load_symbols(argv[2]);
    order = fopen(argv[3], "w");
    if (!order) { perror(argv[3]); return 2; }
    pid_t first = fork();
    if (first == 0) {
        ptrace(PTRACE_TRACEME, 0, 0, 0);
        raise(SIGSTOP);
        execvp(argv[5], argv + 5);
        _exit(127);
    }
    int status, code = 1;
    waitpid(first, &status, 0);
    ptrace(PTRACE_SETOPTIONS, first, 0, PTRACE_O_TRACECLONE | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK
           | PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL);
    ptrace(PTRACE_CONT, first, 0, 0);
    for (;;) {
        pid_t pid = waitpid(-1, &status, __WALL);
        if (pid < 0) break;
        if (WIFEXITED(status) || WIFSIGNALED(status)) {
            if (pid == first) code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            continue;
        }
        int signal = WSTOPSIG(status), event = status >> 16, deliver = 0;
        if (event == PTRACE_EVENT_EXEC) {
            if (is_binary(pid)) arm(pid);
        } else if (event != 0 || signal == SIGSTOP) {
            /* clone, fork, vfork events; a new child's first stop */
        } else if (signal == SIGTRAP) {
            if (!hit(pid)) deliver = SIGTRAP;
        } else {
            deliver = signal;
        }
        ptrace(PTRACE_CONT, pid, 0, deliver);
    }
    fclose(order);
    return code;
}
