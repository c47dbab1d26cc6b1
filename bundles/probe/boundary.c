// vessel compare's boundary probe: tries, from inside the container, the
// kernel interfaces behind most container escapes and local privilege
// escalations, and prints what happened, one line per step:
//
//   try PROBE STEP SYSCALL RESULT DETAIL
//
// RESULT is "ok", "errno=N", "signal=N" (the step's child was killed, e.g.
// SIGSYS from a seccomp kill action), "masked" (the path opened /dev/null,
// bound over it by maskedPaths) or "skipped" (DETAIL says why). vessel
// compare classifies the results (allowed, or denied by what) from the errno
// and the bundle's config; this program only reports.
//
// Safe on a production host, even as root with every capability: each step
// either creates something and removes it at once (a mount in a throwaway
// namespace, a key in the process keyring, a device node), opens and closes
// a file without writing, or passes an argument the kernel rejects after its
// permission check (kexec_load, init_module, open_by_handle_at), so nothing
// is loaded. Every probe runs in its own child process with an alarm.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/io_uring.h>
#include <linux/keyctl.h>
#include <linux/perf_event.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

// The step a probe's child is in, shared with the parent so that a child
// killed by a signal is reported against the step that was running.
struct current_step {
    char probe[32];
    char step[32];
    char syscall[32];
};
static struct current_step *current;

static void say(const char *format, ...) {
    char line[512];
    va_list args;
    va_start(args, format);
    int length = vsnprintf(line, sizeof line - 1, format, args);
    va_end(args);
    if (length < 0) return;
    if (length > (int)sizeof line - 2) length = sizeof line - 2;
    line[length++] = '\n';
    ssize_t unused = write(STDOUT_FILENO, line, (size_t)length);
    (void)unused;
}

static void begin(const char *step, const char *syscall) {
    snprintf(current->step, sizeof current->step, "%s", step);
    snprintf(current->syscall, sizeof current->syscall, "%s", syscall);
}

// Reports the result of the step begun last: a non-negative value is
// success; -1 reports errno. Returns whether the step succeeded.
static int report(long result, const char *detail) {
    if (result >= 0) {
        say("try %s %s %s ok %s", current->probe, current->step, current->syscall, detail);
        return 1;
    }
    int error = errno;
    const char *name = strerrorname_np(error);
    say("try %s %s %s errno=%d %s", current->probe, current->step, current->syscall, error, name ? name : "");
    return 0;
}

static void skip(const char *step, const char *why) {
    say("try %s %s - skipped %s", current->probe, step, why);
}

static void close_if_open(long fd) {
    if (fd >= 0) close((int)fd);
}

