// VM networking on an engine's network namespace: a socket made inside a
// namespace the caller is not in, and a tap device. No policy here.
#define _GNU_SOURCE
#include "vessel.h"
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <net/if.h>
#include <linux/if_tun.h>

struct netns_socket_call {
    int netns_fd, domain, type, protocol;
    int result;
};

// A network namespace is a property of the thread, so a short-lived thread
// joins it and makes the socket there; the socket stays in that namespace
// after the thread (and its namespace reference) are gone.
static void *netns_socket_thread(void *argument) {
    struct netns_socket_call *call = argument;
    if (setns(call->netns_fd, CLONE_NEWNET) != 0) {
        call->result = -errno;
        return NULL;
    }
    int fd = socket(call->domain, call->type | SOCK_CLOEXEC, call->protocol);
    call->result = fd >= 0 ? fd : -errno;
    return NULL;
}

int vessel_netns_socket(int netns_fd, int domain, int type, int protocol) {
    struct netns_socket_call call = { netns_fd, domain, type, protocol, -EINVAL };
    pthread_t thread;
    int rc = pthread_create(&thread, NULL, netns_socket_thread, &call);
    if (rc != 0) return -rc;
    pthread_join(thread, NULL);
    return call.result;
}

int vessel_tap_open(const char *name, int vnet_header, char *actual_name) {
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (fd < 0) return -errno;
    struct ifreq request;
    memset(&request, 0, sizeof request);
    request.ifr_flags = IFF_TAP | IFF_NO_PI | (vnet_header ? IFF_VNET_HDR : 0);
    strncpy(request.ifr_name, name, IFNAMSIZ - 1);
    if (ioctl(fd, TUNSETIFF, &request) != 0) {
        int saved = errno;
        close(fd);
        return -saved;
    }
    if (actual_name) memcpy(actual_name, request.ifr_name, IFNAMSIZ);
    return fd;
}
