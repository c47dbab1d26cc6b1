// Thin C shim for the system calls Swift cannot make cleanly. No policy here:
// every decision is taken in Swift and passed in.
#ifndef VESSEL_SHIM_H
#define VESSEL_SHIM_H

#include <stdint.h>
#include <sys/types.h>
#include <seccomp.h>
#include <sys/capability.h>

#define VESSEL_MAX_JOIN 8

// What vessel_spawn does, in order, in the child (only async-signal-safe
// system calls run there; the parent may be a threaded Swift process):
//   1. setns() into each join_fds[i] (user namespace first, as given),
//   2. dup the stdio fds onto 0,1,2,
//   3. if sync_fd >= 0, block until the parent's hand-off arrives on it
//      (peeked, not read: the exec'd program reads it),
//   4. if protect_exe, open the executable through a read-only bind made in
//      a throwaway copy of the mount namespace, so a container cannot write
//      to it through /proc/<pid>/exe (CVE-2019-5736),
//   5. execve(path, argv, envp) (execveat of that fd when protected).
// A step that fails is reported on sync_fd (when there is one) as a
// VESSEL_STEP_* and errno record (vessel_step_record), then the child exits
// with status 127.
// With in_place, the child does not exec: it makes itself non-dumpable (so
// no process in the container can open its /proc/<pid>/exe, which is still
// vessel's binary), closes its close-on-exec descriptors but keep_fd as an
// exec would, does steps 1-3 (reading the go-ahead frame whole rather than
// peeking), become_root and directory, resets its signal handlers and mask,
// and returns 0 from vessel_spawn, as fork does, to go on with what
// the caller already has in memory. Only a process with one thread may do
// that: the count of /proc/self/task is taken just before the clone, and
// with more than one (or none readable) vessel_spawn returns -EDEADLK
// without cloning, so the caller re-executes vessel instead.
// clone_flags are namespace flags for clone3; join_pid_fd (or -1) is a pid
// namespace joined by the calling thread before the clone, since a process
// can only enter a pid namespace through its children. With
// join_pid_in_child the child joins it instead, after the other joins (a
// user may enter it only from inside the container's user namespace), and
// forks the process with CLONE_PARENT: the pid returned is that process's,
// a child of the caller, and the child in between has exited.
struct vessel_spawn_args {
    uint64_t clone_flags;
    int join_fds[VESSEL_MAX_JOIN];
    int join_types[VESSEL_MAX_JOIN]; // CLONE_NEW* of each join_fds[i]: setns checks it
    int join_count;
    int join_pid_fd;
    int join_pid_in_child;
    int stdio_fds[3];        // -1: inherit
    int sync_fd;             // -1: none
    int new_session;         // setsid() in the child
    int protect_exe;
    int become_root;         // after sync: setresuid/gid(0) in a new user namespace
    int protect_then_join;   // for exec: protect the executable in a private mount
                             // namespace first (after joining a user namespace
                             // given first), then join, then execveat it
    int parent_death_signal; // 0, or a signal the child gets when its parent dies
    int into_cgroup;         // clone3 with CLONE_INTO_CGROUP into cgroup_fd (a cgroup v2
    int cgroup_fd;           // directory): no migration, which waits for an RCU grace period
    const char *directory;   // NULL: the caller's working directory
    int in_place;            // return 0 in the child instead of exec'ing path (see above)
    int keep_fd;             // with in_place: a close-on-exec fd the child keeps (-1: none)
    // Before become_root, while still the caller's uid: open_paths[i] opened
    // O_PATH onto fd open_targets[i] (one the caller reserved and the child
    // inherited, not close-on-exec). One that does not open keeps the
    // reserved fd as it was (not O_PATH), which tells the init to look again.
    char *const *open_paths;
    const int *open_targets;
    int open_count;
    const char *path;
    char *const *argv;
    char *const *envp;
};

// Returns the child's pid (0 in an in_place child), or -errno.
pid_t vessel_spawn(const struct vessel_spawn_args *args);

