// TCP connection latency for bench/net-bench.py, built static into the
// benchmark's rootfs (busybox has no such tool).
//   tcp-connect serve PORT          accept and close connections forever
//   tcp-connect ADDRESS PORT COUNT  COUNT connects, one at a time; prints
//                                   each connect()'s microseconds, one a line
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "serve") == 0) {
        int listener = socket(AF_INET, SOCK_STREAM, 0), on = 1;
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
        struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[2])) };
        if (bind(listener, (struct sockaddr *)&address, sizeof address) != 0 || listen(listener, 128) != 0) {
            perror("tcp-connect: listen");
            return 1;
        }
        for (;;) {
            int connection = accept(listener, NULL, NULL);
            if (connection >= 0) close(connection);
        }
    }
    if (argc != 4) {
        fprintf(stderr, "usage: tcp-connect serve PORT | tcp-connect ADDRESS PORT COUNT\n");
        return 2;
    }
    struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[2])) };
    if (inet_pton(AF_INET, argv[1], &address.sin_addr) != 1) return 2;
    for (int i = 0, count = atoi(argv[3]); i < count; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        // RST on close: no TIME_WAIT pile-up over thousands of connects.
        struct linger off = { 1, 0 };
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &off, sizeof off);
        double start = now_us();
        if (connect(fd, (struct sockaddr *)&address, sizeof address) != 0) {
            perror("tcp-connect: connect");
            return 1;
        }
        printf("%.1f\n", now_us() - start);
        close(fd);
    }
    return 0;
}
