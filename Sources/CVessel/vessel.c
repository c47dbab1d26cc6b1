#define _GNU_SOURCE
#include "vessel.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <linux/sched.h>
#include <linux/mount.h>
#include <linux/nsfs.h>
#include <linux/openat2.h>
#include <linux/random.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/if_link.h>
#include <sys/personality.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <sys/prctl.h>
#include <sys/reboot.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

int vessel_errno(void) { return errno; }

static size_t put_text(char *out, size_t at, const char *text) {
    while (*text) out[at++] = *text++;
    return at;
}

static size_t put_number(char *out, size_t at, int value) {
    char digits[12];
    int count = 0;
    unsigned int rest = value < 0 ? 0u - (unsigned int)value : (unsigned int)value;
    do { digits[count++] = (char)('0' + rest % 10); rest /= 10; } while (rest > 0);
    if (value < 0) out[at++] = '-';
    while (count > 0) out[at++] = digits[--count];
    return at;
}

int vessel_step_record(char *buffer, int size, int step, int err) {
    if (size < VESSEL_STEP_RECORD_MAX) return -1;
    size_t end = put_text(buffer, 4, "{\"spawnFailed\":{\"step\":");
    end = put_number(buffer, end, step);
    end = put_text(buffer, end, ",\"errno\":");
    end = put_number(buffer, end, err);
    end = put_text(buffer, end, "}}");
    uint32_t length = (uint32_t)(end - 4);
    buffer[0] = (char)(length >> 24);
    buffer[1] = (char)(length >> 16);
    buffer[2] = (char)(length >> 8);
    buffer[3] = (char)length;
    return (int)end;
}

// Reports the failed step and errno to the parent (when there is a sync
// socket) and exits. Async-signal-safe: a stack buffer and two syscalls.
__attribute__((noreturn)) static void child_fail(int sync_fd, int step) {
    int err = errno;
    if (sync_fd >= 0) {
        char record[VESSEL_STEP_RECORD_MAX];
        int length = vessel_step_record(record, sizeof record, step, err);
        if (length > 0) (void)send(sync_fd, record, (size_t)length, MSG_NOSIGNAL);
    }
    syscall(SYS_exit_group, 127);
    __builtin_unreachable();
}

// "/" made rslave, then the binary bind-mounted on itself read-only, so a
// container cannot write to it (CVE-2019-5736).
static void protect_binary(const char *path, int sync) {
    if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) != 0) child_fail(sync, VESSEL_STEP_PROTECT_BINARY);
    if (mount(path, path, NULL, MS_BIND, NULL) != 0) child_fail(sync, VESSEL_STEP_PROTECT_BINARY);
    if (mount(NULL, path, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) != 0) child_fail(sync, VESSEL_STEP_PROTECT_BINARY);
}

// Calls `each(number, context)` for every numeric entry of the directory
// `path` (/proc/self/fd, /proc/self/task), but, with `skip_own_fd`, the
// descriptor this reads it through; -1 (errno set) when it cannot be read.
// Raw getdents64, so it is async-signal-safe.
static int for_each_number(const char *path, int skip_own_fd, void (*each)(int number, void *context), void *context) {
    int dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) return -1;
    char buffer[4096];
    long count;
    while ((count = syscall(SYS_getdents64, dir, buffer, sizeof buffer)) > 0) {
        for (long at = 0; at < count;) {
            struct { unsigned long long ino; long long off; unsigned short reclen; unsigned char type; char name[]; } *entry = (void *)(buffer + at);
            int number = 0, digits = 0;
            for (const char *c = entry->name; *c >= '0' && *c <= '9'; c++, digits++) number = number * 10 + (*c - '0');
            if (digits > 0 && entry->name[digits] == 0 && !(skip_own_fd && number == dir)) each(number, context);
            at += entry->reclen;
        }
    }
    int err = errno;
    close(dir);
    errno = err;
    return count < 0 ? -1 : 0;
}

static void close_if_cloexec(int fd, void *keep) {
    if (fd == *(int *)keep) return;
    int flags = fcntl(fd, F_GETFD);
    if (flags >= 0 && (flags & FD_CLOEXEC)) close(fd);
}

static void count_one(int number, void *count) {
    (void)number;
    (*(int *)count)++;
}

// The number of threads of this process, or -1 when /proc cannot say.
static int thread_count(void) {
    int count = 0;
    return for_each_number("/proc/self/task", 0, count_one, &count) == 0 ? count : -1;
}

// Reads `length` bytes; -1 (errno set, EPIPE at EOF) otherwise.
static int recv_exactly(int fd, unsigned char *buffer, size_t length) {
    size_t done = 0;
    while (done < length) {
        ssize_t n = recv(fd, buffer + done, length - done, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n == 0) errno = EPIPE;
        if (n <= 0) return -1;
        done += (size_t)n;
    }
    return 0;
}

