#include "amqp_client.h"

#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct warren_amqp {
    amqp_connection_state_t conn;
    int broken; /* the connection or channel failed: no polite close */
};

static const amqp_channel_t channel = 1;

static struct timeval timeval_ms(int ms) {
    struct timeval tv;
    tv.tv_sec = ms / 1000;
    tv.tv_usec = (ms % 1000) * 1000;
    return tv;
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* 1 when the reply is normal; otherwise 0 and a message (never the credentials) in `error`. */
static int reply_ok(amqp_rpc_reply_t r, const char *what, char *error, size_t size) {
    switch (r.reply_type) {
    case AMQP_RESPONSE_NORMAL:
        return 1;
    case AMQP_RESPONSE_NONE:
        snprintf(error, size, "%s: no reply", what);
        break;
    case AMQP_RESPONSE_LIBRARY_EXCEPTION:
        snprintf(error, size, "%s: %s", what, amqp_error_string2(r.library_error));
        break;
    case AMQP_RESPONSE_SERVER_EXCEPTION:
        if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
            amqp_connection_close_t *m = (amqp_connection_close_t *)r.reply.decoded;
            snprintf(error, size, "%s: the broker closed the connection: %u %.*s", what, m->reply_code,
                     (int)m->reply_text.len, (const char *)m->reply_text.bytes);
        } else if (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
            amqp_channel_close_t *m = (amqp_channel_close_t *)r.reply.decoded;
            snprintf(error, size, "%s: the broker closed the channel: %u %.*s", what, m->reply_code,
                     (int)m->reply_text.len, (const char *)m->reply_text.bytes);
        } else {
            snprintf(error, size, "%s: unexpected broker method 0x%08x", what, r.reply.id);
        }
        break;
    }
    return 0;
}

warren_amqp *warren_amqp_connect(const char *host, int port, const char *user, const char *password,
                                 int confirms, int timeout_ms, char *error, size_t error_size) {
    warren_amqp *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(error, error_size, "out of memory");
        return NULL;
    }
    c->conn = amqp_new_connection();
    amqp_socket_t *socket = c->conn ? amqp_tcp_socket_new(c->conn) : NULL;
    if (!socket) {
        snprintf(error, error_size, "cannot create an AMQP connection");
        if (c->conn) amqp_destroy_connection(c->conn);
        free(c);
        return NULL;
    }
    struct timeval tv = timeval_ms(timeout_ms);
    int status = amqp_socket_open_noblock(socket, host, port, &tv);
    if (status != AMQP_STATUS_OK) {
        snprintf(error, error_size, "cannot connect to %s:%d: %s", host, port, amqp_error_string2(status));
        amqp_destroy_connection(c->conn);
        free(c);
        return NULL;
    }
    amqp_set_handshake_timeout(c->conn, &tv);
    amqp_set_rpc_timeout(c->conn, &tv);
    c->broken = 1;
    if (!reply_ok(amqp_login(c->conn, "/", 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, user, password), "login", error, error_size))
        goto fail;
    c->broken = 0;
    amqp_channel_open(c->conn, channel);
    if (!reply_ok(amqp_get_rpc_reply(c->conn), "channel.open", error, error_size)) goto fail;
    if (confirms) {
        amqp_confirm_select(c->conn, channel);
        if (!reply_ok(amqp_get_rpc_reply(c->conn), "confirm.select", error, error_size)) goto fail;
    }
    return c;
fail:
    c->broken = 1;
    warren_amqp_close(c);
    return NULL;
}

int warren_amqp_declare_quorum(warren_amqp *c, const char *queue, char *error, size_t error_size) {
    amqp_table_entry_t type;
    type.key = amqp_cstring_bytes("x-queue-type");
    type.value.kind = AMQP_FIELD_KIND_UTF8;
    type.value.value.bytes = amqp_cstring_bytes("quorum");
    amqp_table_t arguments = {1, &type};
    amqp_queue_declare(c->conn, channel, amqp_cstring_bytes(queue), 0, 1, 0, 0, arguments);
    if (!reply_ok(amqp_get_rpc_reply(c->conn), "queue.declare", error, error_size)) {
        c->broken = 1;
        return -1;
    }
    return 0;
}

