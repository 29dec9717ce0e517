/* open-loop-client: requests at Poisson arrival times to Zipf-popular site IPs (scripts/bench-balance).
 *
 *   open-loop-client --rate R --duration S [--seed 1] [--sites 60] [--site-base 10.0.1.1] [--zipf 1.0]
 *                    [--port 80] [--timeout 5] [--log FILE]
 *
 * Arrivals: exponential gaps of mean 1/R; each arrival picks a site by Zipf popularity (site k of N with weight
 * 1/k^s). Both come from one seeded PRNG (splitmix64), so the same seed gives the same arrival times and sites in
 * every run: the arms of a benchmark see the same traffic. Each request is a new TCP connection to SITE:PORT
 * (`GET / HTTP/1.0`, answer read to EOF), non-blocking under epoll, any number in flight. The client is open
 * loop: a request is sent at its scheduled time however slow the answers are, and its latency is measured from
 * that scheduled time (so a late client cannot hide queueing; its worst lateness is printed).
 *
 * A request is answered (a 200 with an X-SERVER header), failed (refused, reset, another status, no X-SERVER;
 * counted by reason) or timed out (no complete answer within --timeout s). At the end it prints a summary:
 *   client: sent N answered N failed N timed_out N rate R duration S seed S late_max_ms X start_epoch T
 *   latency_ms: p50 X p99 X p999 X max X             (answered requests)
 *   servers: web1 N web2 N ...                        (answered requests by X-SERVER)
 *   locality: X sites N                               (each site's share served by its most frequent server,
 *                                                      weighted by the site's answered requests)
 *   failures: REASON N ...
 * and with --log one line per request: `SCHEDULED_S SITE SERVER LATENCY_MS RESULT` (SERVER `-` when none;
 * RESULT ok, timeout or the failure reason), SCHEDULED_S counted from the start.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_SERVERS 32
#define HEAD 512

enum result { RES_OK, RES_TIMEOUT, RES_REFUSED, RES_RESET, RES_CONNECT, RES_STATUS, RES_NO_SERVER, RES_LOCAL, RES_COUNT };
static const char *result_name[RES_COUNT] = {"ok", "timeout", "refused", "reset", "connect_error", "bad_status",
                                           "no_x_server", "local_error"};

struct record {
    double scheduled;  /* s since start */
    float latency_ms;
    uint16_t site;
    int8_t server;     /* index into server_names, -1 none */
    uint8_t result;
};

struct conn {
    int fd;
    int sent;
    size_t len;
    uint32_t record;
    int64_t deadline;
    struct conn *older, *newer;  /* in-flight list in order of start: the oldest times out first */
    char head[HEAD + 1];
};

static char server_names[MAX_SERVERS][32];
static int server_count;
static struct record *records;
static size_t record_count, record_cap;
static struct conn *oldest, *newest;
static int64_t t0;

static int64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static uint64_t rng_state;
static double uniform(void) {  /* splitmix64 -> (0, 1) */
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return ((z >> 11) + 0.5) / 9007199254740992.0;
}

static int server_index(const char *name) {
    for (int i = 0; i < server_count; i++)
        if (!strcmp(server_names[i], name)) return i;
    if (server_count == MAX_SERVERS) return -1;
    snprintf(server_names[server_count], sizeof server_names[0], "%s", name);
    return server_count++;
}

static void unlink_conn(struct conn *c) {
    if (c->older) c->older->newer = c->newer; else oldest = c->newer;
    if (c->newer) c->newer->older = c->older; else newest = c->older;
}

static void finish(struct conn *c, int result, int64_t now) {
    struct record *r = &records[c->record];
    r->result = (uint8_t)result;
    r->latency_ms = (float)((now - t0) / 1e6 - r->scheduled * 1000.0);
    unlink_conn(c);
    close(c->fd);
    free(c);
}

static int errno_result(int e) {
    switch (e) {
    case ECONNREFUSED: return RES_REFUSED;
    case ECONNRESET: case EPIPE: return RES_RESET;
    default: return RES_CONNECT;
    }
}

/* The answer is complete (EOF): 200 with an X-SERVER header, or why not. */
static int parse_answer(struct conn *c) {
    struct record *r = &records[c->record];
    c->head[c->len] = 0;
    if (strncmp(c->head, "HTTP/1.0 200", 12) != 0 && strncmp(c->head, "HTTP/1.1 200", 12) != 0) return RES_STATUS;
    for (char *line = strstr(c->head, "\r\n"); line; line = strstr(line + 2, "\r\n")) {
        char *p = line + 2;
        if (strncasecmp(p, "X-SERVER:", 9) == 0) {
            p += 9;
            while (*p == ' ') p++;
            char name[32];
            size_t n = strcspn(p, "\r\n");
            if (n >= sizeof name) n = sizeof name - 1;
            memcpy(name, p, n);
            name[n] = 0;
            r->server = (int8_t)server_index(name);
            return RES_OK;
        }
        if (p[0] == '\r') break;
    }
    return RES_NO_SERVER;
}

