/* memtrim.h - the memory of a daemon that runs for months: what glibc's malloc keeps and
 * what its start-up left dirty, given back.
 *
 * memtrim_setup, first thing in main: when the heap has no room for a block of 64 KiB
 * or more, the block is mapped apart, and freeing it gives it back (left to itself,
 * glibc raises that threshold to the largest block ever freed: a 1 MiB read buffer
 * makes every later big block a part of the heap for good); the top of the heap is
 * given back past 64 KiB free, down to 16 KiB (the defaults keep up to 256 KiB).
 *
 * memtrim_after_start, once the start-up is over: the heap's free pages go back (what
 * the settings, the rules file and the first messages took is spread over it). */
#ifndef VMC_MEMTRIM_H
#define VMC_MEMTRIM_H

void memtrim_setup(void);
void memtrim_after_start(void);

#endif
