/* channel_run.h - one channel transfer for tests/bench/channel.c, included once per
 * implementation: CH(name) names its functions and types (chan_##name or the legacy
 * lchan_##name), CHT its connection type, RN(name) this instance's own names, and
 * CTX_NEW(loop, name, err, errlen) makes its context with the bench's credentials.
 * RN(run_channel)() returns the seconds the transfer took, or -1. */

struct RN(side) {
	struct evloop *loop;
	int done;
	int failed;
	pthread_t th;
	struct reader_arg r;
	int wfd;
};

static void RN(rx_ready)(struct CHT *c, void *ud)
{
	struct RN(side) *s = ud;
	int sv[2];
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	s->r.fd = sv[1];
	pthread_create(&s->th, NULL, reader, &s->r);
	CH(stream_to)(c, sv[0]);
}

static void RN(rx_end)(struct CHT *c, uint64_t bytes, void *ud)
{
	((struct RN(side) *)ud)->done = 1;
}

static void RN(any_close)(struct CHT *c, const char *why, void *ud)
{
	struct RN(side) *s = ud;
	fprintf(stderr, "bench: channel closed: %s\n", why);
	s->failed = s->done = 1;
}

static const struct CH(ops) RN(rx_ops) = {RN(rx_ready), NULL, RN(rx_end), NULL, RN(any_close)};

static void RN(rx_accept)(struct CHT *c, void *ud)
{
	CH(set_ops)(c, &RN(rx_ops), ud);
}

static void RN(tx_ready)(struct CHT *c, void *ud)
{
	struct RN(side) *s = ud;
	int sv[2];
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	s->wfd = sv[1];
	pthread_create(&s->th, NULL, writer, &s->wfd);
	CH(stream_from)(c, sv[0]);
}

static void RN(tx_eof)(struct CHT *c, void *ud)
{
	CH(stream_end)(c);
	CH(flush)(c, 10000);
	((struct RN(side) *)ud)->done = 1;
}

static const struct CH(ops) RN(tx_ops) = {RN(tx_ready), NULL, NULL, RN(tx_eof), RN(any_close)};

static double RN(run_channel)(void)
{
	int pfd[2];
	if (pipe(pfd) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		char err[256];
		struct RN(side) s = {.loop = evloop_new()};
		struct CH(ctx) *x = CTX_NEW(s.loop, "bench-rx", err, sizeof(err));
		int port = CH(listen)(x, "127.0.0.1", 0, RN(rx_accept), &s, err, sizeof(err));
		if (write(pfd[1], &port, sizeof(port)) != sizeof(port))
			_exit(1);
		while (!s.done)
			evloop_run_once(s.loop, 100);
		pthread_join(s.th, NULL);
		int ok = !s.failed && s.r.got == total_bytes;
		CH(ctx_free)(x);
		evloop_free(s.loop);
		_exit(ok ? 0 : 1);
	}
	int port;
	if (read(pfd[0], &port, sizeof(port)) != sizeof(port) || port <= 0)
		return -1;
	close(pfd[0]);
	close(pfd[1]);
	char err[256], addr[64];
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	struct RN(side) s = {.loop = evloop_new()};
	struct CH(ctx) *x = CTX_NEW(s.loop, "bench-tx", err, sizeof(err));
	int64_t t0 = evloop_mono_ms();
	struct CHT *c = CH(connect)(x, addr, &RN(tx_ops), &s, err, sizeof(err));
	if (!c)
		return -1;
	while (!s.done)
		evloop_run_once(s.loop, 100);
	double secs = wait_child(pid, t0);
	pthread_join(s.th, NULL);
	CH(ctx_free)(x);
	evloop_free(s.loop);
	return s.failed ? -1 : secs;
}
