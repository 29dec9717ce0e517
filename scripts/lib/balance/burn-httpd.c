/* burn-httpd: a webserver whose every request costs a fixed amount of real CPU (scripts/bench-balance).
 *
 *   burn-httpd --calibrate MS                 print the loop iterations that take MS ms of CPU (the fastest of
 *                                             several trials on an idle machine: a stall of the host only makes
 *                                             a trial slower, never faster)
 *   burn-httpd --id web1 --iterations N [--port 80] [--workers 32] [--backlog 4096]
 *
 * Each request (HTTP/1.0 or 1.1, any method and path) runs the same loop of N iterations, then answers
 * `200 OK` with `X-SERVER: <id>` and a one-line body. Keep-alive follows the request: HTTP/1.1 keeps the connection
 * unless `Connection: close`, HTTP/1.0 closes it unless `Connection: keep-alive`. Health checks are ordinary
 * requests and pay the same cost, as they do on a real webserver: under overload they queue like everyone else.
 *
 * Concurrency: WORKERS threads each block in accept() on the one listening socket and serve one connection at a
 * time, so up to WORKERS requests burn at once and share the cgroup's CPU (processor sharing, as a prefork Apache
 * does); further connections wait in the kernel's accept queue. Queueing therefore happens at the CPU quota, not at
 * a single-threaded accept. SIGTERM/SIGINT end the process; it prints the requests it served to stderr.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *server_id = "web";
static uint64_t iterations = 0;
static atomic_ulong served;
static volatile uint64_t sink;  /* keeps the loop's result alive: the compiler may not drop the work */

/* The work: a xorshift chain, each step depending on the last (no vectorising, no folding). */
static uint64_t burn(uint64_t n) {
    uint64_t x = 0x9E3779B97F4A7C15ull ^ n;
    for (uint64_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    return x;
}

static double monotonic_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

/* Iterations per MS ms, from the fastest of 7 trials of about 100 ms each. Wall time, not this thread's CPU clock:
 * user-mode-linux counts thread CPU time in 10 ms ticks. Run it on an idle machine (scripts/bench-balance does, before
 * the cluster starts); a stall of the host makes a trial slower, and the fastest trial is kept. */
static int calibrate(double ms) {
    uint64_t n = 100000;
    double best = 0;  /* iterations per second */
    for (double dt = 0; dt < 0.1; n *= 2) {  /* grow a trial to at least 100 ms */
        double t0 = monotonic_seconds();
        sink += burn(n);
        dt = monotonic_seconds() - t0;
        if (dt >= 0.1) best = n / dt;
    }
    for (int trial = 0; trial < 7; trial++) {
        uint64_t size = (uint64_t)(best * 0.1);
        double t0 = monotonic_seconds();
        sink += burn(size);
        double dt = monotonic_seconds() - t0;
        if (dt > 0 && size / dt > best) best = size / dt;
    }
    printf("%llu\n", (unsigned long long)(best * ms / 1000.0));
    return 0;
}

/* Case-insensitive search for a header's value in the head [head, end); copies it (trimmed) into out. */
static int header(const char *head, const char *name, char *out, size_t size) {
    size_t len = strlen(name);
    for (const char *line = strstr(head, "\r\n"); line; line = strstr(line + 2, "\r\n")) {
        const char *p = line + 2;
        if (strncasecmp(p, name, len) == 0 && p[len] == ':') {
            p += len + 1;
            while (*p == ' ' || *p == '\t') p++;
            size_t n = strcspn(p, "\r\n");
            if (n >= size) n = size - 1;
            memcpy(out, p, n);
            out[n] = 0;
            return 1;
        }
    }
    return 0;
}

static int send_all(int fd, const char *data, size_t len) {
    while (len > 0) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Serves one connection until the client or the request says close. */
static void serve(int fd) {
    char buf[8192];
    size_t have = 0;
    for (;;) {
        char *end;
        buf[have] = 0;
        while (!(end = strstr(buf, "\r\n\r\n"))) {
            if (have == sizeof buf - 1) return;  /* a head this large is no request of ours */
            ssize_t n = recv(fd, buf + have, sizeof buf - 1 - have, 0);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return;
            have += (size_t)n;
            buf[have] = 0;
        }
        end[2] = 0;  /* the head ends at the first CRLF of the blank line: header() sees every line */
        size_t first = strcspn(buf, "\r");  /* the request line: METHOD PATH HTTP/1.x */
        int http11 = first >= 9 && strncmp(buf + first - 9, " HTTP/1.1", 9) == 0;
        char connection[64] = "";
        header(buf, "Connection", connection, sizeof connection);
        int keep = http11 ? strcasecmp(connection, "close") != 0 : strcasecmp(connection, "keep-alive") == 0;

        sink += burn(iterations);

        char body[64], answer[256];
        int body_len = snprintf(body, sizeof body, "%s\n", server_id);
        int len = snprintf(answer, sizeof answer,
                           "HTTP/1.%d 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nX-SERVER: %s\r\n"
                           "Connection: %s\r\n\r\n%s",
                           http11, body_len, server_id, keep ? "keep-alive" : "close", body);
        if (send_all(fd, answer, (size_t)len) < 0) return;
        atomic_fetch_add(&served, 1);
        if (!keep) return;
        /* A pipelined next request may already be in the buffer (no request bodies here). */
        size_t used = (size_t)(end + 4 - buf);
        memmove(buf, buf + used, have - used);
        have -= used;
    }
}

static int listener;

static void *worker(void *arg) {
    (void)arg;
    for (;;) {
        int fd = accept(listener, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE || errno == ENFILE) continue;
            perror("burn-httpd: accept");
            exit(1);
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        serve(fd);
        close(fd);
    }
    return NULL;
}

static void usage(void) {
    fprintf(stderr, "usage: burn-httpd --calibrate MS\n"
                    "       burn-httpd --id ID --iterations N [--port 80] [--workers 32] [--backlog 4096]\n");
    exit(2);
}

int main(int argc, char **argv) {
    int port = 80, workers = 32, backlog = 4096, have_iterations = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) usage();
        if (!strcmp(a, "--calibrate")) return calibrate(atof(v));
        else if (!strcmp(a, "--id")) server_id = v;
        else if (!strcmp(a, "--iterations")) { iterations = strtoull(v, NULL, 10); have_iterations = 1; }
        else if (!strcmp(a, "--port")) port = atoi(v);
        else if (!strcmp(a, "--workers")) workers = atoi(v);
        else if (!strcmp(a, "--backlog")) backlog = atoi(v);
        else usage();
        i++;
    }
    if (!have_iterations || workers < 1) usage();

    listener = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = INADDR_ANY};
    if (bind(listener, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(listener, backlog) < 0) {
        fprintf(stderr, "burn-httpd: cannot listen on port %d: %s (another server on it?)\n", port, strerror(errno));
        return 1;
    }
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);  /* the workers inherit the mask; main waits for the signal */
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    for (int i = 0; i < workers; i++) {
        pthread_t t;
        if (pthread_create(&t, &attr, worker, NULL) != 0) {
            perror("burn-httpd: pthread_create");
            return 1;
        }
    }
    int sig;
    sigwait(&stop, &sig);
    fprintf(stderr, "burn-httpd %s: %lu requests served\n", server_id, atomic_load(&served));
    return 0;
}