// Every handler back to the default and an empty mask, as a fresh program
// starts. (execve resets handlers but not ignored signals; the VM supervisor
// and agent block signals to read them from a signalfd, which their
// children must not inherit.) The raw system call: glibc's sigaction
// refuses its own signals 32 and 33, which a caller may have left ignored.
static void reset_signals(void) {
    for (int sig = 1; sig < NSIG; sig++) {
        if (sig == SIGKILL || sig == SIGSTOP) continue;
        struct { void *handler; unsigned long flags; void *restorer; uint64_t mask; } action = { SIG_DFL, 0, NULL, 0 };
        syscall(SYS_rt_sigaction, sig, &action, NULL, sizeof action.mask);
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

static void set_death_signals(const struct vessel_spawn_args *a) {
    // Die with the runtime until set-up is done; the init clears this once
    // it reports ready, so a crashed `create` leaves no half-made container.
    if (a->sync_fd >= 0) prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    if (a->parent_death_signal > 0) prctl(PR_SET_PDEATHSIG, a->parent_death_signal, 0, 0, 0);
}

// The namespaces the child makes itself, after joining the user namespace
// given first: made by clone3 they would belong to the caller's user
// namespace, where the container's root has no power over them (runc's
// order: join the user namespace, then unshare). 0 where clone3 makes them.
static uint64_t deferred_namespaces(const struct vessel_spawn_args *a) {
    const uint64_t made = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWCGROUP;
    if (a->protect_then_join || a->join_count == 0 || a->join_types[0] != CLONE_NEWUSER) return 0;
    return a->clone_flags & made;
}

// Fork the process as a sibling (CLONE_PARENT) into the pid namespace this
// child's children go to, its pid stored in the caller's shared page; this
// child exits and the caller reaps it.
static void fork_as_sibling(const struct vessel_spawn_args *a, pid_t *shared_pid) {
    struct clone_args ca;
    memset(&ca, 0, sizeof ca);
    ca.flags = CLONE_PARENT | CLONE_PARENT_SETTID;
    ca.parent_tid = (uint64_t)(uintptr_t)shared_pid;
    long pid = syscall(SYS_clone3, &ca, sizeof ca);
    if (pid < 0) child_fail(a->sync_fd, VESSEL_STEP_SETNS);
    if (pid > 0) syscall(SYS_exit_group, 0);
    // The death signal is not inherited across a fork.
    set_death_signals(a);
}

// join_pid_in_child: enter the pid namespace, then fork into it.
static void fork_into_pid_namespace(const struct vessel_spawn_args *a, pid_t *shared_pid) {
    if (setns(a->join_pid_fd, CLONE_NEWPID) != 0) child_fail(a->sync_fd, VESSEL_STEP_SETNS);
    fork_as_sibling(a, shared_pid);
}

// Runs in the child of clone3: async-signal-safe system calls only.
static void spawn_child(const struct vessel_spawn_args *a, const sigset_t *old_mask, pid_t *shared_pid) {
    set_death_signals(a);
    const int sync = a->sync_fd;
    if (a->in_place) {
        // Before anything of the container's can see us: our exe is vessel's
        // binary, which only a non-dumpable process keeps out of reach.
        if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) child_fail(sync, VESSEL_STEP_NON_DUMPABLE);
    }
    int exe_fd = -1;
    int joined = 0;
    const uint64_t deferred = deferred_namespaces(a);
    if (deferred) {
        if (setns(a->join_fds[0], CLONE_NEWUSER) != 0) child_fail(sync, VESSEL_STEP_SETNS);
        joined = 1;
    }
    if (a->protect_then_join) {
        // A user namespace given first is joined first: a user may unshare
        // a mount namespace only inside one where they are root.
        if (a->join_count > 0 && a->join_types[0] == CLONE_NEWUSER) {
            if (setns(a->join_fds[0], CLONE_NEWUSER) != 0) child_fail(sync, VESSEL_STEP_SETNS);
            joined = 1;
        }
        // The container's mount namespace does not hold our binary: open it
        // from a read-only bind in a private copy of ours, then join.
        if (unshare(CLONE_NEWNS) != 0) child_fail(sync, VESSEL_STEP_UNSHARE_MOUNT);
        protect_binary(a->path, sync);
        exe_fd = open(a->path, O_PATH | O_CLOEXEC);
        if (exe_fd < 0) child_fail(sync, VESSEL_STEP_OPEN_BINARY);
    }
    for (int i = joined; i < a->join_count; i++) {
        // The type is checked by the kernel too: a namespace file of another
        // type than the config named must never be joined.
        if (setns(a->join_fds[i], a->join_types[i]) != 0) child_fail(sync, VESSEL_STEP_SETNS);
    }
    if (deferred) {
        if (unshare((int)(deferred & ~(uint64_t)CLONE_NEWPID)) != 0) child_fail(sync, VESSEL_STEP_UNSHARE_MOUNT);
        if (deferred & CLONE_NEWPID) {
            if (unshare(CLONE_NEWPID) != 0) child_fail(sync, VESSEL_STEP_UNSHARE_MOUNT);
            fork_as_sibling(a, shared_pid);
        }
    } else if (shared_pid != NULL) {
        fork_into_pid_namespace(a, shared_pid);
    }
    for (int i = 0; i < 3; i++) {
        int fd = a->stdio_fds[i];
        if (fd < 0) continue;
        if (fd == i) {
            int flags = fcntl(fd, F_GETFD);
            if (flags >= 0) fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC);
        } else if (dup2(fd, i) < 0) {
            child_fail(sync, VESSEL_STEP_DUP2);
        }
    }
    if (a->new_session) setsid();
    if (a->in_place) {
        // What an exec would close (the namespace fds are used by now): the
        // runtime's own descriptors, its end of the init socket above all,
        // must not live on in the container's init.
        int keep = a->keep_fd;
        if (for_each_number("/proc/self/fd", 1, close_if_cloexec, &keep) != 0) child_fail(sync, VESSEL_STEP_CLOSE_FDS);
    }
    if (sync >= 0 && a->in_place) {
        // The go-ahead is one small frame (InitCommand.goAheadFrame): read it
        // whole, so that the next message the init reads is the next one.
        unsigned char frame[VESSEL_STEP_RECORD_MAX];
        if (recv_exactly(sync, frame, 4) != 0) child_fail(sync, VESSEL_STEP_WAIT);
        uint32_t length = (uint32_t)frame[0] << 24 | (uint32_t)frame[1] << 16 | (uint32_t)frame[2] << 8 | frame[3];
        if (length > sizeof frame) { errno = EPROTO; child_fail(sync, VESSEL_STEP_WAIT); }
        if (recv_exactly(sync, frame, length) != 0) child_fail(sync, VESSEL_STEP_WAIT);
    } else if (sync >= 0) {
        // The go-ahead is the hand-off's arrival: peek, so that the exec'd
        // `vessel init` still reads the whole message.
        char byte;
        ssize_t n;
        do { n = recv(sync, &byte, 1, MSG_PEEK); } while (n < 0 && errno == EINTR);
        if (n == 0) errno = EPIPE;
        if (n != 1) child_fail(sync, VESSEL_STEP_WAIT);
    }
    for (int i = 0; i < a->open_count; i++) {
        int fd = open(a->open_paths[i], O_PATH);
        if (fd < 0 || fd == a->open_targets[i]) continue;
        if (dup2(fd, a->open_targets[i]) < 0) child_fail(sync, VESSEL_STEP_DUP2);
        close(fd);
    }
    if (a->become_root) {
        // Raw system calls: glibc's wrappers would try to signal the
        // parent's threads, which do not exist in this child.
        syscall(SYS_setgroups, 0, NULL);
        if (syscall(SYS_setresgid, 0, 0, 0) != 0) child_fail(sync, VESSEL_STEP_SETRESGID);
        if (syscall(SYS_setresuid, 0, 0, 0) != 0) child_fail(sync, VESSEL_STEP_SETRESUID);
    }
    if (a->protect_exe && !a->in_place) {
        // Open our binary through a read-only bind made in a throwaway copy
        // of this mount namespace, then come back: the container's own
        // namespace gets no mount of ours and no propagation change (an
        // rshared volume must stay a peer of the host's mount).
        int home = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
        if (home < 0) child_fail(sync, VESSEL_STEP_UNSHARE_MOUNT);
        if (unshare(CLONE_NEWNS) != 0) child_fail(sync, VESSEL_STEP_UNSHARE_MOUNT);
        protect_binary(a->path, sync);
        exe_fd = open(a->path, O_PATH | O_CLOEXEC);
        if (exe_fd < 0) child_fail(sync, VESSEL_STEP_OPEN_BINARY);
        if (setns(home, CLONE_NEWNS) != 0) child_fail(sync, VESSEL_STEP_SETNS);
        close(home);
    }
    if (a->directory != NULL && chdir(a->directory) != 0) child_fail(sync, VESSEL_STEP_CHDIR);
    (void)old_mask;
    reset_signals();
    if (a->in_place) return;
    if (exe_fd >= 0) {
        syscall(SYS_execveat, exe_fd, "", a->argv, a->envp, AT_EMPTY_PATH);
    } else {
        execve(a->path, a->argv, a->envp);
    }
    child_fail(sync, VESSEL_STEP_EXEC);
}

