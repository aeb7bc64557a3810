// framebench: the C side of `make bench` (scripts/bench-rpc.py drives it).
//
//   framebench echo PATH
//       The floor: a server on a Unix socket that sends every frame straight back
//       (the same 4-byte big-endian length prefix as ozmapd's protocol), no protobuf.
//   framebench call PATH METHOD CONNECTIONS DEPTH CALLS [--echo] [--forever]
//       A client that keeps DEPTH RequestEnvelopes in flight on each of CONNECTIONS
//       connections until CALLS calls per connection are answered, then prints
//       "calls=N seconds=S p50_us=A p99_us=B errors=E". --echo: the peer is the echo
//       server (it answers the request envelope itself). --forever: never stops (a flood,
//       ended by SIGTERM); it prints "ready" once every connection has DEPTH in flight.
//
// A client in C, so that the figures are the server's, not a Swift client's.
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static double now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static void die(const char *what) { perror(what); exit(2); }

static int connect_to(const char *path) {
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0) die("socket");
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    strncpy(address.sun_path, path, sizeof address.sun_path - 1);
    if (connect(fd, (struct sockaddr *)&address, sizeof address) != 0) die("connect");
    return fd;
}

static void write_all(int fd, const uint8_t *bytes, size_t count) {
    while (count > 0) {
        ssize_t written = write(fd, bytes, count);
        if (written < 0) { if (errno == EINTR) continue; die("write"); }
        bytes += written;
        count -= (size_t)written;
    }
}

// ---- the floor: echo every frame back -------------------------------------------

static void *echo_connection(int fd) {
    uint8_t *buffer = malloc(1 << 20);
    size_t held = 0;
    for (;;) {
        ssize_t got = read(fd, buffer + held, (1 << 20) - held);
        if (got <= 0) break;
        held += (size_t)got;
        size_t used = 0;
        // Answer every whole frame read, in one write, as a server that batches its flushes does.
        while (held - used >= 4) {
            uint32_t length = (uint32_t)buffer[used] << 24 | buffer[used + 1] << 16 | buffer[used + 2] << 8 | buffer[used + 3];
            if (held - used < 4 + length) break;
            used += 4 + length;
        }
        if (used > 0) write_all(fd, buffer, used);
        memmove(buffer, buffer + used, held - used);
        held -= used;
    }
    close(fd);
    free(buffer);
    return NULL;
}

static int echo_server(const char *path) {
    int listener = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    strncpy(address.sun_path, path, sizeof address.sun_path - 1);
    unlink(path);
    if (bind(listener, (struct sockaddr *)&address, sizeof address) != 0) die("bind");
    if (listen(listener, 128) != 0) die("listen");
    signal(SIGCHLD, SIG_IGN);
    printf("ready\n");
    fflush(stdout);
    for (;;) {
        int fd = accept(listener, NULL, NULL);
        if (fd < 0) { if (errno == EINTR) continue; die("accept"); }
        // One process a connection: the floor has no shared state to contend on.
        if (fork() == 0) { close(listener); echo_connection(fd); _exit(0); }
        close(fd);
    }
}

// ---- the client ------------------------------------------------------------------

static size_t put_varint(uint8_t *out, uint64_t value) {
    size_t count = 0;
    do {
        uint8_t byte = value & 0x7f;
        value >>= 7;
        out[count++] = byte | (value ? 0x80 : 0);
    } while (value);
    return count;
}

static int get_varint(const uint8_t **cursor, const uint8_t *end, uint64_t *value) {
    *value = 0;
    for (int shift = 0; *cursor < end && shift < 64; shift += 7) {
        uint8_t byte = *(*cursor)++;
        *value |= (uint64_t)(byte & 0x7f) << shift;
        if (!(byte & 0x80)) return 1;
    }
    return 0;
}

// A RequestEnvelope { call_id = 1; method = 2 } in a frame; an empty payload is every field at its default.
static size_t request_frame(uint8_t *out, uint64_t call_id, const char *method) {
    uint8_t *body = out + 4;
    size_t n = 0;
    body[n++] = 0x08;
    n += put_varint(body + n, call_id);
    size_t method_length = strlen(method);
    body[n++] = 0x12;
    n += put_varint(body + n, method_length);
    memcpy(body + n, method, method_length);
    n += method_length;
    out[0] = n >> 24; out[1] = n >> 16; out[2] = n >> 8; out[3] = n;
    return n + 4;
}

// The call_id (field 1) and the status code (field 2's field 1; 0 when absent) of a response envelope.
static int parse_response(const uint8_t *body, size_t length, int echo, uint64_t *call_id, uint64_t *code) {
    const uint8_t *cursor = body, *end = body + length;
    *call_id = 0;
    *code = 0;
    while (cursor < end) {
        uint64_t key, value;
        if (!get_varint(&cursor, end, &key)) return 0;
        if ((key & 7) == 0) {
            if (!get_varint(&cursor, end, &value)) return 0;
            if (key >> 3 == 1) *call_id = value;
        } else if ((key & 7) == 2) {
            if (!get_varint(&cursor, end, &value) || value > (uint64_t)(end - cursor)) return 0;
            if (key >> 3 == 2 && !echo) {
                const uint8_t *status = cursor, *status_end = cursor + value;
                while (status < status_end) {
                    uint64_t status_key, field;
                    if (!get_varint(&status, status_end, &status_key)) return 0;
                    if ((status_key & 7) == 0) {
                        if (!get_varint(&status, status_end, &field)) return 0;
                        if (status_key >> 3 == 1) *code = field;
                    } else if ((status_key & 7) == 2) {
                        if (!get_varint(&status, status_end, &field) || field > (uint64_t)(status_end - status)) return 0;
                        status += field;
                    } else return 0;
                }
            }
            cursor += value;
        } else return 0;
    }
    return 1;
}

