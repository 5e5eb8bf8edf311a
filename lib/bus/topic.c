/* topic.c - building and matching topics under "vmc/<cluster>/". */
#include "topic.h"

#include "msg.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int topic_fmt(char *buf, size_t len, const char *cluster, const char *fmt, ...)
{
	if (!buf || len == 0 || !cluster)
		return -1;
	int n = snprintf(buf, len, "vmc/%s/", cluster);
	if (n < 0 || (size_t)n >= len)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(buf + n, len - (size_t)n, fmt, ap);
	va_end(ap);
	if (m < 0 || (size_t)m >= len - (size_t)n)
		return -1;
	return 0;
}

const char *topic_rest(const char *topic, const char *cluster)
{
	if (!topic || !cluster || strncmp(topic, "vmc/", 4) != 0)
		return NULL;
	size_t n = strlen(cluster);
	if (n == 0 || strncmp(topic + 4, cluster, n) != 0 || topic[4 + n] != '/')
		return NULL;
	return topic + 4 + n + 1;
}

int topic_segment(const char *s, int index, char *out, size_t len)
{
	if (!s || index < 0 || !out || len == 0)
		return -1;
	for (; index > 0; index--) {
		s = strchr(s, '/');
		if (!s)
			return -1;
		s++;
	}
	size_t n = strcspn(s, "/");
	if (n >= len)
		return -1;
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}

/* Length of the level starting at s. */
static size_t level_len(const char *s)
{
	return strcspn(s, "/");
}

int topic_matches(const char *filter, const char *topic)
{
	if (!filter || !topic || !*filter || !*topic)
		return 0;
	if (strpbrk(topic, "+#"))
		return 0;
	/* Wildcards at the first level do not match topics starting with '$' (MQTT 4.7.2). */
	if (topic[0] == '$' && (filter[0] == '+' || filter[0] == '#'))
		return 0;
	const char *f = filter, *t = topic;
	for (;;) {
		size_t fl = level_len(f), tl = level_len(t);
		if (fl == 1 && f[0] == '#')
			return f[1] == '\0'; /* '#' must be the last level */
		if (fl == 1 && f[0] == '+') {
			/* matches any one level, including an empty one */
		} else {
			if (memchr(f, '+', fl) || memchr(f, '#', fl))
				return 0; /* a wildcard inside a level: invalid filter */
			if (fl != tl || memcmp(f, t, fl) != 0)
				return 0;
		}
		f += fl;
		t += tl;
		if (*f == '\0' && *t == '\0')
			return 1;
		if (*f == '\0')
			return 0;
		/* filter has more levels */
		if (*t == '\0') {
			/* "a/#" matches "a": only a final "/#" may follow */
			return strcmp(f, "/#") == 0;
		}
		f++;
		t++;
	}
}

int topic_is_event(const char *rest)
{
	return rest && strncmp(rest, "event", 5) == 0 && (rest[5] == '\0' || rest[5] == '/');
}

int topic_sender(const char *rest, char *buf, size_t len)
{
	char a[VMC_NAME_MAX + 1], b[VMC_NAME_MAX + 1];
	if (!rest || len == 0)
		return 0;
	if (strncmp(rest, "host/", 5) == 0 || strncmp(rest, "guest/", 6) == 0) {
		if (topic_segment(rest, 0, b, sizeof b) < 0 ||
		    topic_segment(rest, 1, a, sizeof a) < 0)
			return 0;
		return snprintf(buf, len, "%s/%s", b, a) < (int)len;
	}
	if (strncmp(rest, "balance/", 8) == 0) {
		/* balance/<kind>/<sender>, balance/peer/<to>/<sender>, balance/hold/<sender>/<vm> */
		int peer = 0, hold = 0;
		if (topic_segment(rest, 1, a, sizeof a) == 0) {
			peer = strcmp(a, "peer") == 0;
			hold = strcmp(a, "hold") == 0;
		}
		if (topic_segment(rest, peer ? 3 : 2, a, sizeof a) < 0 ||
		    topic_segment(rest, peer || hold ? 4 : 3, b, sizeof b) == 0)
			return 0;
		return snprintf(buf, len, "host/%s", a) < (int)len;
	}
	if (strncmp(rest, "event/", 6) == 0 && rest[6])
		return snprintf(buf, len, "%s", rest + 6) < (int)len;
	return 0;
}

int topic_check_sender(const char *rest, const cJSON *msg, char *err, size_t errlen)
{
	char want[2 * VMC_NAME_MAX + 16];
	if (!topic_sender(rest, want, sizeof want))
		return 0;
	const char *field = "from";
	if (strncmp(rest, "event/host/", 11) == 0) {
		/* a host's events name it in "host": their "from" is a migration's source */
		field = "host";
		snprintf(want, sizeof want, "%s", rest + 11);
	}
	const cJSON *from = cJSON_GetObjectItemCaseSensitive(msg, field);
	if (cJSON_IsString(from) && strcmp(from->valuestring, want) == 0)
		return 0;
	snprintf(err, errlen, "%s: \"%.64s\" is not %s, whose topic it is (message ignored)", field,
	         cJSON_IsString(from) ? from->valuestring : "", want);
	return -1;
}