pid_t vessel_spawn(const struct vessel_spawn_args *a) {
    // join_pid_in_child: where the child writes the pid of the process it forks.
    pid_t *shared_pid = NULL;
    const uint64_t deferred = deferred_namespaces(a);
    if ((a->join_pid_fd >= 0 && a->join_pid_in_child) || (deferred & CLONE_NEWPID)) {
        shared_pid = mmap(NULL, sizeof *shared_pid, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (shared_pid == MAP_FAILED) return -errno;
        *shared_pid = 0;
    }
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    // setns(CLONE_NEWPID) moves this thread's future children for good:
    // keep where they went before and go back after the clone, or every
    // later child of a long-lived caller (the guest agent) would be born in
    // the container's pid namespace.
    int own_pid_ns = -1;
    if (a->join_pid_fd >= 0 && shared_pid == NULL) {
        own_pid_ns = open("/proc/thread-self/ns/pid_for_children", O_RDONLY | O_CLOEXEC);
        if (own_pid_ns < 0 || setns(a->join_pid_fd, CLONE_NEWPID) != 0) {
            int err = errno;
            if (own_pid_ns >= 0) close(own_pid_ns);
            pthread_sigmask(SIG_SETMASK, &old, NULL);
            return -err;
        }
    }
    // Going on in the child is safe only if no other thread could hold a
    // lock (malloc's, the Swift runtime's) at the moment of the clone. With
    // every signal blocked and one thread, nothing else runs in this process
    // until the clone.
    if (a->in_place && thread_count() != 1) {
        if (own_pid_ns >= 0) {
            setns(own_pid_ns, CLONE_NEWPID);
            close(own_pid_ns);
        }
        if (shared_pid != NULL) munmap(shared_pid, sizeof *shared_pid);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        return -EDEADLK;
    }
    struct clone_args ca;
    memset(&ca, 0, sizeof ca);
    ca.flags = a->clone_flags & ~deferred;
    ca.exit_signal = SIGCHLD;
    if (a->into_cgroup) {
        ca.flags |= CLONE_INTO_CGROUP;
        ca.cgroup = (uint64_t)a->cgroup_fd;
    }
    long pid = syscall(SYS_clone3, &ca, sizeof ca);
    // A seccomp profile may answer clone3 with ENOSYS (Docker's does, so
    // that glibc falls back): hooks spawned after the filter use clone.
    if (pid < 0 && errno == ENOSYS && !a->into_cgroup) {
        pid = syscall(SYS_clone, (unsigned long)((a->clone_flags & ~deferred) | SIGCHLD), NULL, NULL, NULL, 0);
    }
    if (pid == 0) {
        spawn_child(a, &old, shared_pid);
        // in_place: the caller goes on in the child, which has no use for the page.
        if (shared_pid != NULL) munmap(shared_pid, sizeof *shared_pid);
        return 0;
    }
    int err = errno;
    if (own_pid_ns >= 0) {
        // Allowed: it is our own pid namespace or one below it.
        setns(own_pid_ns, CLONE_NEWPID);
        close(own_pid_ns);
    }
    if (shared_pid != NULL && pid > 0) {
        // The child in between exits at once; a failure it had is on sync_fd.
        int status = 0;
        while (waitpid((pid_t)pid, &status, 0) < 0 && errno == EINTR) {}
        pid_t forked = *shared_pid;
        pid = WIFEXITED(status) && WEXITSTATUS(status) == 0 && forked > 0 ? forked : -1;
        err = ECHILD;
    }
    if (shared_pid != NULL) munmap(shared_pid, sizeof *shared_pid);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return pid < 0 ? -err : (pid_t)pid;
}

int vessel_pivot_root(const char *new_root, const char *put_old) {
    return (int)syscall(SYS_pivot_root, new_root, put_old);
}
int vessel_set_no_new_privs(void) { return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); }
int vessel_set_dumpable(int on) { return prctl(PR_SET_DUMPABLE, on, 0, 0, 0); }
int vessel_set_pdeathsig(int sig) { return prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0); }
int vessel_set_child_subreaper(void) { return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); }
int vessel_capbset_drop(int cap) { return prctl(PR_CAPBSET_DROP, cap, 0, 0, 0); }
int vessel_ambient_raise(int cap) { return prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0); }
int vessel_ambient_clear_all(void) { return prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); }
int vessel_set_keepcaps(int on) { return prctl(PR_SET_KEEPCAPS, on, 0, 0, 0); }
int vessel_set_name(const char *name) { return prctl(PR_SET_NAME, name, 0, 0, 0); }

