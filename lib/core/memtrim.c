/* memtrim.c - malloc's settings, and a trim of the heap after start-up (memtrim.h). */
#include "memtrim.h"

#include <malloc.h>

void memtrim_setup(void)
{
	mallopt(M_MMAP_THRESHOLD, 64 * 1024);
	mallopt(M_TRIM_THRESHOLD, 64 * 1024);
	mallopt(M_TOP_PAD, 16 * 1024);
}

void memtrim_after_start(void)
{
	malloc_trim(0);
}
