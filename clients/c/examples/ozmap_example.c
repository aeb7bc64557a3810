/*
 * ozmap-example: provision an ONU at a CTO, move it to another, deprovision it.
 *
 *   ozmap-example SOCKET demo OLT ONU SERIAL CTO NEW_CTO   all three, in order
 *   ozmap-example SOCKET provision OLT ONU SERIAL CTO      one step each
 *   ozmap-example SOCKET assign ONU CTO
 *   ozmap-example SOCKET deprovision ONU
 *   ozmap-example SOCKET get ONU
 *   ozmap-example SOCKET status
 *
 * Prints one line per call; exits with the failed call's status code (0: all OK).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ozmap.h"

#define DEADLINE_MS 30000  /* ozmapd answers "pending" after outbox_wait_ms (10 s) at most */

static const char *state_name(Archolt__Ozmap__V1__ONUState state) {
    const ProtobufCEnumValue *value = protobuf_c_enum_descriptor_get_value(&archolt__ozmap__v1__onustate__descriptor, (int)state);
    return value != NULL ? value->name : "?";
}

static int failed(const char *what, int status, char *message) {
    fprintf(stderr, "%s: status %d %s: %s\n", what, status, ozmap_status_name(status), message ? message : "");
    free(message);
    return status;
}

static void print_onu(const char *what, const Archolt__Ozmap__V1__ONU *onu) {
    if (onu == NULL) { printf("%s: no ONU\n", what); return; }
    printf("%s: onu %s state %s cto %s (%s) ozmap client %s\n", what, onu->onu_id, state_name(onu->state),
           onu->cto_box_name, onu->cto_box_id, onu->ozmap_client_id);
}

static int provision(ozmap_conn *conn, const char *olt, const char *onu, const char *serial, const char *cto) {
    Archolt__Ozmap__V1__ProvisionONURequest request = ARCHOLT__OZMAP__V1__PROVISION_ONUREQUEST__INIT;
    request.archolt_olt_id = (char *)olt;
    request.onu_id = (char *)onu;
    request.serial_number = (char *)serial;
    request.cto = (char *)cto;
    request.implantation = ARCHOLT__OZMAP__V1__IMPLANTATION__IMPLANTATION_IMPLANTED;
    Archolt__Ozmap__V1__ProvisionONUResponse *response = NULL;
    char *message = NULL;
    int status = ozmap_provision_onu(conn, &request, DEADLINE_MS, &response, &message);
    if (status != OZMAP_OK) return failed("ProvisionONU", status, message);
    print_onu("provisioned", response->onu);
    ozmap_free(response);
    return 0;
}

static int assign(ozmap_conn *conn, const char *onu, const char *cto) {
    Archolt__Ozmap__V1__AssignCTOResponse *response = NULL;
    char *message = NULL;
    int status = ozmap_assign_cto(conn, onu, cto, DEADLINE_MS, &response, &message);
    if (status != OZMAP_OK) return failed("AssignCTO", status, message);
    print_onu("assigned", response->onu);
    ozmap_free(response);
    return 0;
}

static int deprovision(ozmap_conn *conn, const char *onu) {
    Archolt__Ozmap__V1__DeprovisionONUResponse *response = NULL;
    char *message = NULL;
    int status = ozmap_deprovision_onu(conn, onu, DEADLINE_MS, &response, &message);
    if (status != OZMAP_OK) return failed("DeprovisionONU", status, message);
    print_onu("deprovisioned", response->onu);
    ozmap_free(response);
    return 0;
}

static int get(ozmap_conn *conn, const char *onu_id) {
    Archolt__Ozmap__V1__ONU *onu = NULL;
    char *message = NULL;
    int status = ozmap_get_onu(conn, onu_id, DEADLINE_MS, &onu, &message);
    if (status != OZMAP_OK) return failed("GetONU", status, message);
    print_onu("onu", onu);
    ozmap_free(onu);
    return 0;
}

static int status(ozmap_conn *conn) {
    Archolt__Ozmap__V1__GetStatusResponse *response = NULL;
    char *message = NULL;
    int code = ozmap_get_status(conn, DEADLINE_MS, &response, &message);
    if (code != OZMAP_OK) return failed("GetStatus", code, message);
    printf("ozmapd %s, up %llu ms, %u boxes, credentials %s\n", response->version,
           (unsigned long long)response->uptime_ms, response->box_count, response->credentials_state);
    ozmap_free(response);
    return 0;
}

static int usage(void) {
    fprintf(stderr, "usage: ozmap-example SOCKET demo OLT ONU SERIAL CTO NEW_CTO\n"
                    "       ozmap-example SOCKET provision OLT ONU SERIAL CTO | assign ONU CTO | deprovision ONU | get ONU | status\n");
    return 2;
}

int main(int argc, char **argv) {
    if (argc < 3) return usage();
    const char *command = argv[2];
    int n = argc - 3;
    char **a = argv + 3;
    ozmap_conn *conn = ozmap_connect(argv[1]);
    if (conn == NULL) {
        perror("ozmap_connect");
        return OZMAP_UNAVAILABLE;
    }
    int result;
    if (strcmp(command, "demo") == 0 && n == 5) {
        result = provision(conn, a[0], a[1], a[2], a[3]);
        if (result == 0) result = assign(conn, a[1], a[4]);
        if (result == 0) result = deprovision(conn, a[1]);
    } else if (strcmp(command, "provision") == 0 && n == 4) result = provision(conn, a[0], a[1], a[2], a[3]);
    else if (strcmp(command, "assign") == 0 && n == 2) result = assign(conn, a[0], a[1]);
    else if (strcmp(command, "deprovision") == 0 && n == 1) result = deprovision(conn, a[0]);
    else if (strcmp(command, "get") == 0 && n == 1) result = get(conn, a[0]);
    else if (strcmp(command, "status") == 0 && n == 0) result = status(conn);
    else result = usage();
    ozmap_close(conn);
    return result;
}
