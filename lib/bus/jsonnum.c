/* jsonnum.c - cJSON's number text, computed exactly with integer arithmetic.
 *
 * cJSON writes %1.15g, reads it back with sscanf and compares within DBL_EPSILON; if that
 * fails it writes %1.17g. For a finite d = m * 2^e (m < 2^53) whose %g is in fixed
 * notation, the digits come from q = m * 5^p, since d * 10^p = q * 2^(e + p): shifted
 * and rounded half to even, as glibc's printf rounds. The read back needs no strtod
 * either: the text is d + delta / (2^s * 10^p) with delta = n * 2^s - q, which is
 * delta / 5^p units of d's last place, and the double nearest to it is d plus that
 * rounded (5^p is odd: no ties), as long as d is not within a few units of a power of
 * two. Within DBL_EPSILON then means at most one unit off. Whatever falls outside
 * (huge, tiny, e notation, near a power of two) goes through printf as cJSON does. */
#include "jsonnum.h"

#include <float.h>
#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef __SIZEOF_INT128__ /* 64-bit targets; elsewhere printf does it all */
typedef unsigned __int128 u128;

static const uint64_t pow5[] = {1ULL,
                                5ULL,
                                25ULL,
                                125ULL,
                                625ULL,
                                3125ULL,
                                15625ULL,
                                78125ULL,
                                390625ULL,
                                1953125ULL,
                                9765625ULL,
                                48828125ULL,
                                244140625ULL,
                                1220703125ULL,
                                6103515625ULL,
                                30517578125ULL,
                                152587890625ULL,
                                762939453125ULL,
                                3814697265625ULL,
                                19073486328125ULL,
                                95367431640625ULL,
                                476837158203125ULL,
                                2384185791015625ULL,
                                11920928955078125ULL,
                                59604644775390625ULL};
#define POW5_MAX ((int)(sizeof pow5 / sizeof *pow5) - 1)

/* |d| = m * 2^e rounded to `digits` significant digits: n, and x its decimal exponent as
 * %e gives it (after rounding: 9.99..97 may give 10.0), from |d| * 10^p rounded */
struct rounded {
	uint64_t n;
	int x, p;
	__int128 delta; /* (|d| * 10^p rounded) * 2^s - m * 5^p, s = -e - p: 0 when exact */
};

static uint64_t pow10_of(int k)
{
	uint64_t v = 1;
	while (k-- > 0)
		v *= 10;
	return v;
}

enum fit { FIT, TOO_LONG, TOO_SHORT, OUT_OF_RANGE };

/* n for decimal exponent x: FIT, TOO_LONG or TOO_SHORT when x is not |d|'s exponent
 * (10^x <= |d| < 10^(x+1), judged on the exact value), or OUT_OF_RANGE when this code
 * cannot compute it (the caller then uses printf). */
static enum fit round_at(uint64_t m, int e, int digits, int x, struct rounded *r)
{
	int p = digits - 1 - x;
	if (p < 0 || p > POW5_MAX)
		return OUT_OF_RANGE;
	u128 q = (u128)m * pow5[p]; /* |d| * 10^p = q / 2^s */
	int s = -e - p;
	u128 t, n; /* |d| * 10^p: truncated, and rounded half to even */
	r->delta = 0;
	if (s <= 0) {
		if (-s >= 60 || (q >> (60 + s)) != 0)
			return TOO_LONG; /* 2^60 or more */
		t = n = q << -s;
	} else {
		if (s >= 110)
			return OUT_OF_RANGE;
		t = n = q >> s;
		u128 rem = q - (t << s), half = (u128)1 << (s - 1);
		if (rem > half || (rem == half && (n & 1)))
			n++;
		r->delta = (__int128)((n << s) - q);
	}
	if (t >= pow10_of(digits))
		return TOO_LONG;
	if (t < pow10_of(digits - 1))
		return TOO_SHORT;
	r->p = p;
	r->x = x;
	if (n == pow10_of(digits)) { /* rounded up to a digit more: 10^(x+1) */
		n /= 10;
		r->x = x + 1;
	}
	r->n = (uint64_t)n;
	return FIT;
}

/* Rounds |d| = m * 2^e to `digits` significant digits. 0, or -1 if %g would not write it
 * in fixed notation (exponent under -4 or from `digits` on) or it is out of range. */
