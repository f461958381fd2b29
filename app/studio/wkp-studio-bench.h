/* wkp-studio-bench.h: `wav2kp-studio --bench startup|playback [FILE]`:
 * startup to the first painted window, and playback smoothness with every
 * view visible (frames delivered, frames skipped, longest main-loop gap). */
#pragma once

#include "wkp-studio-window.h"

G_BEGIN_DECLS

gboolean wkp_studio_bench_start (WkpStudioWindow *window, const char *what, const WkpOpenRequest *request,
                                 gint64 start_time_us);

G_END_DECLS
