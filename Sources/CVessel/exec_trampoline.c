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

// The sealed exec trampoline (see vessel.h): a static ELF of three pages
// that does execve(argv[1], &argv[2], envp) and, if that fails, writes the
// line a re-executed `vessel init` writes (ContainerInit.Prepared.exec, as
// runc's init: `exec <path>: <strerror, lower-case first>`) to stderr and
// exits 1. Written here byte by byte (x86-64 only) because it must be a file
// of its own, not vessel: a process that enters a container without
// re-executing vessel still has vessel's binary as /proc/self/exe, and its
// last execve goes through this instead, so a program that names
// /proc/self/exe (directly, as a #! interpreter or as its ELF interpreter)
// reaches the sealed trampoline, never the host's vessel binary
// (CVE-2019-5736).

#if defined(__x86_64__)

#define TRAMPOLINE_BASE 0x400000u
// The failure texts: one entry per errno below ERRNO_ENTRIES, ENTRY_SIZE
// bytes each, a length byte then the text; entry 0 stands for any other.
#define ERRNO_ENTRIES 128
#define ENTRY_SIZE 64

// The code, as `as` assembles it (offsets on the left); "exec : \n" and the
// errno table follow it.
static const unsigned char trampoline_code[] = {
    0x48, 0x8b, 0x0c, 0x24,                   // 00 mov rcx, [rsp]                 argc
    0x48, 0x8b, 0x7c, 0x24, 0x10,             // 04 mov rdi, [rsp+16]              argv[1]: the program
    0x48, 0x8d, 0x74, 0x24, 0x18,             // 09 lea rsi, [rsp+24]              &argv[2]: its argv
    0x48, 0x8d, 0x54, 0xcc, 0x10,             // 0e lea rdx, [rsp+rcx*8+16]        envp
    0xb8, 0x3b, 0x00, 0x00, 0x00,             // 13 mov eax, 59                    execve
    0x0f, 0x05,                               // 18 syscall
    0xf7, 0xd8,                               // 1a neg eax                        it failed: errno
    0x83, 0xf8, 0x7f,                         // 1c cmp eax, 127
    0x76, 0x02,                               // 1f jbe 23
    0x31, 0xc0,                               // 21 xor eax, eax                   past the table: entry 0
    0x41, 0x89, 0xc4,                         // 23 mov r12d, eax                  the entry
    0x4c, 0x8b, 0x6c, 0x24, 0x10,             // 26 mov r13, [rsp+16]              the program's path
    0x45, 0x31, 0xf6,                         // 2b xor r14d, r14d                 its length
    0x4d, 0x85, 0xed,                         // 2e test r13, r13                  (none named: empty)
    0x74, 0x0d,                               // 31 je 40
    0x43, 0x80, 0x7c, 0x35, 0x00, 0x00,       // 33 cmp byte [r13+r14], 0
    0x74, 0x05,                               // 39 je 40
    0x49, 0xff, 0xc6,                         // 3b inc r14
    0xeb, 0xf3,                               // 3e jmp 33
    0xbf, 0x02, 0x00, 0x00, 0x00,             // 40 mov edi, 2                     write(2, "exec ", 5)
    0x48, 0x8d, 0x35, 0x7d, 0x00, 0x00, 0x00, // 45 lea rsi, [rip+0x7d]            c9
    0xba, 0x05, 0x00, 0x00, 0x00,             // 4c mov edx, 5
    0xb8, 0x01, 0x00, 0x00, 0x00,             // 51 mov eax, 1
    0x0f, 0x05,                               // 56 syscall
    0xbf, 0x02, 0x00, 0x00, 0x00,             // 58 mov edi, 2                     write(2, path, length)
    0x4c, 0x89, 0xee,                         // 5d mov rsi, r13
    0x4c, 0x89, 0xf2,                         // 60 mov rdx, r14
    0xb8, 0x01, 0x00, 0x00, 0x00,             // 63 mov eax, 1
    0x0f, 0x05,                               // 68 syscall
    0xbf, 0x02, 0x00, 0x00, 0x00,             // 6a mov edi, 2                     write(2, ": ", 2)
    0x48, 0x8d, 0x35, 0x58, 0x00, 0x00, 0x00, // 6f lea rsi, [rip+0x58]            ce
    0xba, 0x02, 0x00, 0x00, 0x00,             // 76 mov edx, 2
    0xb8, 0x01, 0x00, 0x00, 0x00,             // 7b mov eax, 1
    0x0f, 0x05,                               // 80 syscall
    0x4c, 0x89, 0xe6,                         // 82 mov rsi, r12                   the entry's address
    0x48, 0xc1, 0xe6, 0x06,                   // 85 shl rsi, 6                     (ENTRY_SIZE)
    0x48, 0x8d, 0x05, 0x41, 0x00, 0x00, 0x00, // 89 lea rax, [rip+0x41]            d1: the table
    0x48, 0x01, 0xc6,                         // 90 add rsi, rax
    0x0f, 0xb6, 0x16,                         // 93 movzx edx, byte [rsi]          write(2, text, length)
    0x48, 0xff, 0xc6,                         // 96 inc rsi
    0xbf, 0x02, 0x00, 0x00, 0x00,             // 99 mov edi, 2
    0xb8, 0x01, 0x00, 0x00, 0x00,             // 9e mov eax, 1
    0x0f, 0x05,                               // a3 syscall
    0xbf, 0x02, 0x00, 0x00, 0x00,             // a5 mov edi, 2                     write(2, "\n", 1)
    0x48, 0x8d, 0x35, 0x1f, 0x00, 0x00, 0x00, // aa lea rsi, [rip+0x1f]            d0
    0xba, 0x01, 0x00, 0x00, 0x00,             // b1 mov edx, 1
    0xb8, 0x01, 0x00, 0x00, 0x00,             // b6 mov eax, 1
    0x0f, 0x05,                               // bb syscall
    0xbf, 0x01, 0x00, 0x00, 0x00,             // bd mov edi, 1                     exit_group(1)
    0xb8, 0xe7, 0x00, 0x00, 0x00,             // c2 mov eax, 231
    0x0f, 0x05,                               // c7 syscall
    'e', 'x', 'e', 'c', ' ', ':', ' ', '\n',  // c9 "exec ", ": " at ce, "\n" at d0
};                                            // d1 the table