static int round_digits(double absd, uint64_t m, int e, int digits, struct rounded *r)
{
	/* log10 may be one off near a power of ten */
	int x = (int)floor(log10(absd));
	for (int tries = 0; tries < 4; tries++) {
		enum fit f = round_at(m, e, digits, x, r);
		if (f == FIT)
			return r->x < -4 || r->x >= digits ? -1 : 0;
		if (f == OUT_OF_RANGE)
			return -1;
		x += f == TOO_LONG ? 1 : -1;
	}
	return -1;
}

/* The fixed notation %g writes for r: trailing zeros of the fraction dropped, and the
 * point with them if nothing is left of it. */
static size_t fixed_text(int neg, const struct rounded *r, int digits, char *out)
{
	char dig[24];
	uint64_t n = r->n;
	for (int i = digits - 1; i >= 0; i--, n /= 10)
		dig[i] = (char)('0' + n % 10);
	int ints = r->x + 1; /* digits before the point; 0 or less: "0." and zeros first */
	int last = digits - 1;
	while (last >= 0 && last >= ints && dig[last] == '0')
		last--;
	char *o = out;
	if (neg)
		*o++ = '-';
	if (ints > 0) {
		memcpy(o, dig, (size_t)ints);
		o += ints;
		if (last >= ints) {
			*o++ = '.';
			memcpy(o, dig + ints, (size_t)(last - ints + 1));
			o += last - ints + 1;
		}
	} else {
		*o++ = '0';
		*o++ = '.';
		for (int i = 0; i < -ints; i++)
			*o++ = '0';
		memcpy(o, dig, (size_t)(last + 1));
		o += last + 1;
	}
	*o = '\0';
	return (size_t)(o - out);
}

#define MANT_MIN (1ULL << 52)
#define MANT_EDGE 64 /* units of the last place: more than a text is ever off by */

/* The text of a finite d that is not a whole number below 10^15, or 0 when it is out of
 * this code's range (the caller then uses printf). */
static size_t exact_text(double d, char *out)
{
	double absd = fabs(d);
	int ex;
	double f = frexp(absd, &ex);
	uint64_t m = (uint64_t)ldexp(f, 53); /* exact: f has 53 bits */
	int e = ex - 53;
	struct rounded r;
	if (m < MANT_MIN + MANT_EDGE || m > 2 * MANT_MIN - MANT_EDGE || absd < 1e-5 ||
	    round_digits(absd, m, e, 15, &r) < 0)
		return 0;
	/* the double the text reads back as: m + k units, k = delta / 5^p to the nearest */
	u128 five = pow5[r.p];
	u128 a = (u128)(r.delta < 0 ? -r.delta : r.delta);
	u128 k = (2 * a + five) / (2 * five);
	if (k <= 1)
		return fixed_text(d < 0, &r, 15, out);
	if (round_digits(absd, m, e, 17, &r) < 0)
		return 0;
	return fixed_text(d < 0, &r, 17, out);
}
#endif

/* cJSON's way, through printf and sscanf: for what the exact path leaves. */
static size_t printf_text(double d, char *out)
{
	double test = 0;
	int n = snprintf(out, JSONNUM_MAX, "%1.15g", d);
	if (n < 0 || sscanf(out, "%lg", &test) != 1 ||
	    !(fabs(test - d) <= fmax(fabs(test), fabs(d)) * DBL_EPSILON))
		n = snprintf(out, JSONNUM_MAX, "%1.17g", d);
	if (n < 0 || n >= JSONNUM_MAX) { /* not for a finite double */
		strcpy(out, "null");
		return 4;
	}
	char point = *localeconv()->decimal_point;
	for (int i = 0; point != '.' && i < n; i++)
		if (out[i] == point)
			out[i] = '.';
	return (size_t)n;
}

/* The digits of an integer below 10^15 (%1.15g writes them as they are). */
static size_t int_text(int64_t v, char *out)
{
	char tmp[24];
	size_t n = 0, k = 0;
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		out[k++] = '-';
	while (n)
		out[k++] = tmp[--n];
	out[k] = '\0';
	return k;
}

size_t jsonnum_text(double d, char *out)
{
	if (isnan(d) || isinf(d)) {
		strcpy(out, "null");
		return 4;
	}
	if (d == 0) {
		strcpy(out, signbit(d) ? "-0" : "0");
		return signbit(d) ? 2 : 1;
	}
	if (fabs(d) < 1e15 && d == trunc(d))
		return int_text((int64_t)d, out);
#ifdef __SIZEOF_INT128__
	size_t n = exact_text(d, out);
	if (n)
		return n;
#endif
	return printf_text(d, out);
}
