/*
 * echo_load: a tiny independent load client for uppercase echo servers, in C, to check that
 * `iomodels bench`'s load generator is not the bottleneck (Debian has no tcpkali; wrk speaks HTTP).
 *
 * Same load shape as `iomodels bench`: C connections, each keeping D messages of S bytes in flight
 * (closed loop), the stream being the lowercase alphabet repeated, every echoed byte compared with
 * the uppercase alphabet. One thread, epoll, non-blocking sockets. It counts messages whose echo
 * completed in the measured window; it does not time them (throughput only).
 *
 * Usage: echo_load PORT CONNECTIONS SIZE DEPTH SECONDS [WARMUP_SECONDS]
 * Prints: "messages N seconds S msg/s R mismatches M errors E"; exits 1 if any byte was wrong.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHUNK 65536

struct conn {
    int fd;
    unsigned long long send_pos;  /* stream bytes sent */
    unsigned long long recv_pos;  /* stream bytes received and checked */
    unsigned long long completed; /* whole messages echoed */
    int want_out;
};

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc < 6) {
        fprintf(stderr, "usage: echo_load PORT CONNECTIONS SIZE DEPTH SECONDS [WARMUP_SECONDS]\n");
        return 2;
    }
    int port = atoi(argv[1]), nconn = atoi(argv[2]), size = atoi(argv[3]), depth = atoi(argv[4]);
    double seconds = atof(argv[5]), warmup = argc > 6 ? atof(argv[6]) : 1.0;
    static char pattern[CHUNK + 26], expected[CHUNK + 26], buffer[CHUNK];
    for (int i = 0; i < CHUNK + 26; i++) {
        pattern[i] = (char)('a' + i % 26);
        expected[i] = (char)('A' + i % 26);
    }

    int ep = epoll_create1(0);
    struct conn *conns = calloc((size_t)nconn, sizeof *conns);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int one = 1;
    for (int i = 0; i < nconn; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
            perror("echo_load: connect");
            return 1;
        }
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        conns[i].fd = fd; /* left blocking: every recv and send below passes MSG_DONTWAIT */
        struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.ptr = &conns[i] };
        conns[i].want_out = 1;
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    }

    unsigned long long mismatches = 0, errors = 0, measured = 0;
    double start = now(), measure_start = start + warmup, end = measure_start + seconds;
    struct epoll_event events[256];
    for (;;) {
        double t = now();
        if (t >= end) break;
        int ready = epoll_wait(ep, events, 256, 10);
        t = now();
        for (int e = 0; e < ready; e++) {
            struct conn *c = events[e].data.ptr;
            if (c->fd < 0) continue;
            if (events[e].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
                ssize_t n = recv(c->fd, buffer, sizeof buffer, MSG_DONTWAIT);
                if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
                    errors++;
                    close(c->fd);
                    c->fd = -1;
                    continue;
                }
                if (n > 0) {
                    const char *want = expected + c->recv_pos % 26;
                    if (memcmp(buffer, want, (size_t)n) != 0) {
                        for (ssize_t i = 0; i < n; i++) mismatches += buffer[i] != want[i];
                    }
                    c->recv_pos += (unsigned long long)n;
                    unsigned long long done = c->recv_pos / (unsigned long long)size;
                    if (t >= measure_start && t < end) measured += done - c->completed;
                    c->completed = done;
                }
            }
            /* Send whatever the window allows: D messages beyond those completed. */
            unsigned long long limit = (c->completed + (unsigned long long)depth) * (unsigned long long)size;
            while (c->send_pos < limit) {
                size_t len = (size_t)(limit - c->send_pos);
                if (len > CHUNK) len = CHUNK;
                ssize_t n = send(c->fd, pattern + c->send_pos % 26, len, MSG_DONTWAIT | MSG_NOSIGNAL);
                if (n < 0) {
                    if (errno != EAGAIN && errno != EINTR) { errors++; close(c->fd); c->fd = -1; }
                    break;
                }
                c->send_pos += (unsigned long long)n;
            }
            if (c->fd < 0) continue;
            int want_out = c->send_pos < limit;
            if (want_out != c->want_out) {
                struct epoll_event ev = { .events = EPOLLIN | (want_out ? EPOLLOUT : 0), .data.ptr = c };
                epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
                c->want_out = want_out;
            }
        }
    }
    printf("messages %llu seconds %.3f msg/s %.0f mismatches %llu errors %llu\n",
           measured, seconds, measured / seconds, mismatches, errors);
    return mismatches ? 1 : 0;
}