static int cmp_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

static float percentile(const float *sorted, size_t n, double p) {
    if (n == 0) return NAN;
    size_t i = (size_t)ceil(p * n);
    if (i > 0) i--;
    if (i >= n) i = n - 1;
    return sorted[i];
}

static void usage(void) {
    fprintf(stderr, "usage: open-loop-client --rate R --duration S [--seed N] [--sites N] [--site-base IP] [--zipf S]\n"
                    "                        [--port P] [--timeout S] [--log FILE]\n");
    exit(2);
}

int main(int argc, char **argv) {
    double rate = 0, duration = 0, zipf = 1.0, timeout = 5.0;
    uint64_t seed = 1;
    int sites = 60, port = 80;
    const char *site_base = "10.0.1.1", *log_path = NULL;
    for (int i = 1; i < argc; i += 2) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) usage();
        if (!strcmp(a, "--rate")) rate = atof(v);
        else if (!strcmp(a, "--duration")) duration = atof(v);
        else if (!strcmp(a, "--seed")) seed = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--sites")) sites = atoi(v);
        else if (!strcmp(a, "--site-base")) site_base = v;
        else if (!strcmp(a, "--zipf")) zipf = atof(v);
        else if (!strcmp(a, "--port")) port = atoi(v);
        else if (!strcmp(a, "--timeout")) timeout = atof(v);
        else if (!strcmp(a, "--log")) log_path = v;
        else usage();
    }
    struct in_addr base;
    if (rate <= 0 || duration <= 0 || sites < 1 || sites > 65535 || inet_pton(AF_INET, site_base, &base) != 1) usage();
    struct rlimit nofile;  /* many requests in flight under overload: as many descriptors as allowed */
    getrlimit(RLIMIT_NOFILE, &nofile);
    nofile.rlim_cur = nofile.rlim_max;
    setrlimit(RLIMIT_NOFILE, &nofile);

    /* Zipf: cumulative popularity of sites 1..N. */
    double *cdf = malloc(sizeof(double) * (size_t)sites), total = 0;
    for (int k = 0; k < sites; k++) cdf[k] = (total += 1.0 / pow(k + 1, zipf));
    for (int k = 0; k < sites; k++) cdf[k] /= total;

    rng_state = seed;
    record_cap = (size_t)(rate * duration * 1.2) + 1024;
    records = calloc(record_cap, sizeof *records);
    int ep = epoll_create1(0);
    struct epoll_event events[256];
    int64_t timeout_ns = (int64_t)(timeout * 1e9), end_ns;
    double late_max = 0;
    t0 = now_ns();
    end_ns = t0 + (int64_t)(duration * 1e9);
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    double start_epoch = wall.tv_sec + wall.tv_nsec / 1e9;
    double next = -log(uniform()) / rate;  /* s since t0 */

    for (;;) {
        int64_t now = now_ns();
        /* Send every arrival that is due. */
        while (next < duration && t0 + (int64_t)(next * 1e9) <= now) {
            double site_u = uniform();
            int lo = 0, hi = sites - 1;
            while (lo < hi) {
                int mid = (lo + hi) / 2;
                if (cdf[mid] < site_u) lo = mid + 1; else hi = mid;
            }
            if (record_count == record_cap) {
                record_cap *= 2;
                records = realloc(records, record_cap * sizeof *records);
            }
            struct record *r = &records[record_count];
            *r = (struct record){.scheduled = next, .site = (uint16_t)lo, .server = -1, .result = RES_LOCAL};
            double late = (now - t0) / 1e9 - next;
            if (late > late_max) late_max = late;
            struct conn *c = calloc(1, sizeof *c);
            c->record = (uint32_t)record_count++;
            c->deadline = t0 + (int64_t)(next * 1e9) + timeout_ns;
            c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
            to.sin_addr.s_addr = htonl(ntohl(base.s_addr) + (uint32_t)lo);
            c->older = newest;
            if (newest) newest->newer = c; else oldest = c;
            newest = c;
            if (c->fd < 0) finish(c, RES_LOCAL, now);  /* close(-1) in finish is harmless */
            else if (connect(c->fd, (struct sockaddr *)&to, sizeof to) < 0 && errno != EINPROGRESS) {
                finish(c, errno_result(errno), now);
            } else {
                struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};
                epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
            }
            next += -log(uniform()) / rate;
        }
        /* Time out the oldest (all share one timeout, so they expire in start order). */
        while (oldest && oldest->deadline <= now) finish(oldest, RES_TIMEOUT, now);
        if (next >= duration && !oldest) break;
        if (now > end_ns + timeout_ns + 1000000000) break;  /* cannot happen: every request has a deadline */

        int64_t wake = oldest ? oldest->deadline : INT64_MAX;
        if (next < duration && t0 + (int64_t)(next * 1e9) < wake) wake = t0 + (int64_t)(next * 1e9);
        int wait_ms = wake == INT64_MAX ? 100 : (int)((wake - now + 999999) / 1000000);
        if (wait_ms < 0) wait_ms = 0;
        int n = epoll_wait(ep, events, 256, wait_ms);
        now = now_ns();
        for (int i = 0; i < n; i++) {
            struct conn *c = events[i].data.ptr;
            if (!c->sent) {
                int error = 0;
                socklen_t len = sizeof error;
                getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &error, &len);
                if (error) { finish(c, errno_result(error), now); continue; }
                struct record *r = &records[c->record];
                char request[128];
                int rl = snprintf(request, sizeof request, "GET / HTTP/1.0\r\nHost: %u.%u.%u.%u\r\n\r\n",
                                  (ntohl(base.s_addr) + r->site) >> 24, ((ntohl(base.s_addr) + r->site) >> 16) & 255,
                                  ((ntohl(base.s_addr) + r->site) >> 8) & 255, (ntohl(base.s_addr) + r->site) & 255);
                if (send(c->fd, request, (size_t)rl, MSG_NOSIGNAL) != rl) { finish(c, errno_result(errno), now); continue; }
                c->sent = 1;
                struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
                epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
                continue;
            }
            char scratch[4096];
            char *into = c->len < HEAD ? c->head + c->len : scratch;
            size_t room = c->len < HEAD ? HEAD - c->len : sizeof scratch;
            ssize_t got = recv(c->fd, into, room, 0);
            if (got > 0) {
                if (into != scratch) c->len += (size_t)got;
            } else if (got == 0) {
                finish(c, parse_answer(c), now);
            } else if (errno != EAGAIN && errno != EINTR) {
                finish(c, errno_result(errno), now);
            }
        }
    }

    /* Summary. */
    size_t answered = 0, failed = 0, timed_out = 0, by_result[RES_COUNT] = {0}, by_server[MAX_SERVERS] = {0};
    float *lat = malloc(sizeof(float) * (record_count + 1));
    size_t *site_server = calloc((size_t)sites * MAX_SERVERS, sizeof(size_t));
    for (size_t i = 0; i < record_count; i++) {
        struct record *r = &records[i];
        by_result[r->result]++;
        if (r->result == RES_OK) {
            lat[answered++] = r->latency_ms;
            if (r->server >= 0) {
                by_server[r->server]++;
                site_server[(size_t)r->site * MAX_SERVERS + (size_t)r->server]++;
            }
        } else if (r->result == RES_TIMEOUT) timed_out++;
        else failed++;
    }
    qsort(lat, answered, sizeof(float), cmp_float);
    size_t local = 0, used_sites = 0;
    for (int k = 0; k < sites; k++) {
        size_t best = 0, any = 0;
        for (int s = 0; s < server_count; s++) {
            size_t n = site_server[(size_t)k * MAX_SERVERS + (size_t)s];
            any += n;
            if (n > best) best = n;
        }
        local += best;
        used_sites += any > 0;
    }
    printf("client: sent %zu answered %zu failed %zu timed_out %zu rate %.2f duration %.1f seed %llu late_max_ms %.1f "
           "start_epoch %.3f\n", record_count, answered, failed, timed_out, rate, duration, (unsigned long long)seed,
           late_max * 1000, start_epoch);
    printf("latency_ms: p50 %.1f p99 %.1f p999 %.1f max %.1f\n", percentile(lat, answered, 0.5),
           percentile(lat, answered, 0.99), percentile(lat, answered, 0.999), answered ? lat[answered - 1] : NAN);
    printf("servers:");
    for (int s = 0; s < server_count; s++) printf(" %s %zu", server_names[s], by_server[s]);
    printf("\nlocality: %.3f sites %zu\n", answered ? (double)local / answered : NAN, used_sites);
    printf("failures:");
    for (int k = RES_TIMEOUT; k < RES_COUNT; k++)
        if (by_result[k]) printf(" %s %zu", result_name[k], by_result[k]);
    printf("\n");
    if (log_path) {
        FILE *f = fopen(log_path, "w");
        if (!f) { perror(log_path); return 1; }
        for (size_t i = 0; i < record_count; i++) {
            struct record *r = &records[i];
            fprintf(f, "%.6f %u %s %.2f %s\n", r->scheduled, r->site, r->server >= 0 ? server_names[r->server] : "-",
                    r->latency_ms, result_name[r->result]);
        }
        fclose(f);
    }
    return 0;
}