int vessel_last_cap(void) {
    // Read once per process (create asked five times): the kernel's value,
    // the same in every namespace, and inherited by a child cloned in place.
    static int known = -1;
    int cached = __atomic_load_n(&known, __ATOMIC_RELAXED);
    if (cached >= 0) return cached;
    int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return CAP_LAST_CAP;
    char buf[16] = {0};
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return CAP_LAST_CAP;
    int value = 0;
    for (ssize_t i = 0; i < n && buf[i] >= '0' && buf[i] <= '9'; i++) value = value * 10 + (buf[i] - '0');
    __atomic_store_n(&known, value, __ATOMIC_RELAXED);
    return value;
}

int vessel_capset(uint64_t effective, uint64_t permitted, uint64_t inheritable) {
    struct __user_cap_header_struct header = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
    struct __user_cap_data_struct data[2];
    data[0].effective = (uint32_t)effective;
    data[1].effective = (uint32_t)(effective >> 32);
    data[0].permitted = (uint32_t)permitted;
    data[1].permitted = (uint32_t)(permitted >> 32);
    data[0].inheritable = (uint32_t)inheritable;
    data[1].inheritable = (uint32_t)(inheritable >> 32);
    return (int)syscall(SYS_capset, &header, data);
}

int vessel_set_ctty(int fd) { return ioctl(fd, TIOCSCTTY, 0); }

