/* jsonnum.h - a JSON number's text exactly as cJSON 1.7.15 (Debian 12) prints it, mostly
 * without printf and strtod: the sim's and Xen's CPU figures have many digits, and printf
 * with its check was most of the cost of a host's load message. Pure. */
#ifndef VMC_JSONNUM_H
#define VMC_JSONNUM_H

#include <stddef.h>

#define JSONNUM_MAX 32 /* bytes of the longest text, its NUL included */

/* Writes d into out (JSONNUM_MAX bytes, NUL-terminated) as cJSON_PrintUnformatted does:
 * null if it is not finite; else %1.15g if that text reads back (as sscanf "%lg" reads
 * it) within DBL_EPSILON of d, relative; else %1.17g; '.' as the decimal point whatever
 * the locale. Returns the length. */
size_t jsonnum_text(double d, char *out);

#endif
