/* sim_stream.h - the sim driver's live-migration stream: what travels inside the
 * migration channel in place of Xen's save stream.
 *
 * Byte layout (all integers big-endian):
 *   magic   "VMCSIM01" (8 bytes)
 *   frames  type (1 byte) | length (4) | payload (length bytes) | check (4)
 *           where check is FNV-1a 32 over type, length and payload.
 *   'H'     header: the VM's sim record (JSON text, at most SIM_STREAM_HEADER_MAX)
 *   'P'     plan: rounds n (1 byte, 1..SIM_ROUNDS_MAX), then n x wire bytes (8 each)
 *   'D'     data: round (1 byte), then up to SIM_STREAM_CHUNK bytes of memory;
 *           rounds in order, each exactly as long as the plan says
 *   'E'     end: rounds (1 byte), total wire bytes (8), then a trailer (JSON text:
 *           the VM's CPU accumulators at the moment it was suspended)
 * The stream ends with the 'E' frame, so the channel can carry more after it;
 * the receiver never reads a byte past it. Anything else - a wrong magic, an
 * unknown or oversized frame, a bad check, a round out of order or of the
 * wrong length, end of file - is an error naming what was wrong.
 *
 * The sender paces itself: round k's bytes take the round's virtual time
 * (sim_migrate_plan) on the agent's clock. */
#ifndef VMC_SIM_STREAM_H
#define VMC_SIM_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "../../../../lib/sim/sim_model.h"

struct vclock;

#define SIM_STREAM_MAGIC "VMCSIM01"
#define SIM_STREAM_HEADER_MAX (4u << 20) /* a record with a long trace */
#define SIM_STREAM_TRAILER_MAX (64u << 10)
#define SIM_STREAM_CHUNK (16u << 10)      /* wire bytes per data frame at most */
#define SIM_STREAM_CHUNK_MS 250.0         /* virtual ms per data frame at most */
#define SIM_STREAM_IDLE_MS 60000          /* real ms the receiver waits for a byte */
#define SIM_STREAM_WIRE_MAX (64ULL << 30) /* wire bytes per stream at most */

/* What a stream will carry: wire bytes and virtual time of each round. */
struct sim_stream_plan {
	int rounds;
	uint64_t wire[SIM_ROUNDS_MAX];
	double virt_ms[SIM_ROUNDS_MAX];
};

/* Wire plan of a model plan at a scale (model bytes per wire byte). */
void sim_stream_plan_from(struct sim_stream_plan *sp, const struct sim_migrate_plan *mp,
                          double scale);

struct sim_stream_hooks {
	void *ud;
	/* Before each round (last = stop-and-copy); -1 with err aborts the stream. */
	int (*round)(void *ud, int round, int last, char *err, size_t errlen);
	/* After each data frame, with the wire bytes sent so far; -1 with err aborts. */
	int (*chunk)(void *ud, int round, uint64_t wire_sent, char *err, size_t errlen);
	/* The trailer text for the end frame (malloc'ed), or NULL for "{}". */
	char *(*trailer)(void *ud);
};

/* Writes a whole stream to fd, paced on clock (NULL: real time). Returns 0, or -1 with
 * err saying what failed (a write error, a hook's refusal). Ignores SIGPIPE on sockets. */
int sim_stream_send(int fd, const char *header, const struct sim_stream_plan *plan,
                    const struct vclock *clock, const struct sim_stream_hooks *hooks, char *err,
                    size_t errlen);

/* What a receiver has read. */
struct sim_stream_rx {
	char *header;  /* NUL-terminated, malloc'ed */
	char *trailer; /* after sim_stream_recv_rest */
	struct sim_stream_plan plan;
	uint64_t wire_bytes; /* data bytes read */
};

/* Reads the magic, the header and the plan. Returns 0, or -1 with err. */
int sim_stream_recv_start(int fd, struct sim_stream_rx *rx, char *err, size_t errlen);
/* Reads the data and the end frame, checking them against the plan. Returns 0, or -1. */
int sim_stream_recv_rest(int fd, struct sim_stream_rx *rx, char *err, size_t errlen);
void sim_stream_rx_free(struct sim_stream_rx *rx);

#endif