int vessel_set_winsize(int fd, unsigned short rows, unsigned short cols) {
    struct winsize ws = { .ws_row = rows, .ws_col = cols };
    return ioctl(fd, TIOCSWINSZ, &ws);
}

int vessel_pty_unlock_and_number(int master_fd) {
    int unlock = 0, number = -1;
    if (ioctl(master_fd, TIOCSPTLCK, &unlock) != 0) return -1;
    if (ioctl(master_fd, TIOCGPTN, &number) != 0) return -1;
    return number;
}

int vessel_send_fd(int sock, int fd, const char *name) {
    char control[CMSG_SPACE(sizeof(int))];
    memset(control, 0, sizeof control);
    struct iovec iov = { .iov_base = (void *)name, .iov_len = strlen(name) };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control };
    struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
    return sendmsg(sock, &msg, MSG_NOSIGNAL) < 0 ? -1 : 0;
}

int vessel_recv_fd(int sock) {
    char control[CMSG_SPACE(sizeof(int))];
    char name[4096];
    struct iovec iov = { .iov_base = name, .iov_len = sizeof name };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control };
    if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) < 0) return -1;
    struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
    if (cmsg == NULL || cmsg->cmsg_type != SCM_RIGHTS) { errno = EBADMSG; return -1; }
    int fd;
    memcpy(&fd, CMSG_DATA(cmsg), sizeof(int));
    return fd;
}

int vessel_pidfd_open(pid_t pid) { return (int)syscall(SYS_pidfd_open, pid, 0); }
int vessel_pidfd_send_signal(int pidfd, int sig) { return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0); }

int vessel_setresuid(uid_t uid) { return setresuid(uid, uid, uid); }
int vessel_setresgid(gid_t gid) { return setresgid(gid, gid, gid); }

int vessel_is_cgroup2(const char *path) {
    struct statfs fs;
    return statfs(path, &fs) == 0 && fs.f_type == 0x63677270;
}

dev_t vessel_makedev(unsigned int major, unsigned int minor) { return makedev(major, minor); }

int vessel_unshare_cgroup(void) { return unshare(CLONE_NEWCGROUP); }
int vessel_unshare(int flags) { return unshare(flags); }
int vessel_pipe(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

// KEYCTL_JOIN_SESSION_KEYRING (1): a new session keyring named `name`.
int vessel_join_session_keyring(const char *name) { return (int)syscall(SYS_keyctl, 1, name, 0, 0, 0); }
int vessel_setns(int fd, int nstype) { return setns(fd, nstype); }

int vessel_namespace_type(int fd) {
    int type = ioctl(fd, NS_GET_NSTYPE);
    return type < 0 ? -errno : type;
}

int vessel_namespace_owner(int fd) {
    int owner = ioctl(fd, NS_GET_USERNS);
    return owner < 0 ? -errno : owner;
}

int vessel_openat2(int dirfd, const char *path, int flags, uint64_t resolve) {
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = (uint64_t)(flags | O_CLOEXEC);
    if (resolve & VESSEL_RESOLVE_NO_XDEV) how.resolve |= RESOLVE_NO_XDEV;
    if (resolve & VESSEL_RESOLVE_NO_MAGICLINKS) how.resolve |= RESOLVE_NO_MAGICLINKS;
    if (resolve & VESSEL_RESOLVE_NO_SYMLINKS) how.resolve |= RESOLVE_NO_SYMLINKS;
    if (resolve & VESSEL_RESOLVE_BENEATH) how.resolve |= RESOLVE_BENEATH;
    if (resolve & VESSEL_RESOLVE_IN_ROOT) how.resolve |= RESOLVE_IN_ROOT;
    int fd;
    do { fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how); } while (fd < 0 && errno == EAGAIN);
    return fd < 0 ? -errno : fd;
}

