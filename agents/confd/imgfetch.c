/* imgfetch.c - downloads base images into the store with libcurl.
 *
 * A download goes to images/.NAME.part; a transfer that is cut off is
 * continued from the part's size with a Range request (CURLOPT_RESUME_FROM_LARGE),
 * up to max_attempts transfers. Only a file whose sha256 matches is renamed to
 * images/NAME. The image's lock (images/.NAME.lock) is held throughout, so two
 * requests for one image download it once. */
#include "imagestore.h"
#include "imagestore_int.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct xfer {
	int fd;
	const struct imgstore_fetch_opts *o;
	uint64_t offset; /* bytes in the part when this transfer began */
	uint64_t got;    /* bytes written by this transfer */
	int write_errno;
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;
	size_t len = size * nmemb, done = 0;
	while (done < len) {
		ssize_t n = write(x->fd, ptr + done, len - done);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			x->write_errno = errno;
			return 0; /* makes curl fail with CURLE_WRITE_ERROR */
		}
		done += (size_t)n;
	}
	x->got += len;
	return len;
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	struct xfer *x = ud;
	if (x->o->cancel && *x->o->cancel)
		return 1;
	if (x->o->progress)
		x->o->progress(x->o->ud, x->o->name, x->offset + x->got,
		               dltotal > 0 ? x->offset + (uint64_t)dltotal : 0);
	return 0;
}

/* Errors worth another transfer that continues where this one stopped. */
static int transient(CURLcode rc)
{
	static const CURLcode codes[] = {
	    CURLE_PARTIAL_FILE,       CURLE_RECV_ERROR, CURLE_SEND_ERROR,   CURLE_GOT_NOTHING,
	    CURLE_OPERATION_TIMEDOUT, CURLE_HTTP2,      CURLE_HTTP2_STREAM, CURLE_SSL_CONNECT_ERROR,
	};
	for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
		if (codes[i] == rc)
			return 1;
	return 0;
}

enum attempt { ATTEMPT_DONE, ATTEMPT_RETRY, ATTEMPT_RESTART, ATTEMPT_FAIL, ATTEMPT_FAIL_KEEP };

/* One transfer from the part's current size. */
static enum attempt transfer(struct xfer *x, const struct imgstore_fetch_opts *o, char *err,
                             size_t errlen)
{
	char cerr[CURL_ERROR_SIZE] = "";
	CURL *c = curl_easy_init();
	if (!c) {
		snprintf(err, errlen, "cannot set up libcurl");
		return ATTEMPT_FAIL;
	}
	curl_easy_setopt(c, CURLOPT_URL, o->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT,
	                 o->connect_timeout_s > 0 ? o->connect_timeout_s : 15L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME,
	                 o->stall_timeout_s > 0 ? o->stall_timeout_s : 30L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, x);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "vmc-confd/1");
	if (x->offset > 0)
		curl_easy_setopt(c, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)x->offset);
	CURLcode rc = curl_easy_perform(c);
	long status = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);

	const char *why = cerr[0] ? cerr : curl_easy_strerror(rc);
	if (rc == CURLE_OK)
		return ATTEMPT_DONE;
	if (x->write_errno) {
		int e = x->write_errno;
		snprintf(err, errlen, "writing images/.%s.part: %s%s", o->name, strerror(e),
		         e == ENOSPC || e == EDQUOT || e == EFBIG ? " (the store is full)" : "");
		return ATTEMPT_FAIL;
	}
	if (o->cancel && *o->cancel) {
		snprintf(err, errlen, "download of %s cancelled", o->url);
		return ATTEMPT_FAIL_KEEP;
	}
	if (rc == CURLE_HTTP_RETURNED_ERROR && status == 416 && x->offset > 0)
		return ATTEMPT_RESTART; /* the part may be complete or stale: the caller checks */
	if (rc == CURLE_RANGE_ERROR)
		return ATTEMPT_RESTART; /* the server ignores ranges: start again from 0 */
	if (rc == CURLE_HTTP_RETURNED_ERROR) {
		snprintf(err, errlen, "%s: HTTP error %ld%s", o->url, status,
		         status == 404   ? " (not found)"
		         : status == 403 ? " (forbidden)"
		                         : "");
		return ATTEMPT_FAIL;
	}
	snprintf(err, errlen, "%s: %s", o->url, why);
	return transient(rc) ? ATTEMPT_RETRY : ATTEMPT_FAIL;
}

