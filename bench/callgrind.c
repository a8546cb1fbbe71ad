/* Valgrind client requests for bench/instructions.py, which loads this with
 * ctypes: callgrind counts only what runs between start() and stop(), and
 * dump() writes the count so far under a label, then starts it from zero.
 * Outside valgrind each call does nothing. */
#include <valgrind/callgrind.h>

void bench_start(void) { CALLGRIND_ZERO_STATS; CALLGRIND_START_INSTRUMENTATION; }
void bench_stop(void) { CALLGRIND_STOP_INSTRUMENTATION; }
void bench_dump(const char *label) { CALLGRIND_DUMP_STATS_AT(label); }
int bench_on_valgrind(void) { return RUNNING_ON_VALGRIND; }