long vessel_fs_type(int fd) {
    struct statfs fs;
    return fstatfs(fd, &fs) == 0 ? (long)fs.f_type : -errno;
}

static int set_mount_attributes_userns(int fd, unsigned int flags, uint64_t set, uint64_t clear, int userns_fd) {
    if (set == 0 && clear == 0) return 0;
    struct mount_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.attr_set = set;
    attr.attr_clr = clear;
    if (set & MOUNT_ATTR_IDMAP) attr.userns_fd = (uint64_t)userns_fd;
    return syscall(SYS_mount_setattr, fd, "", flags | AT_EMPTY_PATH, &attr, sizeof attr) == 0 ? 0 : -errno;
}

static int set_mount_attributes(int fd, unsigned int flags, uint64_t set, uint64_t clear) {
    return set_mount_attributes_userns(fd, flags, set, clear, -1);
}

int vessel_bind_fd(int source_fd, int target_fd, int recursive, const struct vessel_mount_attributes *attributes) {
    unsigned int flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0);
    int tree = (int)syscall(SYS_open_tree, source_fd, "", flags);
    if (tree < 0) return -errno;
    int rc = set_mount_attributes_userns(tree, AT_RECURSIVE, attributes->tree_set, attributes->tree_clear, attributes->userns_fd);
    if (rc == 0) rc = set_mount_attributes_userns(tree, 0, attributes->top_set, attributes->top_clear, attributes->userns_fd);
    if (rc == 0 && syscall(SYS_move_mount, tree, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) != 0) rc = -errno;
    close(tree);
    return rc;
}

int vessel_mount_tmpfs_fd(int target_fd, int readonly) {
    int fs = (int)syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC);
    if (fs < 0) return -errno;
    int rc = -1, mnt = -1;
    // As runc's masks: source "tmpfs", and a read-only superblock too.
    if (syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "source", "tmpfs", 0) != 0) goto out;
    if (readonly && syscall(SYS_fsconfig, fs, FSCONFIG_SET_FLAG, "ro", NULL, 0) != 0) goto out;
    if (syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) != 0) goto out;
    mnt = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, readonly ? MOUNT_ATTR_RDONLY : 0);
    if (mnt < 0) goto out;
    rc = (int)syscall(SYS_move_mount, mnt, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
out:;
    int err = errno;
    if (mnt >= 0) close(mnt);
    close(fs);
    return rc < 0 ? -err : 0;
}

int vessel_mount_setattr(int fd, int recursive, uint64_t set, uint64_t clear) {
    return set_mount_attributes(fd, recursive ? AT_RECURSIVE : 0, set, clear);
}

struct vessel_sched_attr {
    uint32_t size, sched_policy;
    uint64_t sched_flags;
    int32_t sched_nice;
    uint32_t sched_priority;
    uint64_t sched_runtime, sched_deadline, sched_period;
};

int vessel_sched_setattr(uint32_t policy, uint64_t flags, int32_t nice, uint32_t priority,
                         uint64_t runtime, uint64_t deadline, uint64_t period) {
    struct vessel_sched_attr attr = {
        .size = sizeof attr, .sched_policy = policy, .sched_flags = flags, .sched_nice = nice,
        .sched_priority = priority, .sched_runtime = runtime, .sched_deadline = deadline, .sched_period = period,
    };
    return syscall(SYS_sched_setattr, 0, &attr, 0) == 0 ? 0 : -errno;
}

int vessel_ioprio_set(int ioclass, int priority) {
    // IOPRIO_WHO_PROCESS (1), this process; the value is class << 13 | data.
    return syscall(SYS_ioprio_set, 1, 0, (ioclass << 13) | priority) == 0 ? 0 : -errno;
}

int vessel_set_affinity(const int *cpus, int count) {
    cpu_set_t set;
    CPU_ZERO(&set);
    for (int i = 0; i < count; i++) {
        if (cpus[i] < 0 || cpus[i] >= CPU_SETSIZE) return -EINVAL;
        CPU_SET(cpus[i], &set);
    }
    return sched_setaffinity(0, sizeof set, &set) == 0 ? 0 : -errno;
}

int vessel_personality(unsigned long persona) {
    return personality(persona) == -1 ? -errno : 0;
}

