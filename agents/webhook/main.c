/* vmc-webhook - POSTs one alert to a webhook: the helper vmc-hostd runs for an alert
 * rule's webhook, so that libcurl and what it brings (TLS, Kerberos, LDAP, SSH) are
 * mapped only for the second a POST takes, never by the agent itself.
 *
 *   vmc-webhook URL < alert.json
 *
 * Reads the JSON body (at most 1 MiB) from standard input and POSTs it to URL
 * (http:// or https:// only) as application/json, with a 10 s time limit. Exit
 * status 0 if the server answered, 1 if not (the reason on standard error), 2 on
 * a usage error. The argument is always the URL: there are no options. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BODY_MAX (1 << 20)

int main(int argc, char **argv)
{
	if (argc != 2 ||
	    (strncmp(argv[1], "http://", 7) != 0 && strncmp(argv[1], "https://", 8) != 0)) {
		fprintf(stderr, "usage: vmc-webhook http[s]://URL < body.json\n");
		return 2;
	}
	const char *url = argv[1];
	char *body = malloc(BODY_MAX + 1);
	if (!body) {
		fprintf(stderr, "vmc-webhook: out of memory\n");
		return 1;
	}
	size_t len = 0;
	ssize_t n;
	while (len < BODY_MAX && (n = read(STDIN_FILENO, body + len, BODY_MAX - len)) != 0) {
		if (n < 0) {
			perror("vmc-webhook: standard input");
			free(body);
			return 1;
		}
		len += (size_t)n;
	}
	body[len] = '\0';
	curl_global_init(CURL_GLOBAL_DEFAULT);
	CURL *c = curl_easy_init();
	CURLcode rc = CURLE_FAILED_INIT;
	if (c) {
		struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
		curl_easy_setopt(c, CURLOPT_URL, url);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
		curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
		curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
		rc = curl_easy_perform(c);
		curl_slist_free_all(hdr);
		curl_easy_cleanup(c);
	}
	curl_global_cleanup();
	free(body);
	if (rc != CURLE_OK) {
		fprintf(stderr, "vmc-webhook: %s: %s\n", url, curl_easy_strerror(rc));
		return 1;
	}
	return 0;
}
