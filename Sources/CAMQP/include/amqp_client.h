// A small AMQP 0-9-1 client over librabbitmq for warren's canary traffic: one connection, one
// channel, publisher confirms. (librabbitmq's login is variadic, which Swift cannot call.)
#ifndef WARREN_AMQP_CLIENT_H
#define WARREN_AMQP_CLIENT_H

#include <stddef.h>
#include <stdint.h>

typedef struct warren_amqp warren_amqp;

/// Connects, logs in (PLAIN) to vhost "/", opens channel 1 and, with `confirms`, puts it in
/// confirm mode. Returns NULL and a message in `error` on failure. Every step is time-boxed.
warren_amqp *warren_amqp_connect(const char *host, int port, const char *user, const char *password,
                                 int confirms, int timeout_ms, char *error, size_t error_size);

/// Declares a durable quorum queue (x-queue-type = quorum). 0 on success.
int warren_amqp_declare_quorum(warren_amqp *c, const char *queue, char *error, size_t error_size);

/// Publishes a persistent message to the default exchange, routed to `queue`. 0 on success.
int warren_amqp_publish(warren_amqp *c, const char *queue, const void *body, size_t length);

/// Waits up to `timeout_ms` for the broker's answer to a publish: 1 ack, 2 nack, 0 nothing in
/// time, -1 the connection or channel failed. `tag` and `multiple` describe what is answered.
int warren_amqp_wait_confirm(warren_amqp *c, int timeout_ms, uint64_t *tag, int *multiple);

/// basic.get from `queue`: 1 a message (its body copied into `body`, at most `capacity` bytes,
/// its length in `length`, its delivery tag in `tag`), 0 the queue is empty, -1 failure.
int warren_amqp_get(warren_amqp *c, const char *queue, void *body, size_t capacity, size_t *length, uint64_t *tag);

/// Acknowledges a delivery. 0 on success.
int warren_amqp_ack(warren_amqp *c, uint64_t tag);

/// Closes the channel and connection (politely when they are still open) and frees everything.
void warren_amqp_close(warren_amqp *c);

#endif