int warren_amqp_publish(warren_amqp *c, const char *queue, const void *body, size_t length) {
    amqp_basic_properties_t properties;
    memset(&properties, 0, sizeof properties);
    properties._flags = AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_CONTENT_TYPE_FLAG;
    properties.delivery_mode = 2; /* persistent */
    properties.content_type = amqp_cstring_bytes("text/plain");
    amqp_bytes_t bytes = {length, (void *)body};
    /* mandatory: a message no queue takes comes back (basic.return) instead of vanishing */
    int status = amqp_basic_publish(c->conn, channel, amqp_empty_bytes, amqp_cstring_bytes(queue), 1, 0, &properties, bytes);
    if (status != AMQP_STATUS_OK) c->broken = 1;
    return status == AMQP_STATUS_OK ? 0 : -1;
}

int warren_amqp_wait_confirm(warren_amqp *c, int timeout_ms, uint64_t *tag, int *multiple) {
    double deadline = now_ms() + timeout_ms;
    int returned = 0;
    for (;;) {
        double left = deadline - now_ms();
        if (left <= 0) return 0;
        struct timeval tv = timeval_ms((int)left + 1);
        amqp_frame_t frame;
        amqp_maybe_release_buffers(c->conn);
        int status = amqp_simple_wait_frame_noblock(c->conn, &frame, &tv);
        if (status == AMQP_STATUS_TIMEOUT) return 0;
        if (status != AMQP_STATUS_OK) {
            c->broken = 1;
            return -1;
        }
        if (frame.frame_type != AMQP_FRAME_METHOD) continue;
        switch (frame.payload.method.id) {
        case AMQP_BASIC_ACK_METHOD: {
            amqp_basic_ack_t *ack = (amqp_basic_ack_t *)frame.payload.method.decoded;
            *tag = ack->delivery_tag;
            *multiple = ack->multiple;
            /* an ack after a return: routed nowhere, so not taken by the queue */
            return returned ? 2 : 1;
        }
        case AMQP_BASIC_NACK_METHOD: {
            amqp_basic_nack_t *nack = (amqp_basic_nack_t *)frame.payload.method.decoded;
            *tag = nack->delivery_tag;
            *multiple = nack->multiple;
            return 2;
        }
        case AMQP_BASIC_RETURN_METHOD: {
            amqp_message_t message;
            if (amqp_read_message(c->conn, frame.channel, &message, 0).reply_type != AMQP_RESPONSE_NORMAL) {
                c->broken = 1;
                return -1;
            }
            amqp_destroy_message(&message);
            returned = 1;
            continue;
        }
        case AMQP_CHANNEL_CLOSE_METHOD:
        case AMQP_CONNECTION_CLOSE_METHOD:
            c->broken = 1;
            return -1;
        default:
            continue;
        }
    }
}

int warren_amqp_get(warren_amqp *c, const char *queue, void *body, size_t capacity, size_t *length, uint64_t *tag) {
    amqp_maybe_release_buffers(c->conn);
    amqp_rpc_reply_t r = amqp_basic_get(c->conn, channel, amqp_cstring_bytes(queue), 0);
    if (r.reply_type != AMQP_RESPONSE_NORMAL) {
        c->broken = 1;
        return -1;
    }
    if (r.reply.id == AMQP_BASIC_GET_EMPTY_METHOD) return 0;
    *tag = ((amqp_basic_get_ok_t *)r.reply.decoded)->delivery_tag;
    amqp_message_t message;
    if (amqp_read_message(c->conn, channel, &message, 0).reply_type != AMQP_RESPONSE_NORMAL) {
        c->broken = 1;
        return -1;
    }
    size_t n = message.body.len < capacity ? message.body.len : capacity;
    memcpy(body, message.body.bytes, n);
    *length = n;
    amqp_destroy_message(&message);
    return 1;
}

int warren_amqp_ack(warren_amqp *c, uint64_t tag) {
    if (amqp_basic_ack(c->conn, channel, tag, 0) != AMQP_STATUS_OK) {
        c->broken = 1;
        return -1;
    }
    return 0;
}

void warren_amqp_close(warren_amqp *c) {
    if (!c) return;
    if (!c->broken) {
        struct timeval tv = timeval_ms(1000);
        amqp_set_rpc_timeout(c->conn, &tv);
        amqp_channel_close(c->conn, channel, AMQP_REPLY_SUCCESS);
        amqp_connection_close(c->conn, AMQP_REPLY_SUCCESS);
    }
    amqp_destroy_connection(c->conn);
    free(c);
}
