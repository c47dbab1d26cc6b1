#define _GNU_SOURCE
#include "vessel.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

// The sealed exec trampoline (see vessel.h): a static ELF of one page that
// does execve(argv[1], &argv[2], envp) and, if that fails, writes one line to
// stderr and exits 127. Written here byte by byte (x86-64 only) because it
// must be a file of its own, not vessel: a process that enters a container
// without re-executing vessel still has vessel's binary as /proc/self/exe,
// and its last execve goes through this instead, so a program that names
// /proc/self/exe (directly, as a #! interpreter or as its ELF interpreter)
// reaches the sealed trampoline, never the host's vessel binary
// (CVE-2019-5736).

#if defined(__x86_64__)

#define TRAMPOLINE_BASE 0x400000u
static const char trampoline_message[] = "vessel: cannot execute the container's program\n";

// The code, as `as` assembles it (offsets on the left):
static const unsigned char trampoline_code[] = {
    0x48, 0x8b, 0x0c, 0x24,                   // 00 mov rcx, [rsp]            argc
    0x48, 0x8b, 0x7c, 0x24, 0x10,             // 04 mov rdi, [rsp+16]         argv[1]: the program
    0x48, 0x8d, 0x74, 0x24, 0x18,             // 09 lea rsi, [rsp+24]         &argv[2]: its argv
    0x48, 0x8d, 0x54, 0xcc, 0x10,             // 0e lea rdx, [rsp+rcx*8+16]   envp
    0xb8, 0x3b, 0x00, 0x00, 0x00,             // 13 mov eax, 59               execve
    0x0f, 0x05,                               // 18 syscall
    0xbf, 0x02, 0x00, 0x00, 0x00,             // 1a mov edi, 2                it failed: stderr
    0x48, 0x8d, 0x35, 0x18, 0x00, 0x00, 0x00, // 1f lea rsi, [rip+0x18]       the message, at 3e
    0xba, 0x00, 0x00, 0x00, 0x00,             // 26 mov edx, LENGTH           (patched below)
    0xb8, 0x01, 0x00, 0x00, 0x00,             // 2b mov eax, 1                write
    0x0f, 0x05,                               // 30 syscall
    0xbf, 0x7f, 0x00, 0x00, 0x00,             // 32 mov edi, 127
    0xb8, 0xe7, 0x00, 0x00, 0x00,             // 37 mov eax, 231              exit_group
    0x0f, 0x05,                               // 3c syscall
};                                            // 3e the message
#define TRAMPOLINE_LENGTH_AT 0x27

// ELF header, one R+X PT_LOAD of the whole file at TRAMPOLINE_BASE, code.
static size_t build_trampoline(unsigned char *image, size_t size) {
    size_t code_at = sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr);
    size_t total = code_at + sizeof trampoline_code + sizeof trampoline_message - 1;
    if (total > size) return 0;
    memset(image, 0, total);
    Elf64_Ehdr *header = (Elf64_Ehdr *)image;
    memcpy(header->e_ident, ELFMAG, SELFMAG);
    header->e_ident[EI_CLASS] = ELFCLASS64;
    header->e_ident[EI_DATA] = ELFDATA2LSB;
    header->e_ident[EI_VERSION] = EV_CURRENT;
    header->e_type = ET_EXEC;
    header->e_machine = EM_X86_64;
    header->e_version = EV_CURRENT;
    header->e_entry = TRAMPOLINE_BASE + code_at;
    header->e_phoff = sizeof(Elf64_Ehdr);
    header->e_ehsize = sizeof(Elf64_Ehdr);
    header->e_phentsize = sizeof(Elf64_Phdr);
    header->e_phnum = 1;
    Elf64_Phdr *load = (Elf64_Phdr *)(image + sizeof(Elf64_Ehdr));
    load->p_type = PT_LOAD;
    load->p_flags = PF_R | PF_X;
    load->p_offset = 0;
    load->p_vaddr = load->p_paddr = TRAMPOLINE_BASE;
    load->p_filesz = load->p_memsz = total;
    load->p_align = 0x1000;
    unsigned char *code = image + code_at;
    memcpy(code, trampoline_code, sizeof trampoline_code);
    code[TRAMPOLINE_LENGTH_AT] = (unsigned char)(sizeof trampoline_message - 1);
    memcpy(code + sizeof trampoline_code, trampoline_message, sizeof trampoline_message - 1);
    return total;
}

int vessel_exec_trampoline(void) {
    unsigned char image[512];
    size_t length = build_trampoline(image, sizeof image);
    if (length == 0) return -ENOSPC;
    // MFD_EXEC (Linux 6.3): say that it is meant to run; older kernels refuse
    // the flag and make every memfd executable.
    const unsigned int flags = MFD_CLOEXEC | MFD_ALLOW_SEALING;
    int fd = memfd_create("vessel-exec", flags | 0x0010u /* MFD_EXEC */);
    if (fd < 0 && errno == EINVAL) fd = memfd_create("vessel-exec", flags);
    if (fd < 0) return -errno;
    size_t written = 0;
    while (written < length) {
        ssize_t n = write(fd, image + written, length - written);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) goto failed;
        written += (size_t)n;
    }
    if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0) goto failed;
    return fd;
failed:;
    int err = errno ? errno : EIO;
    close(fd);
    return -err;
}

int vessel_exec_through(int trampoline_fd, const char *path, char *const argv[], char *const envp[]) {
    size_t count = 0;
    while (argv[count] != NULL) count++;
    char **through = calloc(count + 3, sizeof(char *));
    if (through == NULL) return -ENOMEM;
    through[0] = "vessel-exec";
    through[1] = (char *)path;
    memcpy(&through[2], argv, (count + 1) * sizeof(char *));
    syscall(SYS_execveat, trampoline_fd, "", through, envp, AT_EMPTY_PATH);
    int err = errno;
    if (err == ENOSYS || err == EPERM) {
        // A seccomp profile may allow execve but not execveat.
        char link[32];
        snprintf(link, sizeof link, "/proc/self/fd/%d", trampoline_fd);
        execve(link, through, envp);
    }
    free(through);
    return -err;
}

#else

int vessel_exec_trampoline(void) { return -ENOSYS; }

int vessel_exec_through(int trampoline_fd, const char *path, char *const argv[], char *const envp[]) {
    (void)trampoline_fd; (void)path; (void)argv; (void)envp;
    return -ENOSYS;
}

#endif
