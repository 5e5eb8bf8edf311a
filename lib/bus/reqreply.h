/* reqreply.h - commands waiting for their one reply, by command id. Pure: no I/O and no
 * clock of its own (every time is the caller's, in milliseconds of any monotonic clock).
 *
 * A program publishes a command through its own bus, then adds its id here with a
 * deadline and a callback. Each request ends exactly once: with its reply, with a
 * timeout (reqreply_expire), or cancelled (at shutdown). Whatever comes after that, a
 * repeated or late reply, a reply with an id nobody waits for, or an id that is no id
 * (missing, not a string, empty, too long), is counted and never delivered.
 *
 * A callback may add new requests, and complete others (reqreply_cancel). */
#ifndef VMC_REQREPLY_H
#define VMC_REQREPLY_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

struct reqreply;

/* How a request ended. */
enum reqreply_end {
	REQREPLY_REPLIED,   /* its reply came (reply is the whole message) */
	REQREPLY_TIMED_OUT, /* its deadline passed first (reply is NULL) */
	REQREPLY_CANCELLED, /* reqreply_cancel or _cancel_all, e.g. at shutdown (reply NULL) */
};

/* What reqreply_reply did with a message. */
enum reqreply_match {
	REQREPLY_DELIVERED, /* to the request waiting for its id, which has now ended */
	REQREPLY_LATE,      /* its request has already ended: a repeated or late reply */
	REQREPLY_UNKNOWN,   /* no request of ours has that id (another's, or long gone) */
	REQREPLY_BAD_ID,    /* "id" is missing, not a string, empty or over VMC_ID_MAX */
};

/* Counts since reqreply_new. */
struct reqreply_stats {
	unsigned long added, replied, timed_out, cancelled;
	unsigned long late, unknown, bad_id; /* replies ignored, by reason */
};

/* Called once per request; reply is borrowed (valid during the call only). */
typedef void reqreply_fn(void *ud, const char *id, enum reqreply_end end, const cJSON *reply);
/* Called when the earliest deadline may have changed (see reqreply_watch). */
typedef void reqreply_watch_fn(struct reqreply *rr, void *ud);

struct reqreply *reqreply_new(void);
/* Cancels every request still waiting (their callbacks run), then frees. NULL is fine. */
void reqreply_free(struct reqreply *rr);

/* Waits for the reply to id until deadline_ms; fn (may be NULL) gets its end, with ud.
 * Returns 0, or -1 if id is empty, too long, already waiting, or out of memory (fn is
 * not called then). */
int reqreply_add(struct reqreply *rr, const char *id, int64_t deadline_ms, reqreply_fn *fn,
                 void *ud);

/* Matches a reply message by its "id" member and, if a request waits for it, ends that
 * request with this reply. Returns what it did (counted in the stats). */
enum reqreply_match reqreply_reply(struct reqreply *rr, const cJSON *reply);

/* Ends every request whose deadline is at or before now_ms, earliest first. Returns how
 * many. */
size_t reqreply_expire(struct reqreply *rr, int64_t now_ms);

/* Ends the request for id as cancelled. Returns 1 if it was waiting, else 0. */
int reqreply_cancel(struct reqreply *rr, const char *id);
/* Ends every waiting request as cancelled (also those their callbacks add meanwhile).
 * Returns how many. */
size_t reqreply_cancel_all(struct reqreply *rr);

/* The earliest deadline of the waiting requests into *deadline_ms: returns 1, or 0 when
 * nothing waits. */
int reqreply_next_deadline(const struct reqreply *rr, int64_t *deadline_ms);
size_t reqreply_pending(const struct reqreply *rr);
int reqreply_waiting(const struct reqreply *rr, const char *id);
const struct reqreply_stats *reqreply_stats(const struct reqreply *rr);
/* A new number for the caller's next command id (1, 2, ...). */
unsigned long reqreply_seq(struct reqreply *rr);
/* The name of a match for logs ("delivered", "late", "unknown", "bad id"). */
const char *reqreply_match_name(enum reqreply_match m);

/* Registers fn (NULL: none) to be called whenever a request is added or ended, so that a
 * caller's timer can follow reqreply_next_deadline (see reqreply_timer.h). */
void reqreply_watch(struct reqreply *rr, reqreply_watch_fn *fn, void *ud);

#endif
