/*
 * epoll_echo: a plain single-threaded epoll uppercase-echo server, the yardstick for `iomodels bench`.
 *
 * A measuring instrument, not product: about the least work a Linux process can do to serve the
 * IoModels protocol (every byte back, ASCII a-z as A-Z, nothing else changed), so a model's numbers
 * can be read as a ratio to it. Level-triggered epoll, non-blocking sockets, one thread, one 64 KiB
 * read buffer shared by all connections; what a send does not take is kept per connection and the
 * connection is not read again until it has gone (backpressure, as the engines do).
 *
 * Usage: epoll_echo [PORT]   listens on 127.0.0.1:PORT (0 or none: any free port), prints the port
 * on stdout as "port N", and runs until SIGTERM or SIGINT.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_EVENTS 256
#define BUFFER_SIZE 65536

struct conn {
    int fd;
    char *pending; /* bytes the kernel did not take yet */
    size_t pending_len;
    size_t pending_off;
};

static volatile sig_atomic_t stopping;

static void on_signal(int sig) { (void)sig; stopping = 1; }

static void upper(char *p, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)(p[i] - 'a') <= 'z' - 'a') p[i] &= ~0x20;
    }
}

static void close_conn(int ep, struct conn *c) {
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c->pending);
    free(c);
}

/* Sends what is pending; returns 0 when all of it went, 1 when some is left, -1 on error. */
static int flush_pending(struct conn *c) {
    while (c->pending_off < c->pending_len) {
        ssize_t n = send(c->fd, c->pending + c->pending_off, c->pending_len - c->pending_off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return 1;
            return -1;
        }
        c->pending_off += (size_t)n;
    }
    free(c->pending);
    c->pending = NULL;
    c->pending_len = c->pending_off = 0;
    return 0;
}

int main(int argc, char **argv) {
    int port = argc > 1 ? atoi(argv[1]) : 0;
    static char buffer[BUFFER_SIZE];
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    if (bind(listener, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(listener, 4096) < 0) {
        perror("epoll_echo: bind/listen");
        return 1;
    }
    socklen_t len = sizeof addr;
    getsockname(listener, (struct sockaddr *)&addr, &len);
    printf("port %d\n", ntohs(addr.sin_port));
    fflush(stdout);

    int ep = epoll_create1(0);
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL }; /* NULL marks the listener */
    epoll_ctl(ep, EPOLL_CTL_ADD, listener, &ev);
    struct epoll_event events[MAX_EVENTS];

    while (!stopping) {
        int ready = epoll_wait(ep, events, MAX_EVENTS, 500);
        if (ready < 0) {
            if (errno == EINTR) continue;
            perror("epoll_echo: epoll_wait");
            return 1;
        }
        for (int i = 0; i < ready; i++) {
            struct conn *c = events[i].data.ptr;
            if (c == NULL) {
                for (;;) {
                    int fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK);
                    if (fd < 0) break; /* EAGAIN: accepted all; EMFILE and friends: try on the next wake-up */
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    struct conn *nc = calloc(1, sizeof *nc);
                    nc->fd = fd;
                    struct epoll_event cev = { .events = EPOLLIN, .data.ptr = nc };
                    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev);
                }
                continue;
            }
            if (c->pending) {
                /* EPOLLOUT: finish the earlier echo, then read again. */
                int r = flush_pending(c);
                if (r < 0) { close_conn(ep, c); continue; }
                if (r == 0) {
                    struct epoll_event cev = { .events = EPOLLIN, .data.ptr = c };
                    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &cev);
                }
                continue;
            }
            ssize_t n = recv(c->fd, buffer, sizeof buffer, 0);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) { close_conn(ep, c); continue; }
            if (n < 0) continue;
            upper(buffer, (size_t)n);
            ssize_t sent = send(c->fd, buffer, (size_t)n, MSG_NOSIGNAL);
            if (sent < 0 && errno != EAGAIN && errno != EINTR) { close_conn(ep, c); continue; }
            if (sent < 0) sent = 0;
            if (sent < n) {
                c->pending_len = (size_t)(n - sent);
                c->pending = malloc(c->pending_len);
                memcpy(c->pending, buffer + sent, c->pending_len);
                c->pending_off = 0;
                struct epoll_event cev = { .events = EPOLLOUT, .data.ptr = c };
                epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &cev);
            }
        }
    }
    return 0;
}
