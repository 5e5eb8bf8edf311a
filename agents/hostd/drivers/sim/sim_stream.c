/* sim_stream.c - the sim driver's migration stream: framing, pacing, verification. */
#include "sim_stream.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../../../../lib/core/evloop.h"
#include "../../../../lib/core/vclock.h"

#define FRAME_HEAD 5 /* type + length */
#define FRAME_TAIL 4 /* check */

/* --- bytes ---------------------------------------------------------------- */

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static void put64(unsigned char *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get64(const unsigned char *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

static uint32_t fnv1a(uint32_t h, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}
#define FNV_START 2166136261u

/* --- I/O ------------------------------------------------------------------ */

/* Waits up to ms for fd to be ready. Returns 1 ready, 0 timed out, -1 error. */
static int wait_fd(int fd, short events, int ms)
{
	struct pollfd p = {.fd = fd, .events = events};
	int r;

	do
		r = poll(&p, 1, ms);
	while (r < 0 && errno == EINTR);
	return r;
}

static int write_full(int fd, const void *buf, size_t len, char *err, size_t errlen)
{
	const unsigned char *p = buf;
	int use_send = 1;

	while (len > 0) {
		ssize_t n = use_send ? send(fd, p, len, MSG_NOSIGNAL) : write(fd, p, len);

		if (n < 0 && errno == ENOTSOCK && use_send) {
			use_send = 0;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (wait_fd(fd, POLLOUT, SIM_STREAM_IDLE_MS) <= 0) {
				snprintf(err, errlen, "migration stream: peer stopped reading");
				return -1;
			}
			continue;
		}
		if (n <= 0) {
			snprintf(err, errlen, "migration stream: write failed: %s",
			         n < 0 ? strerror(errno) : "nothing written");
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads exactly len bytes. what names them in errors. */
static int read_full(int fd, void *buf, size_t len, const char *what, char *err, size_t errlen)
{
	unsigned char *p = buf;
	size_t got = 0;

	while (got < len) {
		ssize_t n;
		int r = wait_fd(fd, POLLIN, SIM_STREAM_IDLE_MS);

		if (r == 0) {
			snprintf(err, errlen, "migration stream: nothing received for %d s in %s",
			         SIM_STREAM_IDLE_MS / 1000, what);
			return -1;
		}
		n = r < 0 ? -1 : read(fd, p + got, len - got);
		if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
			continue;
		if (n < 0) {
			snprintf(err, errlen, "migration stream: read failed in %s: %s", what,
			         strerror(errno));
			return -1;
		}
		if (n == 0) {
			snprintf(
			    err, errlen,
			    "migration stream truncated: it ended in %s after %zu of %zu bytes",
			    what, got, len);
			return -1;
		}
		got += (size_t)n;
	}
	return 0;
}

/* --- frames --------------------------------------------------------------- */

static int frame_write(int fd, char type, const unsigned char *a, size_t alen,
                       const unsigned char *b, size_t blen, char *err, size_t errlen)
{
	unsigned char head[FRAME_HEAD], tail[FRAME_TAIL];
	uint32_t h;

	head[0] = (unsigned char)type;
	put32(head + 1, (uint32_t)(alen + blen));
	h = fnv1a(FNV_START, head, sizeof(head));
	h = fnv1a(h, a, alen);
	h = fnv1a(h, b, blen);
	put32(tail, h);
	if (write_full(fd, head, sizeof(head), err, errlen) < 0 ||
	    (alen > 0 && write_full(fd, a, alen, err, errlen) < 0) ||
	    (blen > 0 && write_full(fd, b, blen, err, errlen) < 0) ||
	    write_full(fd, tail, sizeof(tail), err, errlen) < 0)
		return -1;
	return 0;
}

/* Frame types the receiver accepts, with their payload limits. */
static const struct frame_kind {
	char type;
	const char *name;
	uint32_t min, max;
} frame_kinds[] = {
    {'H', "the header", 1, SIM_STREAM_HEADER_MAX},
    {'P', "the plan", 1 + 8, 1 + 8 * SIM_ROUNDS_MAX},
    {'D', "a data frame", 2, 1 + SIM_STREAM_CHUNK},
    {'E', "the end frame", 1 + 8, 1 + 8 + SIM_STREAM_TRAILER_MAX},
};

static const struct frame_kind *frame_kind(char type)
{
	for (size_t i = 0; i < sizeof(frame_kinds) / sizeof(frame_kinds[0]); i++)
		if (frame_kinds[i].type == type)
			return &frame_kinds[i];
	return NULL;
}

/* Reads one frame into *buf (malloc'ed or grown, *cap its size); payload length in *len,
 * plus a NUL after it. Returns the frame's type, or -1 with err. */
static int frame_read(int fd, unsigned char **buf, size_t *cap, uint32_t *len, char *err,
                      size_t errlen)
{
	unsigned char head[FRAME_HEAD], tail[FRAME_TAIL];
	const struct frame_kind *k;

	if (read_full(fd, head, sizeof(head), "a frame header", err, errlen) < 0)
		return -1;
	k = frame_kind((char)head[0]);
	if (k == NULL) {
		snprintf(err, errlen, "migration stream: unknown frame type 0x%02x", head[0]);
		return -1;
	}
	*len = get32(head + 1);
	if (*len < k->min || *len > k->max) {
		snprintf(err, errlen, "migration stream: %s is %u bytes; expected %u to %u",
		         k->name, *len, k->min, k->max);
		return -1;
	}
	if (*cap < (size_t)*len + 1) {
		unsigned char *nb = realloc(*buf, (size_t)*len + 1);

		if (nb == NULL) {
			snprintf(err, errlen, "migration stream: out of memory for %s", k->name);
			return -1;
		}
		*buf = nb;
		*cap = (size_t)*len + 1;
	}
	if (read_full(fd, *buf, *len, k->name, err, errlen) < 0 ||
	    read_full(fd, tail, sizeof(tail), k->name, err, errlen) < 0)
		return -1;
	(*buf)[*len] = '\0';
	if (fnv1a(fnv1a(FNV_START, head, sizeof(head)), *buf, *len) != get32(tail)) {
		snprintf(err, errlen, "migration stream: %s fails its check (corrupted)", k->name);
		return -1;
	}
	return head[0];
}

/* --- sending -------------------------------------------------------------- */

void sim_stream_plan_from(struct sim_stream_plan *sp, const struct sim_migrate_plan *mp,
                          double scale)
{
	memset(sp, 0, sizeof(*sp));
	sp->rounds = mp->rounds;
	for (int k = 0; k < mp->rounds; k++) {
		sp->wire[k] = sim_wire_bytes(mp->bytes[k], scale);
		sp->virt_ms[k] = mp->round_ms[k];
	}
}

/* Memory contents: a cheap pseudo-random pattern, so nothing on the way can compress it. */
static void fill_pattern(unsigned char *p, size_t n, uint64_t *state)
{
	uint64_t x = *state;

	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (unsigned char)x;
	}
	*state = x;
}

/* Sleeps until real monotonic time `until` (ms). */
static void sleep_until(int64_t until)
{
	for (;;) {
		int64_t left = until - evloop_mono_ms();
		struct timespec ts;

		if (left <= 0)
			return;
		ts.tv_sec = left / 1000;
		ts.tv_nsec = (left % 1000) * 1000000;
		nanosleep(&ts, NULL);
	}
}

static int send_round(int fd, const struct sim_stream_plan *plan, int k, const struct vclock *clock,
                      int64_t start, double *virt_done, uint64_t *sent,
                      const struct sim_stream_hooks *hk, char *err, size_t errlen)
{
	unsigned char tag = (unsigned char)k, data[SIM_STREAM_CHUNK];
	uint64_t left = plan->wire[k], chunk, state = 0x9e3779b97f4a7c15ULL ^ (uint64_t)(k + 1);
	double ms_per_byte = plan->wire[k] > 0 ? plan->virt_ms[k] / (double)plan->wire[k] : 0;
	double scale = clock != NULL && clock->scale > 0 ? clock->scale : 1.0;

	chunk = SIM_STREAM_CHUNK;
	if (ms_per_byte > 0 && SIM_STREAM_CHUNK_MS / ms_per_byte < (double)chunk)
		chunk = (uint64_t)(SIM_STREAM_CHUNK_MS / ms_per_byte) + 1;
	while (left > 0) {
		size_t n = (size_t)(left < chunk ? left : chunk);

		fill_pattern(data, n, &state);
		if (frame_write(fd, 'D', &tag, 1, data, n, err, errlen) < 0)
			return -1;
		left -= n;
		*sent += n;
		*virt_done += ms_per_byte * (double)n;
		sleep_until(start + (int64_t)(*virt_done / scale));
		if (hk->chunk != NULL && hk->chunk(hk->ud, k, *sent, err, errlen) < 0)
			return -1;
	}
	if (plan->wire[k] == 0) { /* an empty round still takes its (tiny) time */
		*virt_done += plan->virt_ms[k];
		sleep_until(start + (int64_t)(*virt_done / scale));
	}
	return 0;
}

int sim_stream_send(int fd, const char *header, const struct sim_stream_plan *plan,
                    const struct vclock *clock, const struct sim_stream_hooks *hk, char *err,
                    size_t errlen)
{
	unsigned char pbuf[1 + 8 * SIM_ROUNDS_MAX], ebuf[1 + 8];
	uint64_t sent = 0, total = 0;
	double virt_done = 0;
	int64_t start;
	char *trailer;
	size_t hlen = strlen(header);
	int rc;

	if (plan->rounds < 1 || plan->rounds > SIM_ROUNDS_MAX || hlen == 0 ||
	    hlen > SIM_STREAM_HEADER_MAX) {
		snprintf(err, errlen, "migration stream: bad plan or header to send");
		return -1;
	}
	pbuf[0] = (unsigned char)plan->rounds;
	for (int k = 0; k < plan->rounds; k++) {
		put64(pbuf + 1 + 8 * k, plan->wire[k]);
		total += plan->wire[k];
	}
	if (total > SIM_STREAM_WIRE_MAX) {
		snprintf(err, errlen,
		         "migration stream: %llu wire bytes is too many; raise the "
		         "scale",
		         (unsigned long long)total);
		return -1;
	}
	if (write_full(fd, SIM_STREAM_MAGIC, 8, err, errlen) < 0 ||
	    frame_write(fd, 'H', (const unsigned char *)header, hlen, NULL, 0, err, errlen) < 0 ||
	    frame_write(fd, 'P', pbuf, 1 + 8 * (size_t)plan->rounds, NULL, 0, err, errlen) < 0)
		return -1;
	start = evloop_mono_ms();
	for (int k = 0; k < plan->rounds; k++) {
		int last = k == plan->rounds - 1;

		if (hk->round != NULL && hk->round(hk->ud, k, last, err, errlen) < 0)
			return -1;
		if (send_round(fd, plan, k, clock, start, &virt_done, &sent, hk, err, errlen) < 0)
			return -1;
	}
	trailer = hk->trailer != NULL ? hk->trailer(hk->ud) : NULL;
	if (trailer != NULL && strlen(trailer) > SIM_STREAM_TRAILER_MAX) {
		free(trailer);
		trailer = NULL;
	}
	ebuf[0] = (unsigned char)plan->rounds;
	put64(ebuf + 1, sent);
	rc = frame_write(fd, 'E', ebuf, sizeof(ebuf),
	                 (const unsigned char *)(trailer != NULL ? trailer : "{}"),
	                 trailer != NULL ? strlen(trailer) : 2, err, errlen);
	free(trailer);
	return rc;
}

/* --- receiving ------------------------------------------------------------ */

static int expect_frame(int fd, char want, unsigned char **buf, size_t *cap, uint32_t *len,
                        char *err, size_t errlen)
{
	int t = frame_read(fd, buf, cap, len, err, errlen);

	if (t < 0)
		return -1;
	if (t != want) {
		snprintf(err, errlen, "migration stream: expected %s, got %s",
		         frame_kind(want)->name, frame_kind((char)t)->name);
		return -1;
	}
	return 0;
}

int sim_stream_recv_start(int fd, struct sim_stream_rx *rx, char *err, size_t errlen)
{
	unsigned char magic[8], *buf = NULL;
	size_t cap = 0;
	uint32_t len;
	uint64_t total = 0;

	memset(rx, 0, sizeof(*rx));
	if (read_full(fd, magic, sizeof(magic), "the stream's magic", err, errlen) < 0)
		return -1;
	if (memcmp(magic, SIM_STREAM_MAGIC, 8) != 0) {
		snprintf(err, errlen, "migration stream: not a sim stream (bad magic)");
		return -1;
	}
	if (expect_frame(fd, 'H', &buf, &cap, &len, err, errlen) < 0)
		goto fail;
	if (strlen((char *)buf) != len) {
		snprintf(err, errlen, "migration stream: the header holds a NUL byte");
		goto fail;
	}
	rx->header = (char *)buf;
	buf = NULL;
	cap = 0;
	if (expect_frame(fd, 'P', &buf, &cap, &len, err, errlen) < 0)
		goto fail;
	rx->plan.rounds = buf[0];
	if (rx->plan.rounds < 1 || len != 1 + 8 * (uint32_t)rx->plan.rounds) {
		snprintf(err, errlen,
		         "migration stream: the plan's length does not match its %d "
		         "rounds",
		         rx->plan.rounds);
		goto fail;
	}
	for (int k = 0; k < rx->plan.rounds; k++) {
		rx->plan.wire[k] = get64(buf + 1 + 8 * k);
		if (rx->plan.wire[k] > SIM_STREAM_WIRE_MAX ||
		    (total += rx->plan.wire[k]) > SIM_STREAM_WIRE_MAX) {
			snprintf(err, errlen,
			         "migration stream: the plan announces more than %llu "
			         "bytes",
			         (unsigned long long)SIM_STREAM_WIRE_MAX);
			goto fail;
		}
	}
	free(buf);
	return 0;
fail:
	free(buf);
	sim_stream_rx_free(rx);
	return -1;
}

int sim_stream_recv_rest(int fd, struct sim_stream_rx *rx, char *err, size_t errlen)
{
	unsigned char *buf = NULL;
	size_t cap = 0;
	uint32_t len;
	uint64_t got = 0; /* in the current round */
	int k = 0, rc = -1;

	for (;;) {
		int t = frame_read(fd, &buf, &cap, &len, err, errlen);

		if (t < 0)
			goto out;
		if (t == 'E')
			break;
		if (t != 'D') {
			snprintf(err, errlen, "migration stream: %s in the middle of the data",
			         frame_kind((char)t)->name);
			goto out;
		}
		/* skip rounds that are complete (empty ones included) */
		while (k < rx->plan.rounds && got == rx->plan.wire[k] && buf[0] != k) {
			k++;
			got = 0;
		}
		if (k >= rx->plan.rounds || buf[0] != k) {
			snprintf(err, errlen,
			         "migration stream: data of round %d where round %d "
			         "(%llu of %llu bytes) was expected",
			         buf[0] + 1, k + 1, (unsigned long long)got,
			         k < rx->plan.rounds ? (unsigned long long)rx->plan.wire[k] : 0ULL);
			goto out;
		}
		if (got + (len - 1) > rx->plan.wire[k]) {
			snprintf(err, errlen,
			         "migration stream: round %d is longer than its %llu "
			         "bytes",
			         k + 1, (unsigned long long)rx->plan.wire[k]);
			goto out;
		}
		got += len - 1;
		rx->wire_bytes += len - 1;
	}
	while (k < rx->plan.rounds && got == rx->plan.wire[k]) {
		k++;
		got = 0;
	}
	if (k != rx->plan.rounds || buf[0] != rx->plan.rounds || get64(buf + 1) != rx->wire_bytes) {
		snprintf(err, errlen,
		         "migration stream ended early: round %d of %d incomplete, "
		         "%llu bytes received",
		         k + 1, rx->plan.rounds, (unsigned long long)rx->wire_bytes);
		goto out;
	}
	rx->trailer = strdup((char *)buf + 9);
	if (rx->trailer == NULL) {
		snprintf(err, errlen, "migration stream: out of memory");
		goto out;
	}
	rc = 0;
out:
	free(buf);
	return rc;
}

void sim_stream_rx_free(struct sim_stream_rx *rx)
{
	free(rx->header);
	free(rx->trailer);
	memset(rx, 0, sizeof(*rx));
}
