/* The C client of ozmapd: framing and envelopes of docs/PROTOCOL.md on libprotobuf-c. */
#define _GNU_SOURCE
#include "ozmap.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define OZMAP_MAX_FRAME (64u * 1024u * 1024u)
#define OZMAP_CLIENT_DEFAULT_MS 35000u

struct ozmap_conn {
    int fd;
    uint64_t next_call_id;
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

static const char *const status_names[] = {
    "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
    "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",
    "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
};

const char *ozmap_status_name(int status) {
    if (status < 0 || status > OZMAP_UNAUTHENTICATED) return "UNKNOWN";
    return status_names[status];
}

static void set_message(char **message, const char *format, ...) __attribute__((format(printf, 2, 3)));
static void set_message(char **message, const char *format, ...) {
    if (message == NULL) return;
    va_list arguments;
    va_start(arguments, format);
    if (vasprintf(message, format, arguments) < 0) *message = NULL;
    va_end(arguments);
}

static int open_socket(const char *path) {
    struct sockaddr_un address;
    memset(&address, 0, sizeof address);
    address.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof address.sun_path) { errno = ENAMETOOLONG; return -1; }
    strcpy(address.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    if (connect(fd, (struct sockaddr *)&address, sizeof address) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

ozmap_conn *ozmap_connect(const char *path) {
    if (path == NULL || path[0] == '\0') path = getenv("OZMAPD_SOCKET");
    if (path == NULL || path[0] == '\0') path = OZMAP_DEFAULT_SOCKET;
    ozmap_conn *conn = calloc(1, sizeof *conn);
    if (conn == NULL) return NULL;
    if (strlen(path) >= sizeof conn->path) { free(conn); errno = ENAMETOOLONG; return NULL; }
    strcpy(conn->path, path);
    conn->next_call_id = 1;
    conn->fd = open_socket(path);
    if (conn->fd < 0) { int saved = errno; free(conn); errno = saved; return NULL; }
    return conn;
}

static void drop_connection(ozmap_conn *conn) {
    if (conn->fd >= 0) close(conn->fd);
    conn->fd = -1;
}

void ozmap_close(ozmap_conn *conn) {
    if (conn == NULL) return;
    drop_connection(conn);
    free(conn);
}

void ozmap_free(void *response) {
    if (response != NULL) protobuf_c_message_free_unpacked((ProtobufCMessage *)response, NULL);
}

static int64_t now_ms(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/* True when ozmapd has closed the connection (readable with EOF or an error) — checked before sending. */
static int closed_by_peer(int fd) {
    struct pollfd descriptor = { .fd = fd, .events = POLLIN };
    if (poll(&descriptor, 1, 0) <= 0) return 0;
    if (descriptor.revents & (POLLHUP | POLLERR | POLLNVAL)) return 1;
    char byte;
    ssize_t n = recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

/* 0 on success, -1 on error (errno), -2 when the deadline passed. */
static int write_all(int fd, const uint8_t *bytes, size_t length, int64_t deadline) {
    while (length > 0) {
        int64_t left = deadline - now_ms();
        if (left <= 0) return -2;
        struct pollfd descriptor = { .fd = fd, .events = POLLOUT };
        int ready = poll(&descriptor, 1, (int)(left > 60000 ? 60000 : left));
        if (ready < 0) { if (errno == EINTR) continue; return -1; }
        if (ready == 0) continue;
        ssize_t n = send(fd, bytes, length, MSG_NOSIGNAL);
        if (n < 0) { if (errno == EINTR || errno == EAGAIN) continue; return -1; }
        bytes += n;
        length -= (size_t)n;
    }
    return 0;
}

/* 0 on success, -1 on error (errno; 0 for end of stream), -2 when the deadline passed. */
static int read_all(int fd, uint8_t *bytes, size_t length, int64_t deadline) {
    while (length > 0) {
        int64_t left = deadline - now_ms();
        if (left <= 0) return -2;
        struct pollfd descriptor = { .fd = fd, .events = POLLIN };
        int ready = poll(&descriptor, 1, (int)(left > 60000 ? 60000 : left));
        if (ready < 0) { if (errno == EINTR) continue; return -1; }
        if (ready == 0) continue;
        ssize_t n = recv(fd, bytes, length, 0);
        if (n == 0) { errno = 0; return -1; }
        if (n < 0) { if (errno == EINTR || errno == EAGAIN) continue; return -1; }
        bytes += n;
        length -= (size_t)n;
    }
    return 0;
}

/* The status message with its field violations: "message (field: description; ...)". */
static void status_message(const Archolt__Ozmap__V1__Status *status, char **message) {
    if (message == NULL) return;
    size_t length = strlen(status->message) + 4;
    for (size_t i = 0; i < status->n_violations; i++)
        length += strlen(status->violations[i]->field) + strlen(status->violations[i]->description) + 4;
    char *text = malloc(length);
    if (text == NULL) { *message = NULL; return; }
    strcpy(text, status->message);
    for (size_t i = 0; i < status->n_violations; i++) {
        strcat(text, i == 0 ? " (" : "; ");
        strcat(text, status->violations[i]->field);
        strcat(text, ": ");
        strcat(text, status->violations[i]->description);
        if (i + 1 == status->n_violations) strcat(text, ")");
    }
    *message = text;
}

ProtobufCMessage *ozmap_call(ozmap_conn *conn, const char *method, const ProtobufCMessage *request,
                             const ProtobufCMessageDescriptor *response_descriptor, uint32_t deadline_ms,
                             int *status, char **message) {
    int ignored_status;
    if (status == NULL) status = &ignored_status;
    if (message != NULL) *message = NULL;
    if (conn == NULL || method == NULL || method[0] == '\0' || response_descriptor == NULL) {
        *status = OZMAP_INVALID_ARGUMENT;
        set_message(message, "ozmap_call: a connection, a method and a response descriptor are required");
        return NULL;
    }
    int64_t deadline = now_ms() + (deadline_ms == 0 ? OZMAP_CLIENT_DEFAULT_MS : deadline_ms);

    /* A connection ozmapd closed (idle timeout, restart): connect again, once, before sending. */
    if (conn->fd >= 0 && closed_by_peer(conn->fd)) drop_connection(conn);
    if (conn->fd < 0) {
        conn->fd = open_socket(conn->path);
        if (conn->fd < 0) {
            *status = OZMAP_UNAVAILABLE;
            set_message(message, "cannot connect to ozmapd at %s: %s", conn->path, strerror(errno));
            return NULL;
        }
    }

    char *path = NULL;
    if (method[0] == '/') path = strdup(method);
    else if (asprintf(&path, "%s%s", OZMAP_SERVICE_PATH, method) < 0) path = NULL;
    if (path == NULL) { *status = OZMAP_INTERNAL; set_message(message, "out of memory"); return NULL; }

    Archolt__Ozmap__V1__RequestEnvelope envelope = ARCHOLT__OZMAP__V1__REQUEST_ENVELOPE__INIT;
    envelope.call_id = conn->next_call_id++;
    envelope.method = path;
    envelope.timeout_ms = deadline_ms;
    uint8_t *payload = NULL;
    if (request != NULL) {
        size_t size = protobuf_c_message_get_packed_size(request);
        payload = malloc(size > 0 ? size : 1);
        if (payload == NULL) { free(path); *status = OZMAP_INTERNAL; set_message(message, "out of memory"); return NULL; }
        envelope.payload.len = protobuf_c_message_pack(request, payload);
        envelope.payload.data = payload;
    }
    size_t size = archolt__ozmap__v1__request_envelope__get_packed_size(&envelope);
    uint8_t *frame = malloc(size + 4);
    if (frame == NULL) { free(path); free(payload); *status = OZMAP_INTERNAL; set_message(message, "out of memory"); return NULL; }
    archolt__ozmap__v1__request_envelope__pack(&envelope, frame + 4);
    frame[0] = (uint8_t)(size >> 24); frame[1] = (uint8_t)(size >> 16);
    frame[2] = (uint8_t)(size >> 8); frame[3] = (uint8_t)size;
    uint64_t call_id = envelope.call_id;
    free(path);
    free(payload);

    int written = write_all(conn->fd, frame, size + 4, deadline);
    free(frame);
    if (written != 0) {
        /* Part of a frame may be on the wire: the connection cannot carry another call. */
        int saved = errno;
        drop_connection(conn);
        *status = written == -2 ? OZMAP_DEADLINE_EXCEEDED : OZMAP_UNAVAILABLE;
        if (written == -2) set_message(message, "no answer from ozmapd within %u ms", (unsigned)(deadline_ms ? deadline_ms : OZMAP_CLIENT_DEFAULT_MS));
        else set_message(message, "cannot write to ozmapd: %s", strerror(saved));
        return NULL;
    }

    for (;;) {
        uint8_t header[4];
        int got = read_all(conn->fd, header, 4, deadline);
        uint32_t length = 0;
        uint8_t *body = NULL;
        if (got == 0) {
            length = (uint32_t)header[0] << 24 | (uint32_t)header[1] << 16 | (uint32_t)header[2] << 8 | header[3];
            if (length > OZMAP_MAX_FRAME) {
                drop_connection(conn);
                *status = OZMAP_INTERNAL;
                set_message(message, "ozmapd sent a frame of %u bytes", (unsigned)length);
                return NULL;
            }
            body = malloc(length > 0 ? length : 1);
            if (body == NULL) { drop_connection(conn); *status = OZMAP_INTERNAL; set_message(message, "out of memory"); return NULL; }
            got = read_all(conn->fd, body, length, deadline);
        }
        if (got != 0) {
            int saved = errno;
            free(body);
            /* A late answer would arrive in the middle of the next call: start afresh. */
            drop_connection(conn);
            if (got == -2) {
                *status = OZMAP_DEADLINE_EXCEEDED;
                set_message(message, "no answer from ozmapd within %u ms", (unsigned)(deadline_ms ? deadline_ms : OZMAP_CLIENT_DEFAULT_MS));
            } else {
                *status = OZMAP_UNAVAILABLE;
                set_message(message, "ozmapd closed the connection%s%s", saved ? ": " : "", saved ? strerror(saved) : "");
            }
            return NULL;
        }
        Archolt__Ozmap__V1__ResponseEnvelope *response = archolt__ozmap__v1__response_envelope__unpack(NULL, length, body);
        free(body);
        if (response == NULL) {
            drop_connection(conn);
            *status = OZMAP_INTERNAL;
            set_message(message, "ozmapd sent a frame that is not a ResponseEnvelope");
            return NULL;
        }
        if (response->call_id != call_id && response->call_id != 0) {
            /* The late answer to a call given up on: ignore it. */
            archolt__ozmap__v1__response_envelope__free_unpacked(response, NULL);
            continue;
        }
        int code = response->status != NULL ? response->status->code : 0;
        if (response->call_id == 0 && code == 0) code = OZMAP_UNKNOWN;
        if (code != 0) {
            *status = code;
            if (response->status != NULL) status_message(response->status, message);
            else set_message(message, "connection error");
            /* A connection-level error: ozmapd closes the connection after it. */
            if (response->call_id == 0) drop_connection(conn);
            archolt__ozmap__v1__response_envelope__free_unpacked(response, NULL);
            return NULL;
        }
        ProtobufCMessage *decoded = protobuf_c_message_unpack(response_descriptor, NULL, response->payload.len, response->payload.data);
        archolt__ozmap__v1__response_envelope__free_unpacked(response, NULL);
        if (decoded == NULL) {
            *status = OZMAP_INTERNAL;
            set_message(message, "the response to %s is not a %s", method, response_descriptor->name);
            return NULL;
        }
        *status = OZMAP_OK;
        return decoded;
    }
}

static int typed_call(ozmap_conn *conn, const char *method, const ProtobufCMessage *request,
                      const ProtobufCMessageDescriptor *descriptor, uint32_t deadline_ms, void **response, char **message) {
    int status = OZMAP_INTERNAL;
    ProtobufCMessage *result = ozmap_call(conn, method, request, descriptor, deadline_ms, &status, message);
    if (response != NULL) *response = result;
    else ozmap_free(result);
    return status;
}

/* protoc-c declares string fields `char *`; the requests are only read. */
#define MUTABLE(text) ((char *)((text) != NULL ? (text) : ""))

int ozmap_get_status(ozmap_conn *conn, uint32_t deadline_ms,
                     Archolt__Ozmap__V1__GetStatusResponse **response, char **message) {
    Archolt__Ozmap__V1__GetStatusRequest request = ARCHOLT__OZMAP__V1__GET_STATUS_REQUEST__INIT;
    return typed_call(conn, "GetStatus", &request.base, &archolt__ozmap__v1__get_status_response__descriptor,
                      deadline_ms, (void **)response, message);
}

int ozmap_link_olt(ozmap_conn *conn, const char *archolt_olt_id, const char *ozmap_olt_id,
                   int require_cto_on_activation, uint32_t deadline_ms,
                   Archolt__Ozmap__V1__LinkOLTResponse **response, char **message) {
    Archolt__Ozmap__V1__LinkOLTRequest request = ARCHOLT__OZMAP__V1__LINK_OLTREQUEST__INIT;
    request.archolt_olt_id = MUTABLE(archolt_olt_id);
    request.ozmap_olt_id = MUTABLE(ozmap_olt_id);
    request.require_cto_on_activation = require_cto_on_activation != 0;
    return typed_call(conn, "LinkOLT", &request.base, &archolt__ozmap__v1__link_oltresponse__descriptor,
                      deadline_ms, (void **)response, message);
}

int ozmap_list_boxes(ozmap_conn *conn, const Archolt__Ozmap__V1__ListBoxesRequest *request, uint32_t deadline_ms,
                     Archolt__Ozmap__V1__ListBoxesResponse **response, char **message) {
    return typed_call(conn, "ListBoxes", request != NULL ? &request->base : NULL,
                      &archolt__ozmap__v1__list_boxes_response__descriptor, deadline_ms, (void **)response, message);
}

int ozmap_provision_onu(ozmap_conn *conn, const Archolt__Ozmap__V1__ProvisionONURequest *request, uint32_t deadline_ms,
                        Archolt__Ozmap__V1__ProvisionONUResponse **response, char **message) {
    return typed_call(conn, "ProvisionONU", request != NULL ? &request->base : NULL,
                      &archolt__ozmap__v1__provision_onuresponse__descriptor, deadline_ms, (void **)response, message);
}

int ozmap_assign_cto(ozmap_conn *conn, const char *onu_id, const char *cto, uint32_t deadline_ms,
                     Archolt__Ozmap__V1__AssignCTOResponse **response, char **message) {
    Archolt__Ozmap__V1__AssignCTORequest request = ARCHOLT__OZMAP__V1__ASSIGN_CTOREQUEST__INIT;
    request.onu_id = MUTABLE(onu_id);
    request.cto = MUTABLE(cto);
    return typed_call(conn, "AssignCTO", &request.base, &archolt__ozmap__v1__assign_ctoresponse__descriptor,
                      deadline_ms, (void **)response, message);
}

int ozmap_deprovision_onu(ozmap_conn *conn, const char *onu_id, uint32_t deadline_ms,
                          Archolt__Ozmap__V1__DeprovisionONUResponse **response, char **message) {
    Archolt__Ozmap__V1__DeprovisionONURequest request = ARCHOLT__OZMAP__V1__DEPROVISION_ONUREQUEST__INIT;
    request.onu_id = MUTABLE(onu_id);
    return typed_call(conn, "DeprovisionONU", &request.base, &archolt__ozmap__v1__deprovision_onuresponse__descriptor,
                      deadline_ms, (void **)response, message);
}

int ozmap_get_onu(ozmap_conn *conn, const char *onu_id, uint32_t deadline_ms,
                  Archolt__Ozmap__V1__ONU **response, char **message) {
    Archolt__Ozmap__V1__GetONURequest request = ARCHOLT__OZMAP__V1__GET_ONUREQUEST__INIT;
    request.onu_id = MUTABLE(onu_id);
    return typed_call(conn, "GetONU", &request.base, &archolt__ozmap__v1__onu__descriptor,
                      deadline_ms, (void **)response, message);
}
