#pragma once
// The one fault-injection point, for tests of crash safety and restarts:
// setting RECL_CRASH_AT=<point> makes the process fail at that named point.
// Production code calls these at its few points; nothing happens unless the
// variable names the point.

namespace recl {

/// True the first time `point` is reached in this process while
/// $RECL_CRASH_AT names it; false otherwise (and every later time).
bool fault_at(const char* point);

/// Kills the process (SIGKILL, no cleanup) at `point` when $RECL_CRASH_AT
/// names it: what a power cut there would leave behind.
void crash_at(const char* point);

} // namespace recl