// strerror's text with a lower-case first letter, as Go (and so runc) spells
// errors, in one entry; "unknown error" where the C library has no text.
static void write_entry(unsigned char *entry, int number) {
    const char *text = number > 0 ? strerror(number) : NULL;
    if (text == NULL || strncmp(text, "Unknown error", 13) == 0) text = "Unknown error";
    size_t length = strlen(text);
    if (length > ENTRY_SIZE - 1) length = ENTRY_SIZE - 1;
    entry[0] = (unsigned char)length;
    memcpy(entry + 1, text, length);
    if (entry[1] >= 'A' && entry[1] <= 'Z') entry[1] = (unsigned char)(entry[1] - 'A' + 'a');
}

// ELF header, one R+X PT_LOAD of the whole file at TRAMPOLINE_BASE, code,
// texts.
static size_t build_trampoline(unsigned char *image, size_t size) {
    size_t code_at = sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr);
    size_t table_at = code_at + sizeof trampoline_code;
    size_t total = table_at + ERRNO_ENTRIES * ENTRY_SIZE;
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
    memcpy(image + code_at, trampoline_code, sizeof trampoline_code);
    for (int number = 0; number < ERRNO_ENTRIES; number++) write_entry(image + table_at + number * ENTRY_SIZE, number);
    return total;
}

int vessel_exec_trampoline(void) {
    unsigned char image[12288];
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