// The steps of vessel_spawn's child, as its failure record names them
// (Swift's SpawnStep has the same numbers).
#define VESSEL_STEP_UNSHARE_MOUNT 1  // private mount namespace for the binary
#define VESSEL_STEP_PROTECT_BINARY 2 // rslave "/", read-only self-bind
#define VESSEL_STEP_OPEN_BINARY 3
#define VESSEL_STEP_SETNS 4
#define VESSEL_STEP_DUP2 5
#define VESSEL_STEP_WAIT 6           // the hand-off never came
#define VESSEL_STEP_SETRESGID 7
#define VESSEL_STEP_SETRESUID 8
#define VESSEL_STEP_EXEC 9
#define VESSEL_STEP_CHDIR 10
#define VESSEL_STEP_NON_DUMPABLE 11   // in_place: PR_SET_DUMPABLE 0
#define VESSEL_STEP_CLOSE_FDS 12      // in_place: close the close-on-exec fds
#define VESSEL_STEP_RECORD_MAX 64
// Writes the failure record into buffer (at least VESSEL_STEP_RECORD_MAX
// bytes): one frame of vessel's message layer, a 4-byte big-endian length
// and the JSON {"spawnFailed":{"step":S,"errno":E}}, built without malloc or
// printf. Returns its length, or -1 when the buffer is too small.
int vessel_step_record(char *buffer, int size, int step, int err);

// The sealed exec trampoline: a process that entered a container in place
// (without re-executing vessel) runs the container's program through it, so
// its last execve does not start from vessel's binary (CVE-2019-5736; see
// exec_trampoline.c). vessel_exec_trampoline returns a sealed (no write,
// grow, shrink), close-on-exec memfd holding it, or -errno (-ENOSYS where
// there is no trampoline for this architecture). vessel_exec_through
// execs `path` with `argv` and `envp` through it; it returns -errno only when
// the trampoline itself could not be executed. Where `path` cannot be
// executed, the trampoline writes `exec <path>: <reason>` to stderr and
// exits 1, as ContainerInit does after a failed execve.
int vessel_exec_trampoline(void);
int vessel_exec_through(int trampoline_fd, const char *path, char *const argv[], char *const envp[]);
// Rewrites the process's argument area (what /proc/<pid>/cmdline and ps
// show) to `title`, `length` bytes with NULs between words, zero-filled;
// cut short where the area is smaller.
void vessel_set_title(char **argv, int argc, const char *title, int length);

int vessel_pivot_root(const char *new_root, const char *put_old);
int vessel_set_no_new_privs(void);
int vessel_set_dumpable(int on);
int vessel_set_pdeathsig(int sig);
int vessel_set_child_subreaper(void);
int vessel_capbset_drop(int cap);
int vessel_ambient_raise(int cap);
int vessel_ambient_clear_all(void);
int vessel_set_keepcaps(int on);
/* The calling thread's name (comm, 15 bytes at most), as ps shows it. */
int vessel_set_name(const char *name);
int vessel_last_cap(void);
int vessel_set_ctty(int fd);
int vessel_set_winsize(int fd, unsigned short rows, unsigned short cols);
int vessel_pty_unlock_and_number(int master_fd);
int vessel_send_fd(int sock, int fd, const char *name);
int vessel_recv_fd(int sock);
int vessel_pidfd_open(pid_t pid);
int vessel_pidfd_send_signal(int pidfd, int sig);
int vessel_capset(uint64_t effective, uint64_t permitted, uint64_t inheritable);
int vessel_errno(void);
int vessel_setns(int fd, int nstype);
int vessel_join_session_keyring(const char *name);
int vessel_unshare_cgroup(void);
int vessel_unshare(int flags);
int vessel_pipe(int fds[2]);
int vessel_setresuid(uid_t uid);
int vessel_setresgid(gid_t gid);
int vessel_is_cgroup2(const char *path);
dev_t vessel_makedev(unsigned int major, unsigned int minor);
// The CLONE_NEW* type of a namespace file (NS_GET_NSTYPE), or -errno.
int vessel_namespace_type(int fd);
// The user namespace that owns a namespace (NS_GET_USERNS), as a new
// close-on-exec fd, or -errno.
int vessel_namespace_owner(int fd);
// openat2(2): `resolve` is a mask of RESOLVE_* flags. Returns an fd or -errno.
int vessel_openat2(int dirfd, const char *path, int flags, uint64_t resolve);
#define VESSEL_RESOLVE_NO_XDEV 0x01
#define VESSEL_RESOLVE_NO_MAGICLINKS 0x02
#define VESSEL_RESOLVE_NO_SYMLINKS 0x04
#define VESSEL_RESOLVE_BENEATH 0x08
#define VESSEL_RESOLVE_IN_ROOT 0x10
// The filesystem magic of an open fd (fstatfs f_type), or -errno.
long vessel_fs_type(int fd);
// Mounts by fd with the new mount API, so no path the container controls
// is resolved between the check and the mount: a clone of the mount at
// source_fd (recursive or not) onto target_fd; a fresh tmpfs onto target_fd.
// The clone gets `top_*` on its top mount and `tree_*` on every mount of
// it (mount_setattr MOUNT_ATTR_* bits) before it is attached.
struct vessel_mount_attributes {
    uint64_t top_set, top_clear, tree_set, tree_clear;
    int userns_fd; // with MOUNT_ATTR_IDMAP in top_set or tree_set: the id mapping
};
int vessel_bind_fd(int source_fd, int target_fd, int recursive, const struct vessel_mount_attributes *attributes);
int vessel_mount_tmpfs_fd(int target_fd, int readonly);
// mount_setattr(2) on the mount at fd: attributes set and cleared
// (MOUNT_ATTR_*), over the whole subtree when `recursive`. Returns -errno.
int vessel_mount_setattr(int fd, int recursive, uint64_t set, uint64_t clear);
// runtime-spec 1.2 process attributes; each returns 0 or -errno.
int vessel_sched_setattr(uint32_t policy, uint64_t flags, int32_t nice, uint32_t priority,
                         uint64_t runtime, uint64_t deadline, uint64_t period);