int vessel_move_link(const char *name, const char *new_name, int netns_fd) {
    unsigned int index = if_nametoindex(name);
    if (index == 0) return -errno;
    int sock = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (sock < 0) return -errno;
    struct {
        struct nlmsghdr header;
        struct ifinfomsg info;
        char attributes[128];
    } request;
    memset(&request, 0, sizeof request);
    request.header.nlmsg_type = RTM_NEWLINK;
    request.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
    request.header.nlmsg_seq = 1;
    request.info.ifi_family = AF_UNSPEC;
    request.info.ifi_index = (int)index;
    size_t length = NLMSG_LENGTH(sizeof request.info);
    struct rtattr *attribute = (struct rtattr *)((char *)&request + NLMSG_ALIGN(length));
    attribute->rta_type = IFLA_NET_NS_FD;
    attribute->rta_len = RTA_LENGTH(sizeof(int));
    memcpy(RTA_DATA(attribute), &netns_fd, sizeof(int));
    length = NLMSG_ALIGN(length) + RTA_ALIGN(attribute->rta_len);
    size_t name_length = strlen(new_name) + 1;
    if (name_length > IFNAMSIZ) { close(sock); return -ENAMETOOLONG; }
    attribute = (struct rtattr *)((char *)&request + length);
    attribute->rta_type = IFLA_IFNAME;
    attribute->rta_len = RTA_LENGTH(name_length);
    memcpy(RTA_DATA(attribute), new_name, name_length);
    length += RTA_ALIGN(attribute->rta_len);
    request.header.nlmsg_len = (uint32_t)length;
    int rc = 0;
    if (send(sock, &request, length, 0) < 0) {
        rc = -errno;
    } else {
        char answer[4096];
        ssize_t count = recv(sock, answer, sizeof answer, 0);
        if (count < 0) {
            rc = -errno;
        } else {
            struct nlmsghdr *reply = (struct nlmsghdr *)answer;
            if (reply->nlmsg_type == NLMSG_ERROR) rc = ((struct nlmsgerr *)NLMSG_DATA(reply))->error;
        }
    }
    close(sock);
    return rc;
}

int vessel_finit_module(int fd) { return (int)syscall(SYS_finit_module, fd, "", 0); }

int vessel_power_off(void) {
    sync();
    return reboot(RB_POWER_OFF);
}

int vessel_reseed_random(const unsigned char *bytes, int length) {
    // struct rand_pool_info: entropy_count (bits), buf_size (bytes), buf.
    int pool[2 + 512 / sizeof(int)];
    if (length < 0 || length > 512) return -EINVAL;
    pool[0] = length * 8;
    pool[1] = length;
    memcpy(&pool[2], bytes, (size_t)length);
    int fd = open("/dev/urandom", O_WRONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    int rc = ioctl(fd, RNDADDENTROPY, pool);
    if (rc == 0) rc = ioctl(fd, RNDRESEEDCRNG);
    int err = rc < 0 ? -errno : 0;
    close(fd);
    return err;
}

int vessel_signalfd(const int *signals, int count) {
    sigset_t set;
    sigemptyset(&set);
    for (int i = 0; i < count; i++) sigaddset(&set, signals[i]);
    if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0) return -1;
    return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

int vessel_signalfd_next(int fd) {
    struct signalfd_siginfo info;
    ssize_t n = read(fd, &info, sizeof info);
    return n == (ssize_t)sizeof info ? (int)info.ssi_signo : -1;
}

static void set_ipv4(struct sockaddr *target, const char *text) {
    struct sockaddr_in *in = (struct sockaddr_in *)target;
    memset(in, 0, sizeof *in);
    in->sin_family = AF_INET;
    inet_pton(AF_INET, text, &in->sin_addr);
}

int vessel_configure_interface(const char *name, const char *address, int prefix, const char *gateway) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    struct ifreq request;
    memset(&request, 0, sizeof request);
    strncpy(request.ifr_name, name, IFNAMSIZ - 1);
    int rc = 0;
    if (address) {
        set_ipv4(&request.ifr_addr, address);
        if (ioctl(fd, SIOCSIFADDR, &request) != 0) { rc = -errno; goto done; }
        struct sockaddr_in *mask = (struct sockaddr_in *)&request.ifr_netmask;
        memset(mask, 0, sizeof *mask);
        mask->sin_family = AF_INET;
        mask->sin_addr.s_addr = prefix == 0 ? 0 : htonl(0xffffffffu << (32 - prefix));
        if (ioctl(fd, SIOCSIFNETMASK, &request) != 0) { rc = -errno; goto done; }
    }
    if (ioctl(fd, SIOCGIFFLAGS, &request) != 0) { rc = -errno; goto done; }
    request.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (ioctl(fd, SIOCSIFFLAGS, &request) != 0) { rc = -errno; goto done; }
    if (gateway) {
        struct rtentry route;
        memset(&route, 0, sizeof route);
        set_ipv4(&route.rt_dst, "0.0.0.0");
        set_ipv4(&route.rt_genmask, "0.0.0.0");
        set_ipv4(&route.rt_gateway, gateway);
        route.rt_flags = RTF_UP | RTF_GATEWAY;
        route.rt_dev = (char *)name;
        if (ioctl(fd, SIOCADDRT, &route) != 0) { rc = -errno; goto done; }
    }
done:
    close(fd);
    return rc;
}

