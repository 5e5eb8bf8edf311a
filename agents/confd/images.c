/* images.c - base images for vm.create and image.fetch: fetch or find, verify, and tell
 * the cluster how a download goes (image.progress and image.fetched events). */
#include "confd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/core/evloop.h"
#include "imagestore.h"
#include "../../lib/core/workpool.h"

#define PROGRESS_MIN_MS 250

struct progress_note {
	char image[IMGSTORE_NAME_MAX + 1];
	uint64_t bytes, total;
};

int images_is_url(const char *ref)
{
	return strncmp(ref, "http://", 7) == 0 || strncmp(ref, "https://", 8) == 0;
}

/* Loop thread: one image.progress event. */
static void publish_progress(void *ud, const void *note, size_t len)
{
	struct confd *cd = ud;
	const struct progress_note *n = note;
	cJSON *f = cJSON_CreateObject();
	cJSON_AddStringToObject(f, "image", n->image);
	cJSON_AddNumberToObject(f, "bytes", (double)n->bytes);
	cJSON_AddNumberToObject(f, "total", (double)n->total);
	if (n->total)
		cJSON_AddNumberToObject(f, "percent", (double)(n->bytes * 100 / n->total));
	confd_event(cd, "image.progress", NULL, f);
}

/* Worker thread: curl's progress, thinned out to whole percents at most every 250 ms. */
static void on_progress(void *ud, const char *image, uint64_t bytes, uint64_t total)
{
	struct images_progress *p = ud;
	int64_t now = evloop_mono_ms();
	int pct = total ? (int)(bytes * 100 / total) : -1;
	int final = total && bytes >= total;
	if (bytes == p->last_bytes)
		return;
	if (!final && (pct == p->last_pct || now - p->last_ms < PROGRESS_MIN_MS))
		return;
	struct progress_note n = {.bytes = bytes, .total = total};
	snprintf(n.image, sizeof n.image, "%s", image);
	p->last_pct = pct;
	p->last_ms = now;
	p->last_bytes = bytes;
	workpool_post(p->cd->jobs, publish_progress, p->cd, &n, sizeof n);
}

int images_prepare(struct confd *cd, const char *ref, const char *sha256, const char *name,
                   const volatile int *cancel, struct images_progress *prog, char *out,
                   size_t outlen, struct imgstore_fetch_result *res, char *err, size_t errlen)
{
	memset(res, 0, sizeof *res);
	if (!images_is_url(ref)) {
		if (imgstore_local_image(cd->store, ref, out, outlen, err, errlen) < 0)
			return -1;
		res->reused = 1;
		if (!sha256[0])
			return 0;
		int v = imgstore_verify(cd->store, out, sha256, err, errlen);
		if (v == 1)
			snprintf(err, errlen, "image %s: not in the store", out);
		return v == 0 ? 0 : -1;
	}
	if (name) {
		if (imgstore_name_check(name, "image name", err, errlen) < 0)
			return -1;
		snprintf(out, outlen, "%s", name);
	} else if (imgstore_name_from_url(ref, out, outlen, err, errlen) < 0) {
		return -1;
	}
	prog->cd = cd;
	prog->last_pct = -1;
	struct imgstore_fetch_opts o = {
	    .url = ref,
	    .name = out,
	    .sha256 = sha256,
	    .progress = on_progress,
	    .ud = prog,
	    .max_attempts = cd->opts.fetch_attempts,
	    .cancel = cancel,
	};
	return imgstore_fetch(cd->store, &o, res, err, errlen);
}

void images_fetched_event(struct confd *cd, const char *image, const char *url, const char *sha256,
                          const struct imgstore_fetch_result *res)
{
	cJSON *f = cJSON_CreateObject();
	cJSON_AddStringToObject(f, "image", image);
	if (url)
		cJSON_AddStringToObject(f, "url", url);
	cJSON_AddNumberToObject(f, "bytes", (double)res->bytes);
	if (sha256 && *sha256)
		cJSON_AddStringToObject(f, "sha256", sha256);
	cJSON_AddBoolToObject(f, "reused", res->reused);
	cJSON_AddBoolToObject(f, "resumed", res->resumed);
	if (res->resumed)
		cJSON_AddNumberToObject(f, "resumed_from", (double)res->resumed_from);
	cJSON_AddNumberToObject(f, "attempts", res->attempts);
	confd_event(cd, "image.fetched", NULL, f);
}
