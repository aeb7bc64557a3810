/*
 * ozmap.h — the C client of ozmapd (docs/PROTOCOL.md, docs/CLIENTS.md).
 *
 * A connection carries one call at a time (calls on one connection are not
 * thread-safe: use one connection per thread). Messages are the protoc-c types
 * of proto/archolt/ozmap/v1/service.proto; responses are allocated by
 * libprotobuf-c and freed with ozmap_free(). Every call returns a status code
 * (gRPC numbering, enum ozmap_status) and, when it is not OZMAP_OK, sets
 * *message to a malloc'd explanation the caller frees with free().
 * message may be NULL when the caller does not want it.
 */
#ifndef OZMAP_CLIENT_H
#define OZMAP_CLIENT_H

#include <stdint.h>
#include <protobuf-c/protobuf-c.h>
#include "archolt/ozmap/v1/wire.pb-c.h"
#include "archolt/ozmap/v1/service.pb-c.h"

#ifdef __cplusplus
extern "C" {
#endif

#define OZMAP_DEFAULT_SOCKET "/run/ozmapd/ozmapd.sock"
#define OZMAP_SERVICE_PATH "/archolt.ozmap.v1.OZmapIntegration/"

enum ozmap_status {
    OZMAP_OK = 0,
    OZMAP_CANCELLED = 1,
    OZMAP_UNKNOWN = 2,
    OZMAP_INVALID_ARGUMENT = 3,
    OZMAP_DEADLINE_EXCEEDED = 4,
    OZMAP_NOT_FOUND = 5,
    OZMAP_ALREADY_EXISTS = 6,
    OZMAP_PERMISSION_DENIED = 7,
    OZMAP_RESOURCE_EXHAUSTED = 8,
    OZMAP_FAILED_PRECONDITION = 9,
    OZMAP_ABORTED = 10,
    OZMAP_OUT_OF_RANGE = 11,
    OZMAP_UNIMPLEMENTED = 12,
    OZMAP_INTERNAL = 13,
    OZMAP_UNAVAILABLE = 14,
    OZMAP_DATA_LOSS = 15,
    OZMAP_UNAUTHENTICATED = 16
};

/* The status code's name ("INVALID_ARGUMENT"); "UNKNOWN" for codes outside 0...16. */
const char *ozmap_status_name(int status);

typedef struct ozmap_conn ozmap_conn;

/*
 * Connects to ozmapd's socket (path NULL or "": $OZMAPD_SOCKET, else
 * OZMAP_DEFAULT_SOCKET). Returns NULL with errno set when it cannot.
 * A connection that ozmapd closed (idle timeout, restart) is opened again,
 * once, by the next call before it sends anything; a call already sent is
 * never repeated.
 */
ozmap_conn *ozmap_connect(const char *path);
void ozmap_close(ozmap_conn *conn);

/*
 * One call. method: a method name ("GetStatus") or its full path
 * ("/archolt.ozmap.v1.OZmapIntegration/GetStatus"). request: the request
 * message (NULL: an empty one). response_descriptor: the response type's
 * descriptor, e.g. &archolt__ozmap__v1__get_status_response__descriptor.
 * deadline_ms: sent as the envelope's timeout_ms and kept as the client's own
 * timer (0: the server's default, 30 s, and a client timer of 35 s); when it
 * runs out the call fails with OZMAP_DEADLINE_EXCEEDED and a late answer is
 * ignored.
 *
 * Returns the decoded response (free it with ozmap_free) and sets *status to
 * OZMAP_OK; or returns NULL, sets *status to the call's status and *message
 * to its explanation. Client-side failures: OZMAP_UNAVAILABLE (cannot connect,
 * connection closed), OZMAP_DEADLINE_EXCEEDED (client timer), OZMAP_INTERNAL
 * (undecodable response), OZMAP_INVALID_ARGUMENT (unencodable arguments).
 */
ProtobufCMessage *ozmap_call(ozmap_conn *conn, const char *method, const ProtobufCMessage *request,
                             const ProtobufCMessageDescriptor *response_descriptor, uint32_t deadline_ms,
                             int *status, char **message);

/* Frees a response returned by ozmap_call or a typed function (NULL is fine). */
void ozmap_free(void *response);

/*
 * Typed calls for the core RPCs. Each returns the status code; on OZMAP_OK
 * *response holds the answer (free it with ozmap_free), otherwise it is NULL
 * and *message (when message is not NULL) the explanation (free()).
 */
int ozmap_get_status(ozmap_conn *conn, uint32_t deadline_ms,
                     Archolt__Ozmap__V1__GetStatusResponse **response, char **message);

int ozmap_link_olt(ozmap_conn *conn, const char *archolt_olt_id, const char *ozmap_olt_id,
                   int require_cto_on_activation, uint32_t deadline_ms,
                   Archolt__Ozmap__V1__LinkOLTResponse **response, char **message);

/* request: initialise with ARCHOLT__OZMAP__V1__LIST_BOXES_REQUEST__INIT and set the fields wanted. */
int ozmap_list_boxes(ozmap_conn *conn, const Archolt__Ozmap__V1__ListBoxesRequest *request, uint32_t deadline_ms,
                     Archolt__Ozmap__V1__ListBoxesResponse **response, char **message);

/* request: initialise with ARCHOLT__OZMAP__V1__PROVISION_ONUREQUEST__INIT. */
int ozmap_provision_onu(ozmap_conn *conn, const Archolt__Ozmap__V1__ProvisionONURequest *request, uint32_t deadline_ms,
                        Archolt__Ozmap__V1__ProvisionONUResponse **response, char **message);

/* cto: a box name as people type it, or an OZmap box id. */
int ozmap_assign_cto(ozmap_conn *conn, const char *onu_id, const char *cto, uint32_t deadline_ms,
                     Archolt__Ozmap__V1__AssignCTOResponse **response, char **message);

int ozmap_deprovision_onu(ozmap_conn *conn, const char *onu_id, uint32_t deadline_ms,
                          Archolt__Ozmap__V1__DeprovisionONUResponse **response, char **message);

int ozmap_get_onu(ozmap_conn *conn, const char *onu_id, uint32_t deadline_ms,
                  Archolt__Ozmap__V1__ONU **response, char **message);

#ifdef __cplusplus
}
#endif

#endif /* OZMAP_CLIENT_H */