// unshare(CLONE_NEWUSER), then a mount in a new mount namespace owned by it:
// the path to most filesystem and netfilter CVEs. The namespaces die with
// this child, and the new mount namespace is made private first.
static void probe_userns_mount(void) {
    begin("unshare", "unshare");
    if (!report(unshare(CLONE_NEWUSER), "new user namespace")) return;
    begin("unshare-mount", "unshare");
    if (!report(unshare(CLONE_NEWNS), "new mount namespace owned by it")) return;
    begin("mount-private", "mount");
    if (!report(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), "/ made private in the new namespace")) return;
    const char *target = access("/tmp", F_OK) == 0 ? "/tmp" : "/";
    begin("mount", "mount");
    if (report(mount("vessel-probe", target, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=16k"), "tmpfs mounted"))
        umount2(target, MNT_DETACH);
}

static void probe_io_uring(void) {
    struct io_uring_params params;
    memset(&params, 0, sizeof params);
    begin("setup", "io_uring_setup");
    long fd = syscall(SYS_io_uring_setup, 1, &params);
    report(fd, "ring created and closed");
    close_if_open(fd);
}

// A two-instruction socket filter (r0 = 0; exit), loaded and closed.
static void probe_bpf(void) {
    struct bpf_insn program[2];
    memset(program, 0, sizeof program);
    program[0].code = BPF_ALU64 | BPF_MOV | BPF_K;
    program[1].code = BPF_JMP | BPF_EXIT;
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
    attr.insns = (unsigned long)program;
    attr.insn_cnt = 2;
    attr.license = (unsigned long)"GPL";
    begin("prog-load", "bpf");
    long fd = syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof attr);
    report(fd, "socket filter loaded and closed");
    close_if_open(fd);
}

// Without UFFD_USER_MODE_ONLY: the kind that can stall the kernel's own
// copies, which exploits use to win races.
static void probe_userfaultfd(void) {
    begin("create", "userfaultfd");
    long fd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
    report(fd, "created and closed");
    close_if_open(fd);
}

// Counting this process's own user-space CPU clock: the least privileged
// perf event there is.
static void probe_perf_event(void) {
    struct perf_event_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.size = sizeof attr;
    attr.type = PERF_TYPE_SOFTWARE;
    attr.config = PERF_COUNT_SW_CPU_CLOCK;
    attr.disabled = 1;
    attr.exclude_kernel = 1;
    attr.exclude_hv = 1;
    begin("open", "perf_event_open");
    long fd = syscall(SYS_perf_event_open, &attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
    report(fd, "self-monitoring event opened and closed");
    close_if_open(fd);
}

// A key in this process's own keyring (freed when the process exits),
// invalidated at once.
static void probe_keyring(void) {
    char description[64];
    snprintf(description, sizeof description, "vessel-probe-%d", (int)getpid());
    begin("add_key", "add_key");
    long key = syscall(SYS_add_key, "user", description, "x", 1, KEY_SPEC_PROCESS_KEYRING);
    if (!report(key, "user key added to the process keyring")) return;
    begin("keyctl", "keyctl");
    report(syscall(SYS_keyctl, KEYCTL_INVALIDATE, key), "key invalidated");
}

static pid_t ptrace_target;

// PTRACE_SEIZE does not stop the target; the tracer's exit detaches it.
static void probe_ptrace(void) {
    begin("seize", "ptrace");
    report(syscall(SYS_ptrace, 0x4206 /* PTRACE_SEIZE */, ptrace_target, 0, 0), "sibling process attached");
}

// Invalid flags and too many segments: the kernel checks CAP_SYS_BOOT first,
// so EINVAL means the call got past the permission check and loaded nothing.
static void probe_kexec_load(void) {
    begin("load", "kexec_load");
    report(syscall(SYS_kexec_load, 0UL, 4096UL, NULL, 0x8000UL), "accepted (nothing could be loaded)");
}

// An empty image: refused with ENOEXEC after the CAP_SYS_MODULE check.
static void probe_init_module(void) {
    begin("load", "init_module");
    report(syscall(SYS_init_module, NULL, 0UL, ""), "accepted (nothing could be loaded)");
}

// The Shocker escape: a file handle opens any inode of the mount, bypassing
// the container's root. The handle here names an inode number no
// filesystem hands out, so where the CAP_DAC_READ_SEARCH check passes the
// filesystem's decoder answers ESTALE and nothing is opened.
static void probe_open_by_handle_at(void) {
    struct { unsigned int bytes; int type; unsigned int inode; unsigned int generation; } handle;
    handle.bytes = 8;
    handle.type = 1;  // FILEID_INO32_GEN
    handle.inode = 0xfffffffeU;
    handle.generation = 0;
    int root = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (root < 0) {
        skip("open", "cannot open / for the mount descriptor");
        return;
    }
    begin("open", "open_by_handle_at");
    long fd = syscall(SYS_open_by_handle_at, root, &handle, O_RDONLY | O_CLOEXEC);
    report(fd, "opened a file by handle, closed without reading");
    close_if_open(fd);
    close(root);
}

// A block device of this kernel: the first in /proc/partitions, else loop0.
static dev_t first_block_device(char *name, size_t size) {
    FILE *partitions = fopen("/proc/partitions", "re");
    unsigned int major_number, minor_number;
    char line[256], device[64];
    if (partitions) {
        while (fgets(line, sizeof line, partitions)) {
            if (sscanf(line, " %u %u %*u %63s", &major_number, &minor_number, device) == 3) {
                fclose(partitions);
                snprintf(name, size, "%s %u:%u", device, major_number, minor_number);
                return makedev(major_number, minor_number);
            }
        }
        fclose(partitions);
    }
    snprintf(name, size, "loop0 7:0 (no disk in /proc/partitions)");
    return makedev(7, 0);
}

// mknod of a device of the host, then an open for reading (no read), then
// the node is removed.
static void try_device(mode_t type, dev_t device, const char *name) {
    const char *path = type == S_IFCHR ? "/dev/.vessel-probe-char" : "/dev/.vessel-probe-block";
    unlink(path);
    begin("mknod", "mknodat");
    if (!report(syscall(SYS_mknodat, AT_FDCWD, path, type | 0600, device), name)) return;
    begin("open", "openat");
    long fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    report(fd, "opened for reading, closed without reading");
    close_if_open(fd);
    unlink(path);
}

static void probe_char_device(void) { try_device(S_IFCHR, makedev(1, 11), "kmsg 1:11"); }

static void probe_block_device(void) {
    char name[128];
    dev_t device = first_block_device(name, sizeof name);
    try_device(S_IFBLK, device, name);
}

// Opens for writing and closes without writing: the open is where the
// kernel checks, and nothing changes even where it is allowed. A masked
// path (maskedPaths binds /dev/null over it) opens /dev/null instead, which
// is reported as "masked", not as allowed.
static void try_open_for_writing(const char *path) {
    begin("open-write", "openat");
    long fd = open(path, O_WRONLY | O_CLOEXEC);
    struct stat info;
    if (fd >= 0 && fstat((int)fd, &info) == 0 && S_ISCHR(info.st_mode) && info.st_rdev == makedev(1, 3)) {
        say("try %s %s %s masked %s is /dev/null", current->probe, current->step, current->syscall, path);
    } else {
        char detail[160];
        snprintf(detail, sizeof detail, "%s opened for writing, closed without writing", path);
        report(fd, detail);
    }
    close_if_open(fd);
}

static void probe_proc_sys(void) { try_open_for_writing("/proc/sys/kernel/core_pattern"); }

// Never written: a write there crashes or reboots the machine.
static void probe_sysrq(void) { try_open_for_writing("/proc/sysrq-trigger"); }

static void probe_sys(void) {
    const char *candidates[] = {"/sys/kernel/uevent_helper", "/sys/kernel/profiling", "/sys/kernel/mm/transparent_hugepage/enabled"};
    for (size_t index = 0; index < sizeof candidates / sizeof candidates[0]; index++) {
        if (access(candidates[index], F_OK) == 0) {
            try_open_for_writing(candidates[index]);
            return;
        }
    }
    skip("open-write", "none of /sys/kernel/uevent_helper, /sys/kernel/profiling, transparent_hugepage/enabled exists");
}

struct probe {
    const char *name;
    void (*run)(void);
};

static const struct probe probes[] = {
    {"userns-mount", probe_userns_mount},
    {"io_uring", probe_io_uring},
    {"bpf", probe_bpf},
    {"userfaultfd", probe_userfaultfd},
    {"perf_event_open", probe_perf_event},
    {"keyring", probe_keyring},
    {"ptrace", probe_ptrace},
    {"kexec_load", probe_kexec_load},
    {"init_module", probe_init_module},
    {"open_by_handle_at", probe_open_by_handle_at},
    {"device-char", probe_char_device},
    {"device-block", probe_block_device},
    {"proc-sys-write", probe_proc_sys},
    {"sysrq-trigger", probe_sysrq},
    {"sys-write", probe_sys},
};

static pid_t start_ptrace_target(void) {
    pid_t pid = fork();
    if (pid == 0) {
        alarm(10);
        for (;;) pause();
    }
    return pid;
}

static void run_probe(const struct probe *probe) {
    memset(current, 0, sizeof *current);
    snprintf(current->probe, sizeof current->probe, "%s", probe->name);
    pid_t child = fork();
    if (child < 0) {
        say("try %s - - skipped fork failed: %s", probe->name, strerror(errno));
        return;
    }
    if (child == 0) {
        alarm(5);
        probe->run();
        _exit(0);
    }
    int status = 0;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR) {}
    if (WIFSIGNALED(status)) {
        const char *name = sigabbrev_np(WTERMSIG(status));
        say("try %s %s %s signal=%d SIG%s", probe->name, current->step[0] ? current->step : "-",
            current->syscall[0] ? current->syscall : "-", WTERMSIG(status), name ? name : "?");
    }
}

static void print_sysctl(const char *name) {
    char path[128], value[128] = "absent";
    snprintf(path, sizeof path, "/proc/sys/%s", name);
    for (char *dot = path + strlen("/proc/sys/"); *dot; dot++)
        if (*dot == '.') *dot = '/';
    FILE *file = fopen(path, "re");
    if (file) {
        if (!fgets(value, sizeof value, file)) snprintf(value, sizeof value, "unreadable");
        value[strcspn(value, "\n")] = 0;
        fclose(file);
    }
    say("sysctl %s %s", name, value);
}

int main(void) {
    current = mmap(NULL, sizeof *current, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (current == MAP_FAILED) {
        perror("boundary: mmap");
        return 1;
    }
    // The kernel policies that decide several results, as this kernel has them.
    const char *sysctls[] = {"kernel.unprivileged_bpf_disabled", "vm.unprivileged_userfaultfd", "kernel.perf_event_paranoid",
                             "kernel.yama.ptrace_scope", "kernel.io_uring_disabled", "user.max_user_namespaces",
                             "kernel.unprivileged_userns_clone", "kernel.kexec_load_disabled", "kernel.modules_disabled"};
    for (size_t index = 0; index < sizeof sysctls / sizeof sysctls[0]; index++) print_sysctl(sysctls[index]);

    ptrace_target = start_ptrace_target();
    for (size_t index = 0; index < sizeof probes / sizeof probes[0]; index++) {
        if (probes[index].run == probe_ptrace && ptrace_target < 0) {
            say("try ptrace - - skipped could not fork a sibling to trace");
            continue;
        }
        run_probe(&probes[index]);
    }
    if (ptrace_target > 0) {
        kill(ptrace_target, SIGKILL);
        waitpid(ptrace_target, NULL, 0);
    }
    return 0;
}
