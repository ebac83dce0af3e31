// SPDX-License-Identifier: MIT
/* The benchmarks' clock: monotonic seconds, as a double. */
#ifndef XPT_BENCH_CLOCK_H
#define XPT_BENCH_CLOCK_H

#include <time.h>

static inline double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

#endif