typedef struct {
    int fd;
    uint64_t next_id, answered, in_flight;
    double *sent_at; // by call_id % depth slot... indexed by call_id
    size_t sent_capacity;
    uint8_t *buffer;
    size_t held;
} Connection;

static volatile sig_atomic_t stopping = 0;
static void on_term(int signal_number) { (void)signal_number; stopping = 1; }

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int client(const char *path, const char *method, int connections, int depth, long calls, int echo, int forever) {
    signal(SIGTERM, on_term);
    signal(SIGPIPE, SIG_IGN);
    Connection *all = calloc((size_t)connections, sizeof *all);
    struct pollfd *polls = calloc((size_t)connections, sizeof *polls);
    size_t sample_capacity = forever ? 1 : (size_t)connections * (size_t)calls;
    double *latencies = malloc(sample_capacity * sizeof *latencies);
    size_t samples = 0;
    long errors = 0;
    uint8_t frame[512];
    for (int i = 0; i < connections; i++) {
        all[i].fd = connect_to(path);
        all[i].next_id = 1;
        all[i].sent_capacity = forever ? (size_t)depth * 4 + 1 : (size_t)calls + 1;
        all[i].sent_at = calloc(all[i].sent_capacity, sizeof(double));
        all[i].buffer = malloc(1 << 20);
        polls[i].fd = all[i].fd;
        polls[i].events = POLLIN;
    }
    double start = now_us();
    int ready_said = 0;
    int open = connections;
    while (open > 0 && !stopping) {
        for (int i = 0; i < connections; i++) {
            Connection *c = &all[i];
            if (c->fd < 0) continue;
            // Top up to DEPTH in flight, in one write.
            uint8_t batch[64 * 1024];
            size_t batched = 0;
            while (c->in_flight < (uint64_t)depth && (forever || c->next_id <= (uint64_t)calls) && batched + sizeof frame < sizeof batch) {
                size_t n = request_frame(frame, c->next_id, method);
                c->sent_at[c->next_id % c->sent_capacity] = now_us();
                memcpy(batch + batched, frame, n);
                batched += n;
                c->next_id++;
                c->in_flight++;
            }
            if (batched) write_all(c->fd, batch, batched);
        }
        if (forever && !ready_said) { printf("ready\n"); fflush(stdout); ready_said = 1; }
        if (poll(polls, (nfds_t)connections, 1000) < 0) { if (errno == EINTR) continue; die("poll"); }
        for (int i = 0; i < connections; i++) {
            Connection *c = &all[i];
            if (c->fd < 0 || !(polls[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            ssize_t got = read(c->fd, c->buffer + c->held, (1 << 20) - c->held);
            if (got <= 0) { fprintf(stderr, "framebench: connection %d closed by the server\n", i); return 3; }
            c->held += (size_t)got;
            size_t used = 0;
            double now = now_us();
            while (c->held - used >= 4) {
                const uint8_t *h = c->buffer + used;
                uint32_t length = (uint32_t)h[0] << 24 | h[1] << 16 | h[2] << 8 | h[3];
                if (c->held - used < 4 + length) break;
                uint64_t call_id, code;
                if (!parse_response(h + 4, length, echo, &call_id, &code) || call_id == 0) errors++;
                else {
                    if (code != 0) errors++;
                    if (!forever) latencies[samples++] = now - c->sent_at[call_id % c->sent_capacity];
                }
                used += 4 + length;
                c->in_flight--;
                c->answered++;
            }
            memmove(c->buffer, c->buffer + used, c->held - used);
            c->held -= used;
            if (!forever && c->answered >= (uint64_t)calls) { close(c->fd); c->fd = -1; polls[i].fd = -1; open--; }
        }
    }
    double seconds = (now_us() - start) / 1e6;
    if (forever) return 0;
    qsort(latencies, samples, sizeof *latencies, compare_doubles);
    double p50 = samples ? latencies[samples / 2] : 0, p99 = samples ? latencies[(size_t)(samples * 0.99)] : 0;
    printf("calls=%zu seconds=%.4f p50_us=%.1f p99_us=%.1f errors=%ld\n", samples, seconds, p50, p99, errors);
    return errors ? 1 : 0;
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "echo") == 0) return echo_server(argv[2]);
    if (argc >= 7 && strcmp(argv[1], "call") == 0) {
        int echo = 0, forever = 0;
        for (int i = 7; i < argc; i++) {
            if (strcmp(argv[i], "--echo") == 0) echo = 1;
            else if (strcmp(argv[i], "--forever") == 0) forever = 1;
        }
        return client(argv[2], argv[3], atoi(argv[4]), atoi(argv[5]), atol(argv[6]), echo, forever);
    }
    fprintf(stderr, "usage: framebench echo PATH | framebench call PATH METHOD CONNECTIONS DEPTH CALLS [--echo] [--forever]\n");
    return 64;
}