static int restart_part(int fd, char *err, size_t errlen)
{
	if (ftruncate(fd, 0) < 0 || lseek(fd, 0, SEEK_SET) < 0) {
		snprintf(err, errlen, "cannot truncate the partial download: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static void pause_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Hashes the finished part; renames it into place if it matches. Returns 0, 1 on a mismatch
 * (err says so), -1 on another error. */
static int finish(struct imgstore *s, int fd, const char *part, const struct imgstore_fetch_opts *o,
                  const char *want, uint64_t *size, char *err, size_t errlen)
{
	int dfd = imgstore_dirfd(s, IMGSTORE_IMAGES);
	char sha[IMGSTORE_SHA256_HEX + 1];
	struct stat st;
	if (fsync(fd) < 0) {
		int e = errno;
		snprintf(err, errlen, "images/%s: %s%s", part, strerror(e),
		         e == ENOSPC || e == EDQUOT ? " (the store is full)" : "");
		return -1;
	}
	if (imgstore_sha256_fd(fd, sha, err, errlen) < 0 || fstat(fd, &st) < 0)
		return -1;
	if (strcmp(sha, want) != 0) {
		snprintf(err, errlen,
		         "image %s from %s: sha256 mismatch: expected %s, got %s; the downloaded "
		         "file was removed",
		         o->name, o->url, want, sha);
		return 1;
	}
	if (renameat(dfd, part, dfd, o->name) < 0) {
		snprintf(err, errlen, "images/%s: cannot rename into place: %s", o->name,
		         strerror(errno));
		return -1;
	}
	fsync(dfd);
	imgstore_remember(s, &st, sha);
	*size = (uint64_t)st.st_size;
	return 0;
}

/* The name, sum and URL of a request; the sum is parsed into want. */
static int fetch_opts_check(const struct imgstore_fetch_opts *o, char *want, char *err,
                            size_t errlen)
{
	if (imgstore_name_check(o->name, "image name", err, errlen) < 0 ||
	    imgstore_sha256_parse(o->sha256, want, err, errlen) < 0)
		return -1;
	if (strncmp(o->url, "http://", 7) != 0 && strncmp(o->url, "https://", 8) != 0) {
		snprintf(err, errlen, "image URL \"%.200s\": expected http:// or https://", o->url);
		return -1;
	}
	return 0;
}

/* What images/NAME holds already, under the image's lock: 0 the wanted image (reused),
 * 1 nothing to keep (absent, or a bad file now removed): download it, -1 an error. */
static int existing_image(struct imgstore *s, const struct imgstore_fetch_opts *o, const char *want,
                          struct imgstore_fetch_result *res, char *err, size_t errlen)
{
	char e2[VMC_IMGSTORE_ERR];
	int dfd = imgstore_dirfd(s, IMGSTORE_IMAGES);
	int v = imgstore_verify_locked(s, o->name, want, &res->bytes, e2, sizeof e2);
	if (v == 0) {
		res->reused = 1;
		return 0;
	}
	if (v == 2) {
		/* Only verified downloads are renamed into images/, so the file there is an image
		 * some template (or the admin) vouched for: never replaced by another sum's. */
		snprintf(err, errlen,
		         "%s; images/%s is kept (another template's verified image, or one put "
		         "there by hand) and %s is not downloaded over it: fix the template's "
		         "sha256, or remove images/%s if nothing needs the old image any more",
		         e2, o->name, o->url, o->name);
		return -1;
	}
	if (v < 0 && unlinkat(dfd, o->name, 0) < 0 && errno != ENOENT) {
		snprintf(err, errlen,
		         "images/%s is not the wanted image (%s) and cannot be "
		         "removed: %s",
		         o->name, e2, strerror(errno));
		return -1;
	}
	return 1;
}

/* Transfers into the open part fd until the image is in place (0) or up to max_attempts
 * transfers failed (-1; *keep_part says whether the part is worth resuming). */
static int download(struct imgstore *s, int fd, const char *part,
                    const struct imgstore_fetch_opts *o, const char *want,
                    struct imgstore_fetch_result *res, int *keep_part, char *err, size_t errlen)
{
	char e2[VMC_IMGSTORE_ERR];
	int max = o->max_attempts > 0 ? o->max_attempts : 5, restarted = 0;
	for (;;) {
		struct stat st;
		if (fstat(fd, &st) < 0 || lseek(fd, st.st_size, SEEK_SET) < 0) {
			snprintf(err, errlen, "images/%s: %s", part, strerror(errno));
			return -1;
		}
		struct xfer x = {.fd = fd, .o = o, .offset = (uint64_t)st.st_size};
		if (x.offset > 0 && !res->resumed) {
			res->resumed = 1;
			res->resumed_from = x.offset;
		}
		res->attempts++;
		enum attempt a = transfer(&x, o, e2, sizeof e2);
		if (a == ATTEMPT_DONE || a == ATTEMPT_RESTART) {
			int f = finish(s, fd, part, o, want, &res->bytes, e2, sizeof e2);
			if (f == 0)
				return 0;
			if (f < 0) {
				snprintf(err, errlen, "image %s: %s", o->name, e2);
				return -1;
			}
			/* A mismatch after resuming may come from a stale part: start over once. */
			if ((res->resumed || a == ATTEMPT_RESTART) && !restarted &&
			    res->attempts < max) {
				restarted = 1;
				if (restart_part(fd, err, errlen) < 0)
					return -1;
				continue;
			}
			snprintf(err, errlen, "%s", e2);
			return -1;
		}
		if (a == ATTEMPT_FAIL || a == ATTEMPT_FAIL_KEEP) {
			*keep_part = a == ATTEMPT_FAIL_KEEP;
			snprintf(err, errlen, "image %s: %s", o->name, e2);
			return -1;
		}
		if (res->attempts >= max) {
			*keep_part = 1;
			snprintf(err, errlen, "image %s: %s (gave up after %d attempts)", o->name,
			         e2, res->attempts);
			return -1;
		}
		pause_ms(200L * res->attempts);
	}
}

/* After a failed download: a cut-off download is kept to be resumed (err says so); an empty
 * one, a bad one, or one that failed for any other reason is removed. */
static void drop_or_keep_part(int dfd, int fd, const char *part, int keep_part, char *err,
                              size_t errlen)
{
	struct stat st;
	if (!keep_part || fstat(fd, &st) < 0 || st.st_size == 0)
		unlinkat(dfd, part, 0);
	else {
		size_t l = strlen(err);
		snprintf(err + l, errlen > l ? errlen - l : 0,
		         "; kept %lld bytes in images/%s to resume", (long long)st.st_size, part);
	}
}

int imgstore_fetch(struct imgstore *s, const struct imgstore_fetch_opts *o,
                   struct imgstore_fetch_result *res, char *err, size_t errlen)
{
	char want[IMGSTORE_SHA256_HEX + 1];
	memset(res, 0, sizeof *res);
	if (fetch_opts_check(o, want, err, errlen) < 0)
		return -1;
	int lk = imgstore_lock_image(s, o->name, err, errlen);
	if (lk < 0)
		return -1;
	int dfd = imgstore_dirfd(s, IMGSTORE_IMAGES), fd = -1, rc = -1, keep_part = 0;
	char part[IMGSTORE_NAME_MAX + 16];
	snprintf(part, sizeof part, ".%s.part", o->name);

	int ex = existing_image(s, o, want, res, err, errlen);
	if (ex <= 0) {
		rc = ex;
		goto out;
	}
	fd = openat(dfd, part, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		snprintf(err, errlen, "images/%s: %s", part, strerror(errno));
		goto out;
	}
	rc = download(s, fd, part, o, want, res, &keep_part, err, errlen);
out:
	if (rc < 0 && fd >= 0)
		drop_or_keep_part(dfd, fd, part, keep_part, err, errlen);
	if (fd >= 0)
		close(fd);
	imgstore_unlock_image(s, o->name, lk);
	return rc;
}