int vessel_ioprio_set(int ioclass, int priority);
int vessel_set_affinity(const int *cpus, int count);
int vessel_personality(unsigned long persona);
// Moves the interface `name` into the network namespace `netns_fd`, renamed
// to `new_name` (rtnetlink RTM_NEWLINK). Returns 0 or -errno.
int vessel_move_link(const char *name, const char *new_name, int netns_fd);
// The guest agent (PID 1 in the microVM): load a kernel module from an open
// file, and power the machine off.
int vessel_finit_module(int fd);
// A non-blocking, close-on-exec signalfd for the given (already blocked)
// signals, and the number of the next pending one (-1 when none).
int vessel_signalfd(const int *signals, int count);
int vessel_signalfd_next(int fd);
int vessel_power_off(void);
// The guest agent before it runs anything: credit `length` bytes (at most
// 512) to the kernel's input pool (RNDADDENTROPY) and reseed the CRNG from
// it (RNDRESEEDCRNG), so clones of one saved VM stop sharing their random
// state. Returns 0 or -errno.
int vessel_reseed_random(const unsigned char *bytes, int length);
// Brings an interface up with an IPv4 address and prefix length; with a
// gateway (non-NULL), adds the default route through it. Returns -errno.
int vessel_configure_interface(const char *name, const char *address, int prefix, const char *gateway);

// The cgroup v2 device controller: BPF_PROG_TYPE_CGROUP_DEVICE programs
// attached to a cgroup directory fd as BPF_CGROUP_DEVICE. Raw bpf(2); each
// returns -1 with errno set on failure. RLIMIT_MEMLOCK is left alone: since
// Linux 5.11 BPF memory is charged to the memory cgroup.
// Loads `count` instructions (struct bpf_insn); with a log buffer (non-NULL),
// the verifier writes its log there. Returns the program fd (close-on-exec).
int vessel_bpf_load_device_program(const void *insns, uint32_t count, char *log, uint32_t log_size);
// Attaches with BPF_F_ALLOW_MULTI, next to any program already there.
int vessel_bpf_attach_device_program(int prog_fd, int cgroup_fd);
int vessel_bpf_detach_device_program(int prog_fd, int cgroup_fd);
// The ids of the device programs attached to the cgroup itself (not its
// ancestors): *count is the room in ids on entry, the number found on
// return (more than the room with errno ENOSPC).
int vessel_bpf_query_device_programs(int cgroup_fd, uint32_t *ids, uint32_t *count);
int vessel_bpf_program_fd(uint32_t id);
int vessel_bpf_program_id(int prog_fd, uint32_t *id);
// 1 if the program is a device program whose instructions, as the kernel
// keeps them (xlated), are exactly `count` instructions at `insns`; 0 if
// not, or if the kernel does not show them; -1 with errno on failure.
int vessel_bpf_device_program_is(int prog_fd, const void *insns, uint32_t count);

// VM networking (netns.c). A socket made in the network namespace netns_fd
// (close-on-exec), by a short-lived thread that joins it, so the caller's
// own threads stay where they are. Returns the fd or -errno.
int vessel_netns_socket(int netns_fd, int domain, int type, int protocol);
// A tap device in the caller's network namespace (IFF_TAP | IFF_NO_PI, and
// IFF_VNET_HDR when vnet_header): the fd, close-on-exec, or -errno. It is
// not persistent: it goes when the last fd to it closes. actual_name
// (IFNAMSIZ bytes, or NULL) receives the name the kernel gave it.
int vessel_tap_open(const char *name, int vnet_header, char *actual_name);

#endif