static int bpf_call(int cmd, union bpf_attr *attr) {
    return (int)syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

int vessel_bpf_load_device_program(const void *insns, uint32_t count, char *log, uint32_t log_size) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    attr.insns = (uint64_t)(uintptr_t)insns;
    attr.insn_cnt = count;
    attr.license = (uint64_t)(uintptr_t)"Apache";
    if (log != NULL && log_size > 0) {
        log[0] = 0;
        attr.log_level = 1;
        attr.log_buf = (uint64_t)(uintptr_t)log;
        attr.log_size = log_size;
    }
    return bpf_call(BPF_PROG_LOAD, &attr);
}

static int device_attach_call(int cmd, int prog_fd, int cgroup_fd, uint32_t flags) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.target_fd = (uint32_t)cgroup_fd;
    attr.attach_bpf_fd = (uint32_t)prog_fd;
    attr.attach_type = BPF_CGROUP_DEVICE;
    attr.attach_flags = flags;
    return bpf_call(cmd, &attr);
}

int vessel_bpf_attach_device_program(int prog_fd, int cgroup_fd) {
    return device_attach_call(BPF_PROG_ATTACH, prog_fd, cgroup_fd, BPF_F_ALLOW_MULTI);
}

int vessel_bpf_detach_device_program(int prog_fd, int cgroup_fd) {
    return device_attach_call(BPF_PROG_DETACH, prog_fd, cgroup_fd, 0);
}

int vessel_bpf_query_device_programs(int cgroup_fd, uint32_t *ids, uint32_t *count) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.query.target_fd = (uint32_t)cgroup_fd;
    attr.query.attach_type = BPF_CGROUP_DEVICE;
    attr.query.prog_ids = (uint64_t)(uintptr_t)ids;
    attr.query.prog_cnt = *count;
    int rc = bpf_call(BPF_PROG_QUERY, &attr);
    *count = attr.query.prog_cnt;
    return rc;
}

int vessel_bpf_program_fd(uint32_t id) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.prog_id = id;
    return bpf_call(BPF_PROG_GET_FD_BY_ID, &attr);
}

// BPF_OBJ_GET_INFO_BY_FD into `info` (whose buffers the caller set, if any).
static int program_info(int prog_fd, struct bpf_prog_info *info) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.info.bpf_fd = (uint32_t)prog_fd;
    attr.info.info_len = sizeof(*info);
    attr.info.info = (uint64_t)(uintptr_t)info;
    return bpf_call(BPF_OBJ_GET_INFO_BY_FD, &attr);
}

int vessel_bpf_program_id(int prog_fd, uint32_t *id) {
    struct bpf_prog_info info;
    memset(&info, 0, sizeof(info));
    int rc = program_info(prog_fd, &info);
    if (rc == 0) *id = info.id;
    return rc;
}

int vessel_bpf_device_program_is(int prog_fd, const void *insns, uint32_t count) {
    size_t size = (size_t)count * sizeof(struct bpf_insn);
    void *xlated = calloc(1, size ? size : 1);
    if (xlated == NULL) return -1;
    struct bpf_prog_info info;
    memset(&info, 0, sizeof(info));
    info.xlated_prog_len = (uint32_t)size;
    info.xlated_prog_insns = (uint64_t)(uintptr_t)xlated;
    int rc = program_info(prog_fd, &info);
    // Without the right to see raw instructions the kernel leaves the
    // buffer as it was (zero) and the pointer 0: never a match.
    int same = rc == 0 && info.type == BPF_PROG_TYPE_CGROUP_DEVICE && info.xlated_prog_len == size
        && info.xlated_prog_insns != 0 && memcmp(xlated, insns, size) == 0;
    free(xlated);
    return rc == 0 ? same : -1;
}

void vessel_set_title(char **argv, int argc, const char *title, int length) {
    if (argc < 1 || argv[0] == NULL) return;
    char *start = argv[0];
    char *end = argv[argc - 1] + strlen(argv[argc - 1]) + 1;
    // The area is contiguous only as the kernel laid it out; give up otherwise.
    for (int i = 1; i < argc; i++) {
        if (argv[i] != argv[i - 1] + strlen(argv[i - 1]) + 1) return;
    }
    size_t room = (size_t)(end - start);
    size_t count = (size_t)length < room ? (size_t)length : room - 1;
    memcpy(start, title, count);
    memset(start + count, 0, room - count);
}
